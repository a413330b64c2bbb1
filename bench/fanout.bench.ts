/**
 * Fan-out benchmark (`npm run bench fanout`): the load of issue 11, the same for every server, in one run.
 *
 * Load: 10 symbols × 7 intervals = 70 candle rooms, one update per room per second (fanout-load.ts); each client
 * subscribes to the seven interval rooms of one symbol. Servers, each in its own process: the naive server (the
 * seed's JSON.stringify per client), Socket.IO 4 rooms, a `ws` server that serializes once per room update,
 * `tickwire gateway` fed over Redis as in production, and `tickwire all` fed by the simulator
 * (fanout-servers.ts). Clients run in child processes of their own (fanout-clients.ts); this process only
 * measures: the server's CPU (user and kernel) and RSS from /proc, connect times, deliveries, latency.
 *
 * Options (environment):
 *   BENCH_LOADS           clients per load, comma-separated (2000,5000); each subscribes to 7 rooms
 *   BENCH_SECONDS         measured seconds per server and load (15)
 *   BENCH_SERVERS         naive,socketio,ws-once,gateway,all
 *   BENCH_IDLE            idle connections for RSS per idle connection (10000; 0 skips)
 *   BENCH_IDLE_SERVERS    servers measured idle (naive,socketio,ws-once,gateway)
 *   BENCH_DEFLATE=1       also `tickwire gateway` with gateway.perMessageDeflate and clients offering it
 *   BENCH_CLIENT_PROCS    client processes (2); BENCH_CONNECT_BATCH: connections in flight per process (100)
 *   BENCH_CONNECT_TRIALS  cold starts whose connect bursts give connect p99 (5: four connect-only trials per
 *                         server, alternated between the servers, and the measured load's own burst)
 *   BENCH_SYMBOLS         symbols of the load (10); BENCH_ALL_VENUES (binance) for `tickwire all`
 *   BENCH_FEED           redis: the baselines are fed over Redis by the gateway's publisher (default, the same hops);
 *                         inprocess: each baseline publishes the load itself
 *   BENCH_TICKWIRE=dist   run the built CLI (bin/tickwire.js) instead of the sources through tsx
 *   BENCH_TICKWIRE_ROOT   the checkout whose `tickwire` runs (this one): another build measured by this harness
 *   BENCH_CPU_PROF_DIR    write a CPU profile (--cpu-prof) of each `tickwire` process into this directory
 *   BENCH_CONNECT_LOG     a directory: each load's connects (start, handshake done, last `initial`) as JSON
 *   BENCH_TICKWIRE_NODE_ARGS  diagnostic: more Node options for each `tickwire` process (e.g. --trace-gc);
 *                         BENCH_TICKWIRE_OUTPUT: a file that keeps its output
 *   BENCH_CONNECT_ROUNDS  diagnostic: n − 1 connect rounds in the same server process before the measured one
 *   BENCH_STALL_MS        stops the measured server process (SIGSTOP) this long, once, a third into the measured
 *                         window, then lets it go on (SIGCONT): a stalled event loop on demand (0: none)
 *   BENCH_REDIS_URL, BENCH_DATABASE_URL, BENCH_ALL_READY_MS, BENCH_SIM_TRADE_RATE
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { BENCH_INTERVALS, PERIOD_MS, symbolCount } from './fanout-load.ts';
import {
  SkipServer,
  startAllRole,
  startBaseline,
  startGatewayRole,
  type ServerUnderTest,
} from './fanout-servers.ts';
import { cpuSeconds, forkBench, request, rssBytes, sleep, startedAtMs, stop, stopAll } from './processes.ts';

function intOption(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${raw}`);
  return n;
}

function listOption(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const SERVERS = ['naive', 'socketio', 'ws-once', 'gateway', 'gateway+deflate', 'all'] as const;
type ServerName = (typeof SERVERS)[number];
const BASELINES = ['naive', 'socketio', 'ws-once'] as const;

interface Options {
  readonly loads: number[];
  readonly seconds: number;
  readonly servers: ServerName[];
  readonly idle: number;
  readonly idleServers: ServerName[];
  readonly clientProcs: number;
  readonly connectBatch: number;
  readonly connectTrials: number;
  readonly stallMs: number;
}

function options(): Options {
  const names = (list: string[]): ServerName[] => {
    for (const s of list)
      if (!(SERVERS as readonly string[]).includes(s))
        throw new RangeError(`unknown server "${s}" (one of ${SERVERS.join(', ')})`);
    return list as ServerName[];
  };
  const servers = names(listOption('BENCH_SERVERS', 'naive,socketio,ws-once,gateway,all'));
  if (process.env['BENCH_DEFLATE'] === '1' && !servers.includes('gateway+deflate')) {
    const at = servers.indexOf('gateway');
    servers.splice(at < 0 ? servers.length : at + 1, 0, 'gateway+deflate');
  }
  return {
    loads: listOption('BENCH_LOADS', '2000,5000').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`BENCH_LOADS: bad client count "${s}"`);
      return n;
    }),
    seconds: intOption('BENCH_SECONDS', 15, 3),
    servers,
    idle: intOption('BENCH_IDLE', 10_000),
    idleServers: names(listOption('BENCH_IDLE_SERVERS', 'naive,socketio,ws-once,gateway')),
    clientProcs: intOption('BENCH_CLIENT_PROCS', 2, 1),
    connectBatch: intOption('BENCH_CONNECT_BATCH', 100, 1),
    connectTrials: intOption('BENCH_CONNECT_TRIALS', 5, 1),
    stallMs: intOption('BENCH_STALL_MS', 0),
  };
}

function startServer(name: ServerName): Promise<ServerUnderTest> {
  switch (name) {
    case 'gateway':
      return startGatewayRole(false);
    case 'gateway+deflate':
      return startGatewayRole(true);
    case 'all':
      return startAllRole();
    default:
      return startBaseline(name);
  }
}

interface ClientReport {
  readonly received: number;
  readonly duplicates: number;
  readonly subscriptions: number;
  readonly closedEarly: number;
  readonly errors: number;
  readonly closeReason?: string;
  readonly errorText?: string;
  readonly latencyMax: number;
  readonly histogram: [number, number][];
  readonly spread: [string, [number, number]][];
}

interface Connected {
  readonly connectMs: number[];
  readonly failed: number;
  readonly error?: string;
  /** BENCH_CONNECT_LOG: each connect's [start (epoch ms), open, done] (ms after its start). */
  readonly log?: [number, number, number][];
}

/** The client processes of one measurement. */
class ClientFleet {
  private constructor(private readonly procs: ChildProcess[]) {}

  static async start(server: ServerUnderTest, count: number): Promise<ClientFleet> {
    const config = JSON.stringify({ url: server.url, kind: server.clientKind, deflate: server.deflate });
    const procs = Array.from({ length: count }, () => forkBench('fanout-clients.ts', [config]));
    const fleet = new ClientFleet(procs);
    try {
      await Promise.all(procs.map((p) => request(p, {}, 'ready', 60_000, 'client process')));
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  /** Connects `total` clients split over the processes; returns every connect time and the failures. */
  async connect(total: number, subscribe: boolean, batch: number): Promise<Connected> {
    const per = Math.ceil(total / this.procs.length);
    // A batch of `batch` per process is given up to 60 s (and each connection 30 s) before it counts as failed.
    const timeoutMs = 60_000 + Math.ceil(per / batch) * 60_000;
    const answers = await Promise.all(
      this.procs.map((p, i) =>
        request<{ connected: Connected }>(
          p,
          {
            cmd: 'connect',
            first: i * per,
            count: Math.max(0, Math.min(per, total - i * per)),
            subscribe,
            batch,
            timeoutMs: 30_000,
            log: process.env['BENCH_CONNECT_LOG'] !== undefined,
          },
          'connected',
          timeoutMs,
          'client process',
        ),
      ),
    );
    const connected = answers.map((a) => a.connected);
    const error = connected.find((c) => c.error !== undefined)?.error;
    return {
      connectMs: connected.flatMap((c) => c.connectMs),
      failed: connected.reduce((s, c) => s + c.failed, 0),
      ...(error !== undefined ? { error } : {}),
      log: connected.flatMap((c) => c.log ?? []),
    };
  }

  async all<T>(msg: object, key: string, timeoutMs = 60_000): Promise<T[]> {
    return Promise.all(this.procs.map((p) => request<T>(p, msg, key, timeoutMs, 'client process')));
  }

  async bytes(): Promise<number> {
    return (await this.all<{ bytes: number }>({ cmd: 'bytes' }, 'bytes')).reduce((s, a) => s + a.bytes, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map((p) =>
        request(p, { cmd: 'close' }, 'closed', 30_000, 'client process').catch(() => undefined),
      ),
    );
    await Promise.all(this.procs.map((p) => stop(p)));
  }
}

/** Log-bucket latency histogram (fanout-clients.ts): value of quantile q, ms. */
function histogramQuantile(buckets: Map<number, number>, q: number): number {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((s, [, c]) => s + c, 0);
  if (total === 0) return NaN;
  let seen = 0;
  for (const [b, c] of sorted) {
    seen += c;
    if (seen >= q * total) return Math.exp((b + 0.5) * Math.log(1.01)) - 1;
  }
  return NaN;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

interface Result {
  readonly server: string;
  readonly clients: number;
  readonly connected: number;
  readonly connectFailed: number;
  /** The median over the cold starts of `connectP99s` (the measured load's alone when there were no trials). */
  readonly connectP99: number;
  /** Each cold start's connect p99, the measured load's last. */
  readonly connectP99s: number[];
  /** The server's CPU from the first connection to the last `initial`, per connection, ms. */
  readonly cpuMsPerConnect: number;
  /** Tickwire: its longest event-loop delay while the clients connected and in the measured window, ms. */
  readonly loopMaxConnect: number;
  readonly loopMaxWindow: number;
  /** Tickwire: each cold start's longest event-loop delay while the clients connected, as `connectP99s`. */
  readonly loopMaxConnects: number[];
  readonly deliveriesPerSecond: number;
  /** Seq mode: deliveries expected in the window; NaN for real data. */
  readonly expected: number;
  readonly missed: number;
  readonly duplicated: number;
  readonly cpuUserPerM: number;
  readonly cpuKernelPerM: number;
  /** `all`: the CPU per million deliveries above what the process used with no client. */
  readonly cpuNetPerM: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly spreadP99: number;
  readonly spreadMax: number;
  readonly bytesPerDelivery: number;
  readonly rssPerSubscribedKiB: number;
  readonly updatesPerRoomSecond: number;
  readonly notes: string[];
}

async function measureLoad(server: ServerUnderTest, clients: number, o: Options): Promise<Result> {
  const notes: string[] = [];
  await connectRounds(server, clients, o);
  // Tickwire's /metrics is read before the client processes start, not just before the burst. This process's
  // first `fetch` loads Node's HTTP client: about 35 ms while it runs, then about 115 ms of V8's helper threads in
  // the next 300 ms. Read just before the burst, that fell into the gateway's first batch (no baseline has a
  // /metrics to read), on the two cores it and its clients share. The loop-delay readings start over at each
  // read: this one starts the connect phase's.
  await server.loopDelayMaxMs?.();
  const gc0 = await server.gcCounts?.();
  const fleet = await ClientFleet.start(server, o.clientProcs);
  try {
    const rssBefore = rssBytes(server.pid);
    const mainConnect0 = mainThreadCpuSeconds(server.pid);
    const cpuConnect0 = cpuSeconds(server.pid);
    const connected = await fleet.connect(clients, true, o.connectBatch);
    const cpuConnect1 = cpuSeconds(server.pid);
    const mainConnect1 = mainThreadCpuSeconds(server.pid);
    const loopMaxConnect = (await server.loopDelayMaxMs?.()) ?? NaN;
    const gc1 = await server.gcCounts?.();
    // The connect burst's cost without the client processes' share of the cores: the main thread's CPU, and the
    // collections it took (the young generation's growth, a full collection of start-up garbage).
    if (gc0 !== undefined && gc1 !== undefined)
      notes.push(
        `connect burst: main thread ${f((mainConnect1 - mainConnect0) * 1000, 0)} ms CPU, process ` +
          `${f((cpuConnect1.user + cpuConnect1.kernel - cpuConnect0.user - cpuConnect0.kernel) * 1000, 0)} ms; ` +
          `${gc1.minor - gc0.minor} scavenges, ${gc1.major - gc0.major} full collections, ` +
          `${f((gc1.seconds - gc0.seconds) * 1000, 1)} ms in collections (${gc1.minor} / ${gc1.major} since start)`,
      );
    writeConnectLog(server, clients, connected);
    if (connected.failed > 0)
      notes.push(`${connected.failed} connections failed (${connected.error ?? '?'})`);
    await sleep(2000);
    const rssLoaded = rssBytes(server.pid);
    // The measured window: whole seconds of the publish schedule, announced to the clients before they start.
    let tStart: number;
    let tEnd: number;
    let nStart = 0;
    if (server.mode === 'seq') {
      const { t0, n } = await server.now();
      nStart = n + 2;
      tStart = t0 + nStart * PERIOD_MS;
      tEnd = tStart + o.seconds * PERIOD_MS;
      await fleet.all({ cmd: 'window', mode: 'seq', nStart, nEnd: nStart + o.seconds }, 'window');
    } else {
      tStart = Date.now() + 1500;
      tEnd = tStart + o.seconds * PERIOD_MS;
      await fleet.all({ cmd: 'window', mode: 'state', tStart, tEnd }, 'window');
    }
    await sleep(tStart - Date.now());
    const cpu0 = cpuSeconds(server.pid);
    await server.loopDelayMaxMs?.();
    const bytes0 = await fleet.bytes();
    const waits = watchCoreWaits(server.pid);
    if (o.stallMs > 0) {
      await sleep(tStart + (tEnd - tStart) / 3 - Date.now());
      await stallProcess(server.pid, o.stallMs);
      notes.push(`server process stopped for ${o.stallMs} ms a third into the window (BENCH_STALL_MS)`);
    }
    await sleep(tEnd - Date.now());
    const waited = waits.stop();
    // A stall of the server's event loop that is waiting for a core shows here; a stopped process waits for none.
    notes.push(
      `server main thread waited for a core ${f(waited.totalMs)} ms in the window, at most ` +
        `${f(waited.maxStepMs)} ms in one ${WAIT_STEP_MS} ms step`,
    );
    const cpu1 = cpuSeconds(server.pid);
    const loopMaxWindow = (await server.loopDelayMaxMs?.()) ?? NaN;
    // Other work on the machine moves every figure: each server's window says how loaded it was.
    notes.push(`load average ${loadavg()[0]?.toFixed(1)} at the end of the measured window`);
    const bytes1 = await fleet.bytes();
    const windowSeconds = (tEnd - tStart) / 1000;
    // What was published in the window and is still on its way.
    await sleep(3000);
    const reports = (await fleet.all<{ report: ClientReport }>({ cmd: 'report' }, 'report')).map(
      (r) => r.report,
    );
    const received = reports.reduce((s, r) => s + r.received, 0);
    const duplicated = reports.reduce((s, r) => s + r.duplicates, 0);
    const subscriptions = reports.reduce((s, r) => s + r.subscriptions, 0);
    const closedEarly = reports.reduce((s, r) => s + r.closedEarly, 0);
    if (closedEarly > 0)
      notes.push(
        `${closedEarly} clients closed by the server (${reports.find((r) => r.closeReason)?.closeReason})`,
      );
    const errors = reports.reduce((s, r) => s + r.errors, 0);
    if (errors > 0) notes.push(`${errors} error messages (${reports.find((r) => r.errorText)?.errorText})`);
    const buckets = new Map<number, number>();
    for (const r of reports) for (const [b, c] of r.histogram) buckets.set(b, (buckets.get(b) ?? 0) + c);
    const spreads = new Map<string, [number, number]>();
    for (const r of reports)
      for (const [key, [first, last]] of r.spread) {
        const s = spreads.get(key);
        if (s === undefined) spreads.set(key, [first, last]);
        else spreads.set(key, [Math.min(s[0], first), Math.max(s[1], last)]);
      }
    const spreadSorted = [...spreads.values()].map(([a, b]) => b - a).sort((a, b) => a - b);
    const expected = server.mode === 'seq' ? subscriptions * o.seconds : NaN;
    const distinct = received - duplicated;
    const cpuUser = cpu1.user - cpu0.user;
    const cpuKernel = cpu1.kernel - cpu0.kernel;
    const perM = (seconds: number): number => (received > 0 ? (seconds / received) * 1e6 : NaN);
    const idle = server.idleCpuPerSecond;
    return {
      server: server.name,
      clients,
      connected: connected.connectMs.length,
      connectFailed: connected.failed,
      connectP99: quantile(
        [...connected.connectMs].sort((a, b) => a - b),
        0.99,
      ),
      connectP99s: [],
      loopMaxConnects: [],
      cpuMsPerConnect:
        connected.connectMs.length > 0
          ? ((cpuConnect1.user + cpuConnect1.kernel - cpuConnect0.user - cpuConnect0.kernel) * 1000) /
            connected.connectMs.length
          : NaN,
      loopMaxConnect,
      loopMaxWindow,
      deliveriesPerSecond: received / windowSeconds,
      expected,
      missed: server.mode === 'seq' ? expected - distinct : NaN,
      duplicated,
      cpuUserPerM: perM(cpuUser),
      cpuKernelPerM: perM(cpuKernel),
      cpuNetPerM: idle === undefined ? NaN : perM(cpuUser + cpuKernel - idle * windowSeconds),
      p50: histogramQuantile(buckets, 0.5),
      p99: histogramQuantile(buckets, 0.99),
      max: server.mode === 'seq' ? Math.max(...reports.map((r) => r.latencyMax)) : NaN,
      spreadP99: quantile(spreadSorted, 0.99),
      spreadMax: spreadSorted[spreadSorted.length - 1] ?? NaN,
      bytesPerDelivery: received > 0 ? (bytes1 - bytes0) / received : NaN,
      rssPerSubscribedKiB: (rssLoaded - rssBefore) / Math.max(1, connected.connectMs.length) / 1024,
      updatesPerRoomSecond: subscriptions > 0 ? received / subscriptions / windowSeconds : NaN,
      notes,
    };
  } finally {
    await fleet.stop();
  }
}

/**
 * BENCH_CONNECT_ROUNDS=n (a diagnostic, off by default): before the measured load, n − 1 rounds in the same server
 * process of `clients` connecting, subscribing and closing again, each round's connect p99 printed. Shows how
 * much of the connect p99 is the process's first connects (code not yet compiled, first allocations) and how
 * much the steady cost. The measured load then meets a process warmed by them: not a figure for the tables.
 */
async function connectRounds(server: ServerUnderTest, clients: number, o: Options): Promise<void> {
  const rounds = intOption('BENCH_CONNECT_ROUNDS', 1, 1);
  for (let round = 1; round < rounds; round++) {
    const { connected, cpuMs, loopMax } = await connectBurst(server, clients, o);
    const sorted = [...connected.connectMs].sort((a, b) => a - b);
    console.log(
      `  ${server.name} round ${round}: connect p50 ${f(quantile(sorted, 0.5))} p99 ${f(quantile(sorted, 0.99))} ms, ` +
        `CPU ${f(cpuMs / Math.max(1, sorted.length), 2)} ms/connect, loop max ${f(loopMax)} ms, ` +
        `${connected.failed} failed, load average ${loadavg()[0]?.toFixed(1)}`,
    );
    await sleep(2000);
  }
}

/**
 * A connect burst of `clients` in client processes of its own, closed after it: the connects, the server's CPU
 * over the burst (ms) and its longest loop delay meanwhile.
 */
async function connectBurst(
  server: ServerUnderTest,
  clients: number,
  o: Options,
): Promise<{ connected: Connected; cpuMs: number; loopMax: number }> {
  // As in measureLoad: /metrics is read before the client processes start, and starts the loop-delay reading.
  await server.loopDelayMaxMs?.();
  const fleet = await ClientFleet.start(server, o.clientProcs);
  try {
    const cpu0 = cpuSeconds(server.pid);
    const connected = await fleet.connect(clients, true, o.connectBatch);
    const cpu1 = cpuSeconds(server.pid);
    const loopMax = (await server.loopDelayMaxMs?.()) ?? NaN;
    writeConnectLog(server, clients, connected);
    return { connected, cpuMs: (cpu1.user + cpu1.kernel - cpu0.user - cpu0.kernel) * 1000, loopMax };
  } finally {
    await fleet.stop();
  }
}

/** One connect-only cold start of a server: its burst's p99, server CPU per connect and longest loop delay. */
interface ConnectTrial {
  readonly p99: number;
  readonly cpuMsPerConnect: number;
  readonly loopMax: number;
}

/**
 * Connect p99 over cold starts. The p99 of one burst is the 20th slowest of 2,000 connects, and the slowest come
 * in clusters (one batch that met a collection, a compile, another process on the cores), so one burst's figure
 * moves by a quarter from run to run for the same server ("Connect p99", docs/PERFORMANCE.md), and the goal
 * compares against the best of three such figures. So each server is also started `connectTrials − 1` more times
 * before the measured loads, the servers alternated (each trial in a rotated order), and each fresh process
 * takes the load's connect burst while its feed runs, then is stopped. `all` is left out: its start waits for
 * its venue's history (10–12 s), and no goal compares its connects.
 */
async function connectTrials(
  names: readonly ServerName[],
  clients: number,
  o: Options,
): Promise<Map<ServerName, ConnectTrial[]>> {
  const trials = new Map<ServerName, ConnectTrial[]>();
  const servers = names.filter((n) => n !== 'all');
  for (let t = 0; t < o.connectTrials - 1; t++) {
    const order = servers.map((_, i) => servers[(i + t) % servers.length] as ServerName);
    for (const name of order) {
      try {
        await withServer(name, async (server) => {
          const trial = await connectTrial(server, clients, o);
          trials.set(name, [...(trials.get(name) ?? []), trial]);
        });
      } catch (err) {
        console.log(`  ${name} connect trial ${t + 1}: failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  return trials;
}

async function connectTrial(server: ServerUnderTest, clients: number, o: Options): Promise<ConnectTrial> {
  const { connected, cpuMs, loopMax } = await connectBurst(server, clients, o);
  // A trial whose connects failed has no p99 to compare: it is reported and left out.
  if (connected.failed > 0)
    throw new Error(`${connected.failed} connections failed (${connected.error ?? '?'})`);
  return {
    p99: quantile(
      [...connected.connectMs].sort((a, b) => a - b),
      0.99,
    ),
    cpuMsPerConnect: cpuMs / Math.max(1, connected.connectMs.length),
    loopMax,
  };
}

/**
 * The measured load's result with its server's connect trials: connect p99 and CPU per connect become the median
 * over every cold start, the longest loop delay while connecting the longest of any.
 */
function withTrials(result: Result, trials: readonly ConnectTrial[]): Result {
  const p99s = [...trials.map((t) => t.p99), result.connectP99].filter(Number.isFinite);
  const cpus = [...trials.map((t) => t.cpuMsPerConnect), result.cpuMsPerConnect].filter(Number.isFinite);
  const loops = [...trials.map((t) => t.loopMax), result.loopMaxConnect].filter(Number.isFinite);
  return {
    ...result,
    connectP99: median(p99s),
    connectP99s: p99s,
    loopMaxConnects: loops,
    cpuMsPerConnect: median(cpus),
    loopMaxConnect: loops.length > 0 ? Math.max(...loops) : NaN,
  };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * BENCH_CONNECT_LOG: writes the load's connects with the server process's start time, to see when the slow ones
 * happen (at the start of the process's life, in one stretch, at ticks).
 */
function writeConnectLog(server: ServerUnderTest, clients: number, connected: Connected): void {
  const dir = process.env['BENCH_CONNECT_LOG'];
  if (dir === undefined || connected.log === undefined) return;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${server.name}-${clients}-${Date.now()}.json`);
  const processStart = startedAtMs(server.pid);
  writeFileSync(
    file,
    JSON.stringify({ server: server.name, clients, processStart, connects: connected.log }),
  );
  console.log(`  ${server.name}: connect log in ${file}`);
}

/** RSS growth per connection with `count` idle connections (connected, no subscription), KiB. */
async function measureIdle(server: ServerUnderTest, count: number, o: Options): Promise<number> {
  const fleet = await ClientFleet.start(server, o.clientProcs);
  try {
    await sleep(1000);
    const before = rssBytes(server.pid);
    const connected = await fleet.connect(count, false, o.connectBatch);
    if (connected.failed > 0)
      console.log(
        `  ${server.name}: ${connected.failed} idle connections failed (${connected.error ?? '?'})`,
      );
    await sleep(2000);
    return (rssBytes(server.pid) - before) / Math.max(1, connected.connectMs.length) / 1024;
  } finally {
    await fleet.stop();
  }
}

const WAIT_STEP_MS = 250;

/**
 * Time the process's main thread spent runnable but waiting for a core (/proc/<pid>/task/<pid>/schedstat, second
 * field, ns), read every WAIT_STEP_MS until stopped: the total and the most in one step, ms.
 */
function watchCoreWaits(pid: number): { stop(): { totalMs: number; maxStepMs: number } } {
  const read = (): number => {
    try {
      return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
    } catch {
      return NaN;
    }
  };
  const first = read();
  let last = first;
  let maxStepMs = 0;
  const timer = setInterval(() => {
    const now = read();
    maxStepMs = Math.max(maxStepMs, now - last);
    last = now;
  }, WAIT_STEP_MS);
  return {
    stop: () => {
      clearInterval(timer);
      const now = read();
      maxStepMs = Math.max(maxStepMs, now - last);
      return { totalMs: now - first, maxStepMs };
    },
  };
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU-seconds of the process's main thread (the event loop), without its GC helpers' and other threads'. */
function mainThreadCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

const f = (n: number, digits = 1): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
const ratio = (a: number, b: number): string => (Number.isFinite(a / b) ? `×${(a / b).toFixed(2)}` : '–');

function printLoad(clients: number, results: Result[], idle: Map<string, number>): void {
  console.log(`\n### ${clients.toLocaleString('en-US')} clients × ${BENCH_INTERVALS.length} rooms\n`);
  console.log(
    '| server | deliveries/s | missed | dup | CPU s/M user | kernel | total | connect p99 ms | CPU ms/connect | p50 ms | p99 ms | max ms | spread p99 / max ms | loop max ms connect / window | B/delivery | RSS KiB/sub conn | RSS KiB/idle conn |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const total = r.cpuUserPerM + r.cpuKernelPerM;
    const totalText = Number.isFinite(r.cpuNetPerM)
      ? `${f(total)} (${r.cpuNetPerM > 0 ? f(r.cpuNetPerM) : '–'} net)`
      : f(total);
    console.log(
      `| ${r.server} | ${f(r.deliveriesPerSecond, 0)} | ${Number.isFinite(r.missed) ? f(r.missed, 0) : 'n/a'} | ${f(r.duplicated, 0)} | ` +
        `${f(r.cpuUserPerM)} | ${f(r.cpuKernelPerM)} | ${totalText} | ${f(r.connectP99)} | ${f(r.cpuMsPerConnect, 2)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ` +
        `${f(r.spreadP99)} / ${f(r.spreadMax)} | ${f(r.loopMaxConnect)} / ${f(r.loopMaxWindow)} | ${f(r.bytesPerDelivery, 0)} | ${f(r.rssPerSubscribedKiB)} | ${f(idle.get(r.server) ?? NaN)} |`,
    );
  }
  for (const r of results) for (const note of r.notes) console.log(`- ${r.server}: ${note}`);
  for (const r of results)
    if (r.connectP99s.length > 1)
      console.log(
        `- ${r.server}: connect p99 ${f(r.connectP99)} ms, the median of ${r.connectP99s.length} cold starts ` +
          `(${r.connectP99s.map((v) => f(v)).join(', ')} ms; the measured load's last)` +
          (r.loopMaxConnects.length > 0
            ? `; longest loop delay while connecting ${r.loopMaxConnects.map((v) => f(v)).join(', ')} ms`
            : ''),
      );
  const all = results.find((r) => r.server === 'all');
  if (all)
    console.log(
      `- all: ${f(all.updatesPerRoomSecond, 2)} updates per room per second reached the clients (the simulator's data); ` +
        `missed: n/a (real data carries no sequence); p50/p99/max: n/a (no publish time in real data), see the spread`,
    );
  const cpu = (r: Result): number => r.cpuUserPerM + r.cpuKernelPerM;
  for (const name of ['gateway', 'all'] as const) {
    const tw = results.find((r) => r.server === name);
    if (!tw) continue;
    const parts = BASELINES.flatMap((b) => {
      const base = results.find((r) => r.server === b);
      return base
        ? [
            `${b}: CPU ${ratio(cpu(tw), cpu(base))}, connect p99 ${ratio(tw.connectP99, base.connectP99)}` +
              (name === 'gateway'
                ? `, p99 ${ratio(tw.p99, base.p99)}`
                : `, spread p99 ${ratio(tw.spreadP99, base.spreadP99)}`),
          ]
        : [];
    });
    if (parts.length > 0) console.log(`- ${name} / ${parts.join('; ')}`);
  }
  const plain = results.find((r) => r.server === 'gateway');
  const deflated = results.find((r) => r.server === 'gateway+deflate');
  if (plain && deflated)
    console.log(
      `- permessage-deflate: CPU per delivery ${ratio(cpu(deflated), cpu(plain))}, bytes on the wire per delivery ` +
        `${f(deflated.bytesPerDelivery, 0)} vs ${f(plain.bytesPerDelivery, 0)} (${ratio(deflated.bytesPerDelivery, plain.bytesPerDelivery)})`,
    );
  printGoals(results, idle);
  printAllGoals(results);
}

/** One goal's line: PASS, FAIL, or n/a when it could not be measured. */
function goal(ok: boolean | undefined, text: string): void {
  console.log(`- ${ok === undefined ? 'n/a ' : ok ? 'PASS' : 'FAIL'} ${text}`);
}

/** No stall above 50 ms under the load: while the clients connect (at every cold start) and in the window. */
function stallGoal(r: Result): void {
  const both = [r.loopMaxConnect, r.loopMaxWindow];
  goal(
    both.every(Number.isFinite) ? Math.max(...both) <= 50 : undefined,
    `no event-loop stall above 50 ms: longest delay ${f(r.loopMaxConnect)} ms while the clients connected` +
      `${r.connectP99s.length > 1 ? ` (${r.connectP99s.length} cold starts)` : ''}, ${f(r.loopMaxWindow)} ms in the window`,
  );
}

/** The event-loop goal holds for every Tickwire process under the load: `tickwire all` too. */
function printAllGoals(results: Result[]): void {
  const all = results.find((r) => r.server === 'all');
  if (!all) return;
  console.log('\nGoals (tickwire all):');
  stallGoal(all);
}

function printGoals(results: Result[], idle: Map<string, number>): void {
  const tw = results.find((r) => r.server === 'gateway');
  if (!tw) return;
  const cpu = (r: Result): number => r.cpuUserPerM + r.cpuKernelPerM;
  const find = (name: string): Result | undefined => results.find((r) => r.server === name);
  // A baseline that used no CPU in its window stalled (its figures say nothing): its goals are n/a.
  const measured = (r: Result | undefined): Result | undefined => (r && cpu(r) > 0 ? r : undefined);
  const naive = measured(find('naive'));
  const once = measured(find('ws-once'));
  const baselines = BASELINES.map((b) => measured(find(b))).filter((r): r is Result => r !== undefined);
  console.log('\nGoals (tickwire gateway):');
  goal(
    naive ? cpu(tw) <= cpu(naive) / 3 : undefined,
    `CPU per delivery ≤ 1/3 of naive: ${f(cpu(tw))} vs ${naive ? f(cpu(naive) / 3) : '–'} s/M`,
  );
  goal(
    once ? cpu(tw) < cpu(once) : undefined,
    `CPU per delivery below ws-once: ${f(cpu(tw))} vs ${once ? f(cpu(once)) : '–'} s/M`,
  );
  const bestConnect = Math.min(...baselines.map((r) => r.connectP99));
  goal(
    baselines.length > 0 ? tw.connectP99 <= bestConnect : undefined,
    `connect p99 no worse than the best baseline: ${f(tw.connectP99)} vs ${f(bestConnect)} ms` +
      `${tw.connectP99s.length > 1 ? ` (medians of ${tw.connectP99s.length} cold starts)` : ''}`,
  );
  const bestP99 = Math.min(...baselines.map((r) => r.p99));
  goal(
    baselines.length > 0 ? tw.p99 <= bestP99 : undefined,
    `p99 latency no worse than the best baseline: ${f(tw.p99)} vs ${f(bestP99)} ms`,
  );
  const idleKiB = idle.get('gateway');
  goal(
    idleKiB === undefined ? undefined : idleKiB * 1024 < 8000,
    `under 8 KB per idle connection: ${idleKiB === undefined ? 'not measured' : `${f((idleKiB * 1024) / 1000, 2)} KB`}`,
  );
  stallGoal(tw);
  goal(
    tw.missed === 0 && tw.duplicated === 0,
    `zero missed, zero duplicated: ${f(tw.missed, 0)} missed, ${f(tw.duplicated, 0)} duplicated`,
  );
}

/**
 * BENCH_STALL_MS: stops the process for `ms` and lets it go on. Its event loop runs nothing meanwhile, as in a long
 * stall of its own, while the bus and the clients' sockets keep their messages for it.
 */
async function stallProcess(pid: number, ms: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** Starts the server, runs `measure`, stops it; a server this build cannot run is skipped with a message. */
async function withServer(
  name: ServerName,
  measure: (server: ServerUnderTest) => Promise<unknown>,
): Promise<void> {
  let server: ServerUnderTest;
  try {
    server = await startServer(name);
  } catch (err) {
    if (!(err instanceof SkipServer)) throw err;
    console.log(`  ${name} skipped: ${err.message}`);
    return;
  }
  try {
    await measure(server);
  } finally {
    await server.close();
  }
}

function failedResult(server: string, clients: number, message: string): Result {
  return {
    server,
    clients,
    connected: 0,
    connectFailed: 0,
    connectP99: NaN,
    connectP99s: [],
    loopMaxConnects: [],
    cpuMsPerConnect: NaN,
    loopMaxConnect: NaN,
    loopMaxWindow: NaN,
    deliveriesPerSecond: NaN,
    expected: NaN,
    missed: NaN,
    duplicated: NaN,
    cpuUserPerM: NaN,
    cpuKernelPerM: NaN,
    cpuNetPerM: NaN,
    p50: NaN,
    p99: NaN,
    max: NaN,
    spreadP99: NaN,
    spreadMax: NaN,
    bytesPerDelivery: NaN,
    rssPerSubscribedKiB: NaN,
    updatesPerRoomSecond: NaN,
    notes: [`not measured: ${message}`],
  };
}

export async function bench(): Promise<void> {
  const o = options();
  console.log(
    `## Fan-out\n\n${symbolCount()} symbols × ${BENCH_INTERVALS.length} intervals, one update per room per second; ` +
      `loads ${o.loads.join(', ')} clients × ${BENCH_INTERVALS.length} rooms; ${o.seconds} s measured per server; ` +
      `${o.clientProcs} client processes; baselines fed ${process.env['BENCH_FEED'] === 'inprocess' ? 'in process' : 'over Redis, as the gateway'}.\n${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
      `${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at start ` +
      `${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  try {
    // Idle connections first, so that each load's table can be printed as soon as it is measured.
    const idle = new Map<string, number>();
    if (o.idle > 0) {
      for (const name of o.idleServers) {
        console.log(`- ${name}, ${o.idle} idle connections …`);
        try {
          await withServer(name, async (server) => idle.set(name, await measureIdle(server, o.idle, o)));
        } catch (err) {
          console.log(`  ${name} idle: failed: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    }
    for (const clients of o.loads) {
      if (o.connectTrials > 1)
        console.log(
          `- connect trials: ${o.connectTrials - 1} more cold start${o.connectTrials === 2 ? '' : 's'} per server ` +
            `(${o.connectTrials} in all), ${clients} clients × 7 …`,
        );
      const trials = o.connectTrials > 1 ? await connectTrials(o.servers, clients, o) : new Map();
      const results: Result[] = [];
      for (const name of o.servers) {
        console.log(`- ${name}, ${clients} clients × ${BENCH_INTERVALS.length} …`);
        try {
          await withServer(name, async (server) =>
            results.push(withTrials(await measureLoad(server, clients, o), trials.get(name) ?? [])),
          );
        } catch (err) {
          // One server that cannot be measured (saturated, failed to start) must not lose the others' figures.
          const message = (err as Error).message.split('\n')[0] ?? '';
          console.log(`  ${name} failed: ${message}`);
          results.push(failedResult(name, clients, message));
        }
      }
      printLoad(clients, results, idle);
    }
    console.log(
      `\nCPU s/M: server CPU-seconds per million deliveries (/proc/<pid>/stat of the server process over the ` +
        `measured seconds); connect p99 and CPU ms/connect (the server's CPU while the clients connected, per ` +
        `connection): the median over the cold starts (BENCH_CONNECT_TRIALS, ${o.connectTrials}; \`all\` one); ` +
        `p50/p99/max: publish-to-receive latency; spread: first to last client receiving one update; loop max: ` +
        `Tickwire's longest event-loop delay (its /metrics) while the clients connected (the longest of the cold ` +
        `starts) / in the window; RSS per idle connection with ${o.idle.toLocaleString('en-US')} idle connections.`,
    );
  } finally {
    await stopAll();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
