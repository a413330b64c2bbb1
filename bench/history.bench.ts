/**
 * History benchmark (`npm run bench history`): how long a client waits for `initial` with 1,000 bars, measured at the
 * WebSocket (subscribe sent → `initial` received), when the history comes from the gateway's memory tier, from the
 * embedded database in its worker thread (the default), from the embedded database in the server's own thread (the
 * former driver, as the baseline), from PostgreSQL (when it answers), and from PostgreSQL as the gateway role reads
 * it: behind memory that follows the bus and that each database read extends back. Each source runs in a server
 * process of its own (history-server.ts), one after the other in the same run, on the same burst of subscribes:
 * BENCH_HISTORY_SUBSCRIBES subscribes over BENCH_HISTORY_CONCURRENCY connections, each sending its next subscribe
 * when the previous `initial` arrived, rotating over BENCH_HISTORY_ROOMS rooms. Also reported: the server's
 * event-loop delay (perf_hooks monitorEventLoopDelay) and its CPU time during the burst.
 *
 * Options (environment): BENCH_HISTORY_SUBSCRIBES (500), BENCH_HISTORY_CONCURRENCY (10), BENCH_HISTORY_BARS
 * (1000), BENCH_HISTORY_ROOMS (10), BENCH_HISTORY_SOURCES (memory,pglite-worker,pglite-main,postgres,
 * gateway-postgres),
 * BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test), BENCH_HISTORY_NODE_ARGS (diagnostic: more Node options
 * for each server process, e.g. `--cpu-prof --cpu-prof-dir=DIR`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const SUBSCRIBES = Number(process.env['BENCH_HISTORY_SUBSCRIBES'] ?? 500);
const CONCURRENCY = Number(process.env['BENCH_HISTORY_CONCURRENCY'] ?? 10);
const BARS = Number(process.env['BENCH_HISTORY_BARS'] ?? 1000);
const ROOMS = Number(process.env['BENCH_HISTORY_ROOMS'] ?? 10);
const SOURCES = (
  process.env['BENCH_HISTORY_SOURCES'] ?? 'memory,pglite-worker,pglite-main,postgres,gateway-postgres'
).split(',');
/** Diagnostic: more Node options for each server process (e.g. --cpu-prof --cpu-prof-dir=DIR). */
const NODE_ARGS = (process.env['BENCH_HISTORY_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
/** Subscribes before the measured burst, so that start-up costs (JIT, first reads) stay out of it. */
const WARM_UP = 20;

const LABELS: Record<string, string> = {
  memory: 'memory tier',
  'pglite-worker': 'PGlite, worker thread (default)',
  'pglite-main': 'PGlite, server thread (former)',
  postgres: 'PostgreSQL',
  'gateway-postgres': 'PostgreSQL behind the gateway role’s memory',
};

interface Result {
  readonly source: string;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly delayMaxMs: number;
  readonly delayP99Ms: number;
  readonly cpuMsPerInitial: number;
}

function request<T>(child: ChildProcess, msg: object | undefined, key: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: Record<string, unknown>): void => {
      if (key in m || 'unavailable' in m) {
        child.off('message', onMessage);
        resolve(m as T);
      }
    };
    child.on('message', onMessage);
    if (msg) child.send(msg);
  });
}

/** One connection's subscribes, one after the other: the time from each subscribe to its `initial`, in ms. */
async function subscriber(
  url: string,
  symbols: readonly string[],
  first: number,
  count: number,
): Promise<number[]> {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  const times: number[] = [];
  let checked = false;
  for (let i = 0; i < count; i++) {
    const symbol = symbols[(first + i) % symbols.length] as string;
    const got = new Promise<string>((resolve) => {
      const onMessage = (data: Buffer): void => {
        const text = data.toString('utf8');
        if (!text.startsWith('{"type":"initial"')) return;
        ws.off('message', onMessage);
        resolve(text);
      };
      ws.on('message', onMessage);
    });
    const sent = performance.now();
    ws.send(JSON.stringify({ type: 'subscribe', symbol, interval: '1m', initialBars: BARS }));
    const text = await got;
    times.push(performance.now() - sent);
    if (!checked) {
      // Once per connection: the answer holds every bar asked for (parsing each would load the client side).
      const bars = (JSON.parse(text) as { bars: unknown[] }).bars.length;
      if (bars !== BARS) throw new Error(`initial held ${bars} bars, not ${BARS}`);
      checked = true;
    }
    ws.send(JSON.stringify({ type: 'unsubscribe', symbol, interval: '1m' }));
  }
  ws.close();
  return times;
}

/** `count` subscribes over `connections` connections at once; every latency, in ms. */
async function burst(
  url: string,
  symbols: readonly string[],
  count: number,
  connections: number,
): Promise<number[]> {
  const per = Math.ceil(count / connections);
  const runs = Array.from({ length: connections }, (_, c) =>
    subscriber(url, symbols, c, Math.min(per, count - c * per)),
  );
  return (await Promise.all(runs)).flat();
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function run(source: string): Promise<Result | string> {
  const child = fork(
    fileURLToPath(new URL('./history-server.ts', import.meta.url)),
    [source, String(BARS), String(ROOMS)],
    {
      execArgv: ['--import', 'tsx', ...NODE_ARGS],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  try {
    const ready = await request<{ port?: number; symbols?: string[]; unavailable?: string }>(
      child,
      undefined,
      'ready',
    );
    if (ready.unavailable !== undefined || ready.port === undefined || !ready.symbols) {
      return `unavailable: ${ready.unavailable ?? 'no answer'}`;
    }
    const url = `ws://127.0.0.1:${ready.port}/`;
    await burst(url, ready.symbols, WARM_UP, Math.min(CONCURRENCY, WARM_UP));
    await request(child, { cmd: 'burst' }, 'burst');
    const times = (await burst(url, ready.symbols, SUBSCRIBES, CONCURRENCY)).sort((a, b) => a - b);
    const { report } = await request<{ report: { delayMaxMs: number; delayP99Ms: number; cpuMs: number } }>(
      child,
      { cmd: 'report' },
      'report',
    );
    return {
      source,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      max: times[times.length - 1] ?? Number.NaN,
      delayMaxMs: report.delayMaxMs,
      delayP99Ms: report.delayP99Ms,
      cpuMsPerInitial: report.cpuMs / times.length,
    };
  } finally {
    const exited = once(child, 'exit');
    child.send({ cmd: 'stop' });
    await exited;
  }
}

const ms = (n: number): string => n.toFixed(1);

export async function bench(): Promise<void> {
  const results: Result[] = [];
  const skipped: string[] = [];
  for (const source of SOURCES) {
    const result = await run(source);
    if (typeof result === 'string') skipped.push(`${LABELS[source] ?? source}: ${result}`);
    else results.push(result);
  }
  const memory = results.find((r) => r.source === 'memory');
  const inThread = results.find((r) => r.source === 'pglite-main');
  console.log(
    `\n### History: \`initial\` of ${BARS} bars, ${SUBSCRIBES} subscribes over ${CONCURRENCY} connections, ${ROOMS} rooms\n`,
  );
  console.log(
    '| history from | p50 ms | p99 ms | max ms | p99 ÷ memory | p99 ÷ PGlite in server thread | server loop delay max ms | loop delay p99 ms | server CPU ms per `initial` |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const ratio = (base: Result | undefined): string => (base ? (r.p99 / base.p99).toFixed(2) : '—');
    console.log(
      `| ${LABELS[r.source] ?? r.source} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${ratio(memory)} | ${ratio(inThread)} | ${ms(r.delayMaxMs)} | ${ms(r.delayP99Ms)} | ${r.cpuMsPerInitial.toFixed(2)} |`,
    );
  }
  for (const line of skipped) console.log(`\n- ${line}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bench();
