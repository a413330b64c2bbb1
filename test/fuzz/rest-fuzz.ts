/**
 * Fuzzes the gateway's HTTP routes with mutated query strings (GET /api/candles above all, and the source status
 * endpoints): every answer must be 200 with the documented body, or a documented 4xx with a JSON error, never a
 * 5xx, and what the documents say is an error must be one (docs/PROTOCOL.md, docs/ERRORS.md).
 */
import { Agent, request } from 'node:http';
import { INTERVALS } from '../../src/domain/interval.ts';
import type { Finding, FuzzTarget } from './gateway-fuzz.ts';
import { barProblem, HISTORY_ERROR_CODES } from './protocol-oracle.ts';
import { Random } from './random.ts';

const SOURCE_PATHS = ['/api/websocket/health', '/api/websocket/sources', '/api/websocket/active-source'];
const OTHER_PATHS = ['/health', '/health/ws-stats', '/api/', '/api/candles/', '/API/candles', '/nothing'];

interface HttpCase {
  readonly method: string;
  readonly path: string;
  /** The query as sent (after `?`), already URL-safe. */
  readonly query: string;
}

function enc(value: string): string {
  return encodeURIComponent(value);
}

function symbolValue(r: Random, symbols: readonly string[]): string {
  const s = r.pick(symbols);
  return r.pick([
    enc(s),
    enc(s),
    s,
    s.replace('/', '%2f'),
    enc(s.toLowerCase()),
    'BTC%2FUSDT%00',
    '%E0%A4%A',
    '%zz',
    '',
  ]);
}

function intervalValue(r: Random): string {
  return r.chance(0.8)
    ? enc(r.pick(INTERVALS))
    : r.pick(['1d', '10m', '%201m', '1m%20', '', 'undefined', '1m%00']);
}

function limitValue(r: Random): string {
  return r.pick([
    String(r.int(1, 5000)),
    String(r.int(1, 100)),
    '0',
    '5001',
    '-1',
    '1.5',
    '0x10',
    '%2010',
    '10%20',
    '1e2',
    '10.0',
    '%2B5',
    '',
    'NaN',
    'Infinity',
    '99999999999999999999',
    '1e400',
    '010',
    '%E2%80%8B5',
    'ten',
  ]);
}

function endValue(r: Random): string {
  const now = Date.now();
  return r.pick([
    String(now),
    String(now - r.int(0, 1e9)),
    String(r.int(0, 1e13)),
    '0',
    '-1',
    '9999999999999999',
    '8640000000000001',
    '99999999999999999',
    enc(new Date(now - r.int(0, 1e9)).toISOString()),
    '2024-10-24',
    '2024-10-24T10%3A00%3A00Z',
    '2024-13-45',
    '275760-09-13',
    '%2B275760-09-13T00%3A00%3A00.000Z',
    'yesterday',
    '',
    '1e12',
    String(now) + '.5',
  ]);
}

/** One case: a path, a method and a query of mutated parameters. */
function nextCase(r: Random, symbols: readonly string[]): HttpCase {
  const roll = r.next();
  const path = roll < 0.75 ? '/api/candles' : roll < 0.93 ? r.pick(SOURCE_PATHS) : r.pick(OTHER_PATHS);
  const method = r.chance(0.9) ? 'GET' : r.pick(['HEAD', 'POST', 'DELETE', 'PUT', 'OPTIONS']);
  const params: string[] = [];
  if (r.chance(0.9)) params.push(`symbol=${symbolValue(r, symbols)}`);
  if (r.chance(0.85)) params.push(`interval=${intervalValue(r)}`);
  if (r.chance(0.6)) params.push(`limit=${limitValue(r)}`);
  if (r.chance(0.4)) params.push(`end=${endValue(r)}`);
  if (r.chance(0.1))
    params.push(r.pick(['symbol=', 'limit=1', 'interval', 'x=1', '=', '&&', 'a=' + 'x'.repeat(2000)]));
  for (let i = params.length - 1; i > 0 && r.chance(0.3); i--) {
    const j = r.int(0, i);
    [params[i], params[j]] = [params[j] as string, params[i] as string];
  }
  return { method, path, query: params.join('&') };
}

/** What URLSearchParams makes of the query (the gateway reads it the same standard way). */
function param(query: string, name: string): string | null {
  return new URLSearchParams(query).get(name);
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

function send(agent: Agent, port: number, c: HttpCase): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: '127.0.0.1', port, method: c.method, path: c.path + (c.query ? '?' + c.query : '') },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Why the answer to `c` is not what the documents say, or null. */
function judge(c: HttpCase, a: Answer, symbols: readonly string[], maxBars: number): string | null {
  if (a.status >= 500) return `status ${a.status}`;
  if (a.status === 429) return null; // documented API_RATE_LIMITED; the fuzz target's limit is high
  const head = c.method === 'HEAD';
  let body: Record<string, unknown> | unknown[] | undefined;
  if (!head) {
    if (!a.contentType.startsWith('application/json')) return `content-type ${a.contentType}`;
    try {
      body = JSON.parse(a.body) as Record<string, unknown>;
    } catch {
      return `body is not JSON: ${a.body.slice(0, 200)}`;
    }
  }
  const routes = ['/health', '/health/ws-stats', '/api/candles', ...SOURCE_PATHS];
  if (!routes.includes(c.path)) return a.status === 404 ? null : `unknown path answered ${a.status}`;
  if (c.method !== 'GET' && c.method !== 'HEAD')
    return a.status === 405 ? null : `${c.method} answered ${a.status}`;
  if (c.path === '/health')
    return a.status === 200 || a.status === 503 ? null : `/health answered ${a.status}`;
  if (c.path === '/health/ws-stats') return a.status === 200 ? null : `ws-stats answered ${a.status}`;
  const symbol = param(c.query, 'symbol');
  if (SOURCE_PATHS.includes(c.path)) {
    const wantStatus = symbol === null || symbols.includes(symbol) ? 200 : 404;
    return a.status === wantStatus ? null : `expected ${wantStatus}, got ${a.status}`;
  }
  // GET /api/candles, checks in the documented order.
  const interval = param(c.query, 'interval');
  const limit = param(c.query, 'limit');
  const end = param(c.query, 'end');
  const errorCode = (): string | undefined =>
    head ? undefined : ((body as { error?: { code?: unknown } }).error?.code as string | undefined);
  /** The documented verdict of `end`: a time within the range of a date, or INVALID_END. */
  const endVerdict = (): string | null => {
    if (end === null) return null;
    const digits = /^\d{1,16}$/.test(end);
    const ms = digits ? Number(end) : /^\d{4}-\d{2}-\d{2}/.test(end) ? Date.parse(end) : NaN;
    return Number.isFinite(ms) && !Number.isNaN(new Date(ms).getTime()) ? null : 'INVALID_END';
  };
  let want: string | null;
  if (symbol === null || !symbols.includes(symbol)) want = 'INVALID_SYMBOL';
  else if (interval === null || !(INTERVALS as readonly string[]).includes(interval))
    want = 'INVALID_INTERVAL';
  else if (limit !== null && !(/^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= maxBars))
    want = 'INVALID_LIMIT';
  else want = endVerdict();
  if (a.status !== 200 && a.status !== 400) return `status ${a.status} (${a.body.slice(0, 200)})`;
  if (head) {
    const ok = want === null ? a.status === 200 : a.status === 400;
    return ok ? null : `HEAD answered ${a.status}, expected ${want ?? '200'}`;
  }
  const got = a.status === 200 ? null : (errorCode() ?? `status ${a.status}`);
  if (got !== want) return `expected ${want ?? '200'}, got ${got ?? '200'}`;
  if (a.status === 400 && !head) {
    const e = (body as { error?: { code?: unknown; message?: unknown } }).error;
    if (!e || !HISTORY_ERROR_CODES.has(e.code as string) || typeof e.message !== 'string')
      return `bad error body ${a.body.slice(0, 200)}`;
  }
  if (a.status === 200 && !head) {
    const b = body as { symbol?: unknown; interval?: unknown; bars?: unknown };
    if (b.symbol !== symbol || b.interval !== interval || !Array.isArray(b.bars)) return 'bad history body';
    const most = limit === null ? Infinity : Number(limit);
    if (b.bars.length > most) return `${b.bars.length} bars for limit ${limit}`;
    for (const bar of b.bars) {
      const p = barProblem(bar);
      if (p) return `history bar: ${p}`;
    }
  }
  return null;
}

export interface RestFuzzRun {
  readonly cases: number;
  readonly seconds: number;
  readonly findings: readonly Finding[];
  readonly statuses: Readonly<Record<string, number>>;
}

/** Runs `cases` HTTP cases against the target, `concurrency` at a time. */
export async function runRestFuzz(
  target: FuzzTarget,
  options: { cases: number; seed: number; concurrency?: number },
): Promise<RestFuzzRun> {
  const started = performance.now();
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 8 });
  const r = new Random(options.seed);
  const findings: Finding[] = [];
  const statuses: Record<string, number> = {};
  const symbols = target.config.symbols;
  const maxBars = target.config.gateway.maxInitialBars;
  const cases = Array.from({ length: options.cases }, () => nextCase(r, symbols));
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency ?? 8 }, async () => {
      while (next < cases.length) {
        const caseNo = next++;
        const c = cases[caseNo] as HttpCase;
        const shown = `${c.method} ${c.path}${c.query ? '?' + c.query : ''}`.slice(0, 600);
        try {
          const a = await send(agent, target.gateway.port, c);
          statuses[a.status] = (statuses[a.status] ?? 0) + 1;
          const problem = judge(c, a, symbols, maxBars);
          if (problem) findings.push({ caseNo, problem, frames: [shown] });
        } catch (err) {
          findings.push({ caseNo, problem: `request failed: ${(err as Error).message}`, frames: [shown] });
        }
        for (const failure of target.failures.splice(0))
          findings.push({ caseNo, problem: failure, frames: [shown] });
      }
    }),
  );
  agent.destroy();
  return { cases: options.cases, seconds: (performance.now() - started) / 1000, findings, statuses };
}
