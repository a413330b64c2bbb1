/**
 * The servers the fan-out benchmark measures, each in processes of its own:
 * - the baselines (fanout-server.ts), fed over Redis by fanout-publisher.ts (`plain`) like the gateway, or
 *   publishing the load themselves with BENCH_FEED=inprocess;
 * - `tickwire gateway`, started through the CLI entry (src/apps/main.ts run by tsx, or bin/tickwire.js with
 *   BENCH_TICKWIRE=dist), fed over Redis by fanout-publisher.ts as an ingest feeds it in production;
 * - `tickwire all`, fed by `tickwire sim` on the symbols of the load: its own ingest parses the simulated venues'
 *   frames, builds the candles, writes them to its embedded database and fans them out, all in the measured
 *   process; the simulator runs in a process of its own and is not counted.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { SIM_HISTORY_READY } from '../src/sim/simulator.ts';
import { BENCH_INTERVALS, benchSymbols } from './fanout-load.ts';
import {
  cpuSeconds,
  forkBench,
  outputTail,
  request,
  sleep,
  spawnTracked,
  stop,
  waitForLine,
} from './processes.ts';

export interface ServerUnderTest {
  readonly name: string;
  /** The process whose CPU and memory are the server's. */
  readonly pid: number;
  readonly url: string;
  readonly clientKind: 'ws' | 'socketio';
  /** Whether the clients offer permessage-deflate. */
  readonly deflate: boolean;
  /** `seq`: the load carries sequence numbers and publish times; `state`: real data (`tickwire all`). */
  readonly mode: 'seq' | 'state';
  /** Seq mode: when second 0 of the schedule started, and the last second published. */
  now(): Promise<{ t0: number; n: number }>;
  /** CPU-seconds per second used before any client connected (measured for `all`, whose ingest never rests). */
  readonly idleCpuPerSecond?: number;
  /**
   * Tickwire: the longest event-loop delay since the previous call, ms (`tickwire_event_loop_delay_seconds`
   * max of GET /metrics, which starts over at each scrape); the baselines do not report it.
   */
  loopDelayMaxMs?(): Promise<number>;
  /** Tickwire: the collections since the process started (`nodejs_gc_duration_seconds_count` of /metrics). */
  gcCounts?(): Promise<GcCounts>;
  close(): Promise<void>;
}

/** Collections of a process so far: scavenges of the young generation, and mark-compacts of the whole heap. */
export interface GcCounts {
  readonly minor: number;
  readonly major: number;
  /** Seconds spent in them (`nodejs_gc_duration_seconds_sum`, every kind). */
  readonly seconds: number;
}

/** Thrown when a server cannot run in this build (a setting it needs is rejected): the run skips it. */
export class SkipServer extends Error {}

const READY_MS = 60_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/tickwire_bench';

export type BaselineKind = 'naive' | 'socketio' | 'ws-once';

interface Now {
  readonly now: { t0: number; n: number };
}

/**
 * A baseline server. Fed over Redis by its own publisher process (the default, BENCH_FEED=redis): the same
 * publisher and the same Redis hop as the gateway, so publish-to-receive latency compares servers, not feeds.
 * BENCH_FEED=inprocess: the server publishes the load itself, without the hops (the method of the earlier figures).
 */
export async function startBaseline(kind: BaselineKind): Promise<ServerUnderTest> {
  const feed = process.env['BENCH_FEED'] ?? 'redis';
  if (feed !== 'redis' && feed !== 'inprocess')
    throw new RangeError(`BENCH_FEED must be redis or inprocess, got ${feed}`);
  const prefix = `tickwire-bench-${process.pid}-${Date.now()}:`;
  const publisher =
    feed === 'redis' ? forkBench('fanout-publisher.ts', [REDIS_URL, prefix, 'plain']) : undefined;
  const child = forkBench('fanout-server.ts', publisher ? [kind, REDIS_URL, prefix] : [kind]);
  const clock = publisher ?? child;
  const closeAll = async (): Promise<void> => {
    await Promise.all([stop(child), publisher ? stop(publisher) : undefined]);
  };
  try {
    const [{ port }] = await Promise.all([
      request<{ port: number }>(child, {}, 'ready', READY_MS, kind),
      publisher ? request(publisher, {}, 'ready', READY_MS, 'publisher') : undefined,
    ]);
    return {
      name: kind,
      pid: child.pid as number,
      url: `ws://127.0.0.1:${port}/`,
      clientKind: kind === 'socketio' ? 'socketio' : 'ws',
      deflate: false,
      mode: 'seq',
      now: async () => (await request<Now>(clock, { cmd: 'now' }, 'now', 60_000, kind)).now,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The `tickwire` command: the CLI from source through tsx, or the built one (BENCH_TICKWIRE=dist). */
function tickwire(role: string, args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
  // BENCH_TICKWIRE_ROOT: another checkout's build (e.g. the main branch's), measured by this harness.
  const root = process.env['BENCH_TICKWIRE_ROOT'] ?? ROOT;
  const entry =
    process.env['BENCH_TICKWIRE'] === 'dist'
      ? [join(root, 'bin/tickwire.js')]
      : ['--import', 'tsx', join(root, 'src/apps/main.ts')];
  // A CPU profile of the measured process (Node refuses --cpu-prof in NODE_OPTIONS).
  const profileDir = process.env['BENCH_CPU_PROF_DIR'];
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // Diagnostics: more Node options for the measured process (e.g. --trace-gc), and its output kept in a file.
  const nodeArgs = (process.env['BENCH_TICKWIRE_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawnTracked(process.execPath, [...profile, ...nodeArgs, ...entry, role, ...args], env, root);
  const outputFile = process.env['BENCH_TICKWIRE_OUTPUT'];
  if (outputFile !== undefined) {
    const keep = (chunk: Buffer): void => appendFileSync(outputFile, chunk);
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }
  return child;
}

/** Our environment without anything that would configure Tickwire otherwise than the benchmark says. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(TICKWIRE_CONFIG|DATABASE_URL|REDIS_URL|REDIS_PREFIX|PORT|HOST|SYMBOLS|VENUES|DATA_DIR)$/.test(k))
      continue;
    if (/_(WS|REST)_URL$/.test(k)) continue;
    env[k] = v;
  }
  // Every client of the load comes from this one address: lift the per-address and total connection limits.
  return {
    ...env,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    MAX_CONNECTIONS: '100000',
    MAX_CONNECTIONS_PER_IP: '100000',
    ...extra,
  };
}

const API_LINE = /WebSocket API (ws:\/\/[^\s,]+)/;

/** Creates the benchmark's database once (the gateway reads its older history there; it stays empty). */
async function ensureDatabase(): Promise<void> {
  const url = new URL(DATABASE_URL);
  const name = url.pathname.slice(1);
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    throw new Error(`cannot prepare the benchmark database ${DATABASE_URL}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `tickwire gateway` fed over Redis; with `deflate`, configured with gateway.perMessageDeflate: true. */
export async function startGatewayRole(deflate: boolean): Promise<ServerUnderTest> {
  const name = deflate ? 'gateway+deflate' : 'gateway';
  await ensureDatabase();
  const prefix = `tickwire-bench-${process.pid}-${Date.now()}:`;
  const publisher = forkBench('fanout-publisher.ts', [REDIS_URL, prefix]);
  let gateway: ChildProcess | undefined;
  let configDir: string | undefined;
  const closeAll = async (): Promise<void> => {
    await Promise.all([gateway ? stop(gateway) : undefined, stop(publisher)]);
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  };
  try {
    await request(publisher, {}, 'ready', READY_MS, 'publisher');
    const extra: Record<string, string> = {
      REDIS_URL,
      REDIS_PREFIX: prefix,
      DATABASE_URL,
      SYMBOLS: benchSymbols().join(','),
    };
    if (deflate) {
      configDir = mkdtempSync(join(tmpdir(), 'tickwire-bench-'));
      const file = join(configDir, 'config.json');
      writeFileSync(file, JSON.stringify({ gateway: { perMessageDeflate: true } }));
      extra['TICKWIRE_CONFIG'] = file;
    }
    const child = tickwire('gateway', [], cleanEnv(extra));
    gateway = child;
    const output = outputTail(child);
    let url: string;
    try {
      url = (await waitForLine(child, API_LINE, READY_MS, name))[1] as string;
    } catch (err) {
      if (deflate && child.exitCode === 2 && /perMessageDeflate/.test(output()))
        throw new SkipServer(
          'gateway.perMessageDeflate is not a setting of this build (the configuration rejected it)',
        );
      throw new Error(`${(err as Error).message}\n${output()}`, { cause: err });
    }
    return {
      name,
      pid: child.pid as number,
      url,
      clientKind: 'ws',
      deflate,
      mode: 'seq',
      now: async () => (await request<Now>(publisher, { cmd: 'now' }, 'now', 60_000, 'publisher')).now,
      loopDelayMaxMs: () => loopDelayMaxMs(url),
      gcCounts: () => gcCounts(url),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

const LOOP_DELAY_MAX = /^tickwire_event_loop_delay_seconds\{[^}]*quantile="max"[^}]*\} (\S+)$/m;

/** The gateway's longest event-loop delay since the previous scrape of its /metrics, ms (NaN when absent). */
async function loopDelayMaxMs(wsUrl: string): Promise<number> {
  const url = new URL('/metrics', wsUrl.replace(/^ws/, 'http'));
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();
    const found = LOOP_DELAY_MAX.exec(text);
    return found ? Number(found[1]) * 1000 : NaN;
  } catch {
    return NaN;
  }
}

const GC_COUNT = /^nodejs_gc_duration_seconds_count\{[^}]*kind="(minor|major)"[^}]*\} (\S+)$/gm;
const GC_SECONDS = /^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm;

/** The gateway's collections so far, by kind (NaN when /metrics does not answer). */
async function gcCounts(wsUrl: string): Promise<GcCounts> {
  const url = new URL('/metrics', wsUrl.replace(/^ws/, 'http'));
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();
    const counts = { minor: 0, major: 0, seconds: 0 };
    for (const m of text.matchAll(GC_COUNT)) counts[m[1] as 'minor' | 'major'] += Number(m[2]);
    for (const m of text.matchAll(GC_SECONDS)) counts.seconds += Number(m[1]);
    return counts;
  } catch {
    return { minor: NaN, major: NaN, seconds: NaN };
  }
}

/** CPU-seconds per second of the process over `stepMs` readings, once two in a row agree within 25%. */
async function settledCpuRate(pid: number, stepMs: number, maxMs: number): Promise<number> {
  const total = (): number => {
    const c = cpuSeconds(pid);
    return c.user + c.kernel;
  };
  let previous = NaN;
  const until = Date.now() + maxMs;
  for (;;) {
    const before = total();
    await sleep(stepMs);
    const rate = (total() - before) / (stepMs / 1000);
    if (Math.abs(rate - previous) <= 0.25 * Math.max(rate, previous) || Date.now() >= until) return rate;
    previous = rate;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once a probe client has received an update of every room (every venue is live).
 */
async function untilLive(url: string, timeoutMs: number): Promise<void> {
  const symbols = benchSymbols();
  // One probe connection per symbol: seven subscribes each, within the per-connection message limit.
  const probes: WebSocket[] = [];
  const viaProbe = new Promise<void>((resolve, reject) => {
    const seen = new Set<string>();
    for (const symbol of symbols) {
      const probe = new WebSocket(url, { perMessageDeflate: false });
      probes.push(probe);
      probe.on('error', reject);
      probe.on('open', () => {
        for (const interval of BENCH_INTERVALS)
          probe.send(JSON.stringify({ type: 'subscribe', symbol, interval, initialBars: 0 }));
      });
      probe.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { type?: string; symbol?: string; interval?: string };
        if (msg.type !== 'update') return;
        seen.add(`${msg.symbol}:${msg.interval}`);
        if (seen.size === symbols.length * BENCH_INTERVALS.length) resolve();
      });
    }
  });
  const timeout = sleep(timeoutMs).then(() => {
    throw new Error(`tickwire all: not every room had an update within ${timeoutMs / 1000} s`);
  });
  try {
    await Promise.race([viaProbe, timeout]);
  } finally {
    for (const probe of probes) probe.terminate();
  }
}

/** `tickwire all` against `tickwire sim` (the symbols of the load on BENCH_ALL_VENUES). */
export async function startAllRole(): Promise<ServerUnderTest> {
  const symbols = benchSymbols().join(',');
  const venues = process.env['BENCH_ALL_VENUES'] ?? 'binance';
  const readyMs = Number(process.env['BENCH_ALL_READY_MS'] ?? 240_000);
  const simPort = await freePort();
  const simExtra: Record<string, string> = { SYMBOLS: symbols };
  const rate = process.env['BENCH_SIM_TRADE_RATE'];
  if (rate !== undefined) simExtra['TICKWIRE_SIM_TRADE_RATE'] = rate;
  const sim = tickwire('sim', ['--port', String(simPort)], cleanEnv(simExtra));
  const simOutput = outputTail(sim, 20_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-bench-all-'));
  let all: ChildProcess | undefined;
  const closeAll = async (): Promise<void> => {
    await Promise.all([all ? stop(all, 10_000) : undefined, stop(sim)]);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // Tickwire starts once the simulator has generated its history (its REST answers then come at once).
    await waitForLine(sim, new RegExp(`^${SIM_HISTORY_READY}`), READY_MS, 'tickwire sim').catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${simOutput()}`);
      },
    );
    const simEnv: Record<string, string> = {};
    for (const m of simOutput().matchAll(/^export (\w+)=(.*)$/gm)) {
      simEnv[m[1] as string] = (m[2] as string).replace(/^'(.*)'$/, '$1');
    }
    const child = tickwire(
      'all',
      [],
      cleanEnv({ ...simEnv, SYMBOLS: symbols, VENUES: venues, DATA_DIR: dataDir }),
    );
    all = child;
    const output = outputTail(child);
    // Every venue's history loaded: the process prints its readiness line. Until then it backfills history in the
    // background (60-77 % of a core for 10-12 s with `binance`), and the CPU measured would be that, not the
    // fan-out's.
    const historyLoaded = waitForLine(child, /^ready: all venues live/, readyMs, 'tickwire all').then(
      () => true,
      () => false,
    );
    const url = (
      await waitForLine(child, API_LINE, READY_MS, 'tickwire all').catch((err: Error) => {
        throw new Error(`${err.message}\n${output()}`);
      })
    )[1] as string;
    const started = Date.now();
    await untilLive(url, readyMs).catch((err: Error) => {
      throw new Error(`${err.message}\n${output()}`);
    });
    const seconds = (): string => ((Date.now() - started) / 1000).toFixed(0);
    console.log(`  tickwire all: every room live ${seconds()} s after start`);
    if (await historyLoaded)
      console.log(`  tickwire all: every venue's history loaded ${seconds()} s after start`);
    else
      console.log(`  tickwire all: history still loading after ${readyMs / 1000} s; measured while it loads`);
    // The process's own cost with no client (its ingest never rests), once it has settled after start-up: two
    // 5 s readings within 25% of each other, or the last of a minute of readings.
    const idleCpuPerSecond = await settledCpuRate(child.pid as number, 5000, 60_000);
    console.log(`  tickwire all: ${(idleCpuPerSecond * 100).toFixed(1)}% of a core with no client`);
    return {
      name: 'all',
      pid: child.pid as number,
      url,
      clientKind: 'ws',
      deflate: false,
      mode: 'state',
      idleCpuPerSecond,
      now: () => Promise.reject(new Error('tickwire all carries no benchmark sequence')),
      loopDelayMaxMs: () => loopDelayMaxMs(url),
      gcCounts: () => gcCounts(url),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
