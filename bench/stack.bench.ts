/**
 * Whole-stack benchmark (`stack` section): the demo's two halves as separate processes, so that each one's CPU and
 * memory are its own: `tickwire sim` (the four simulated venues) and `tickwire all` pointed at it, with a fresh
 * data directory. Measures the start-up (from spawning `tickwire all` to `/health` answering, to the first live
 * `update` on a WebSocket client, to `ready: all venues live`, i.e. every venue's history loaded for every
 * interval) and then the idle steady state with no client: CPU (user + system, from /proc/<pid>/stat over a
 * window) and RSS of each process; and the longest event-loop stall of `tickwire all` during start-up and idle
 * (Tickwire's `tickwire_event_loop_delay_seconds` max, scraped from /metrics every 5 s during start-up, and at the
 * start and the end of the idle window). Then, with those two stopped, the same start-up figures of `tickwire demo`
 * (the command `npm run demo` runs: the simulator in a child process of Tickwire, 10 nice levels below it, warming
 * its history from the start rather than before Tickwire starts). Prints markdown tables with the goals of issue 11
 * and PASS/FAIL.
 *
 * Options (environment): BENCH_SYMBOLS (10 USDT pairs; their USD counterparts are added for dYdX, as `tickwire
 * demo` does), BENCH_TRADE_RATE (the simulator's trades per second per instrument per venue; its default when
 * unset), BENCH_SETTLE_SECONDS (10, after the ready line and before measuring), BENCH_IDLE_SECONDS (120),
 * BENCH_READY_TIMEOUT_SECONDS (900), BENCH_TICKWIRE_ROOT (another checkout whose build runs). Runs the built CLI
 * (dist/, `npm run build`) when it exists, else the sources through tsx (which costs memory of its own; the table
 * says which). Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { SIM_HISTORY_READY } from '../src/sim/simulator.ts';

const DEFAULT_SYMBOLS =
  'BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT,ADA/USDT,AVAX/USDT,LINK/USDT,DOT/USDT,LTC/USDT';
const READY_LINE = 'ready: all venues live';

/** Goals of issue 11 ("Benchmarks": the whole demo stack idle, start-up). */
const GOALS = {
  tickwireCpuPercent: 5,
  tickwireRssMb: 300,
  /** "cheap enough that it does not distort a benchmark": no more than Tickwire's own idle budget. */
  simulatorCpuPercent: 5,
  healthSeconds: 3,
  firstLiveSeconds: 10,
  /** "no stall above 50 ms"; history loads without blocking the event loop. */
  maxStallMs: 50,
};

function option(name: string, fallback: number): number {
  const text = process.env[name];
  const value = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

/**
 * The CLI as node arguments: dist/ when built, else the sources through tsx. BENCH_TICKWIRE_ROOT: another
 * checkout's build (e.g. the main branch's), measured by this harness for a paired comparison.
 */
function tickwireCommand(): { args: string[]; kind: string } {
  const other = process.env['BENCH_TICKWIRE_ROOT'];
  const root = other ? pathToFileURL(join(other, '/')) : new URL('../', import.meta.url);
  const dist = fileURLToPath(new URL('dist/apps/main.js', root));
  if (existsSync(dist)) return { args: [dist], kind: other ? `${other} dist/ (built)` : 'dist/ (built)' };
  if (other) throw new Error(`BENCH_TICKWIRE_ROOT: no ${dist} (npm run build there)`);
  return {
    args: ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('src/apps/main.ts', root))],
    kind: 'sources through tsx',
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves with the first stdout line of `child` that `match` accepts (the child's whole stdout is kept). */
function lineFrom(child: ChildProcess, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      child.stdout?.off('data', onData);
      reject(new Error(`no matching line within ${timeoutMs} ms; stdout so far:\n${buffer.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: string): void => {
      buffer += chunk;
      for (const line of buffer.split('\n')) {
        if (!match(line)) continue;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(line);
        return;
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
  });
}

/** User + system CPU time of a process, seconds (/proc/<pid>/stat fields 14 and 15, in clock ticks). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Keeps the last few KB a child writes on stderr (its warnings), to show when the run fails. */
function tailOfStderr(child: ChildProcess, name: string, tails: Map<string, string>): void {
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tails.set(name, ((tails.get(name) ?? '') + chunk).slice(-4096));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface StartUp {
  healthS: number;
  firstLiveS: number;
  readyS: number;
  /** Longest event-loop stall of `tickwire all` from its start to the ready line, seconds. */
  maxStallS: number;
}

/**
 * The longest event-loop delay since the previous scrape of `/metrics`: Tickwire's own
 * `tickwire_event_loop_delay_seconds` max, or for a build without it prom-client's `nodejs_eventloop_lag_max_seconds`
 * less its check period; undefined when not answered.
 *
 * prom-client's figure is the longest time between two of `monitorEventLoopDelay`'s checks, which includes the
 * check period (10 ms, prom-client's default precision and Tickwire's STALL_CHECK_MS): in three scrapes compared
 * it read 10.0 ms more than Tickwire's own for the same turns, so a stall read 10 ms long. Tickwire's own maximum
 * subtracts the period, and also holds the turn its watch started in and the turn that served the previous read,
 * which prom-client's reset forgets.
 */
async function eventLoopMaxLag(port: number): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
  if (res === undefined) return undefined;
  const text = await res.text();
  const own = /^tickwire_event_loop_delay_seconds\{[^}]*quantile="max"[^}]*\} ([0-9.e+-]+)$/m.exec(text);
  if (own !== null) return Number(own[1]);
  const lag = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text);
  return lag === null ? undefined : Math.max(0, Number(lag[1]) - PROM_CLIENT_CHECK_PERIOD_S);
}

/** prom-client's event-loop check period (`eventLoopMonitoringPrecision`, its default), seconds. */
const PROM_CLIENT_CHECK_PERIOD_S = 0.01;

/**
 * Scrapes the event-loop lag every `everyMs` until `stop` is called; the largest seen. Each scrape costs the process
 * some CPU: the idle window scrapes only at its start (which restarts the histogram) and its end.
 */
function watchStalls(port: number, everyMs: number): { stop: () => Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const lag = await eventLoopMaxLag(port);
      if (lag !== undefined) max = Math.max(max, lag);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      const last = await eventLoopMaxLag(port);
      return Math.max(max, last ?? 0);
    },
  };
}

/** Polls /health (any status counts: the API answers) and, once it answers, waits for a live `update`. */
async function measureStartUp(
  all: ChildProcess,
  port: number,
  symbol: string,
  startedAt: number,
  timeoutMs: number,
): Promise<StartUp> {
  const seconds = (): number => (performance.now() - startedAt) / 1000;
  const ready = lineFrom(all, (l) => l.startsWith(READY_LINE), timeoutMs).then(seconds);
  let healthS: number | undefined;
  while (healthS === undefined) {
    if (performance.now() - startedAt > timeoutMs) throw new Error('/health never answered');
    const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
    if (res !== undefined) {
      await res.arrayBuffer();
      healthS = seconds();
    } else await sleep(50);
  }
  const stalls = watchStalls(port, 5000);
  const firstLiveS = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no live update'));
    }, timeoutMs);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', symbol, interval: '1m' })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type?: string };
      if (message.type !== 'update') return;
      clearTimeout(timer);
      ws.close();
      resolve(seconds());
    });
    ws.on('error', reject);
  });
  const readyS = await ready;
  return { healthS, firstLiveS, readyS, maxStallS: await stalls.stop() };
}

interface Idle {
  cpuPercent: number;
  rssMb: number;
  peakRssMb: number;
}

async function measureIdle(pids: readonly number[], seconds: number): Promise<Idle[]> {
  const before = pids.map(cpuSeconds);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  return pids.map((pid, i) => ({
    cpuPercent: ((cpuSeconds(pid) - (before[i] as number)) / elapsed) * 100,
    rssMb: rssMb(pid),
    peakRssMb: rssMb(pid, 'VmHWM'),
  }));
}

export async function bench(): Promise<void> {
  const base = (process.env['BENCH_SYMBOLS'] ?? DEFAULT_SYMBOLS).split(',').map((s) => s.trim());
  const symbols = [...new Set([...base, ...base.map((s) => s.replace(/\/USD[TC]$/, '/USD'))])];
  const settleS = option('BENCH_SETTLE_SECONDS', 10);
  // Two minutes hold a whole cycle of both processes' major collections (Tickwire's about once a minute, the
  // simulator's every 90–110 s): a 30 s window read 5.7 to 9.6 % for the same code (docs/PERFORMANCE.md).
  const idleS = option('BENCH_IDLE_SECONDS', 120);
  const timeoutMs = option('BENCH_READY_TIMEOUT_SECONDS', 900) * 1000;
  const tradeRate = process.env['BENCH_TRADE_RATE'];
  const { args, kind } = tickwireCommand();
  const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-stack-bench-'));
  const demoDir = mkdtempSync(join(tmpdir(), 'tickwire-stack-bench-demo-'));
  const children: ChildProcess[] = [];
  const stderrTails = new Map<string, string>();
  const baseEnv = {
    ...process.env,
    SYMBOLS: symbols.join(','),
    LOG_LEVEL: 'warn',
    ...(tradeRate === undefined ? {} : { TICKWIRE_SIM_TRADE_RATE: tradeRate }),
  };
  try {
    const sim = spawn(process.execPath, [...args, 'sim', '--port', '0'], {
      env: baseEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(sim);
    tailOfStderr(sim, 'simulator', stderrTails);
    // The banner's export lines point Tickwire at the simulator. Tickwire starts once the simulator has generated
    // its history (a later line): its REST answers then come at once, as a real exchange's do, and the start-up
    // figures are Tickwire's, not the simulator's first seconds.
    const exports: Record<string, string> = {};
    await lineFrom(
      sim,
      (line) => {
        const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
        if (m) exports[m[1] as string] = (m[2] as string).replace(/^'|'$/g, '');
        return line.startsWith(SIM_HISTORY_READY);
      },
      timeoutMs,
    );
    const port = await freePort();
    const startedAt = performance.now();
    const all = spawn(process.execPath, [...args, 'all'], {
      env: { ...baseEnv, ...exports, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(all);
    tailOfStderr(all, 'tickwire all', stderrTails);
    const startUp = await measureStartUp(all, port, symbols[0] as string, startedAt, timeoutMs);
    await sleep(settleS * 1000);
    await eventLoopMaxLag(port);
    const [simIdle, allIdle] = await measureIdle([sim.pid as number, all.pid as number], idleS);
    const idleMaxStallS = (await eventLoopMaxLag(port)) ?? NaN;
    if (simIdle === undefined || allIdle === undefined) throw new Error('no idle figures');
    // `npm run demo` runs the simulator in a child process of Tickwire's, and starts both at once: its start-up,
    // measured the same way, includes the simulator generating its history meanwhile, which the run above keeps
    // out. The two processes above are stopped first, so that the demo has the machine to itself.
    for (const child of children.splice(0).reverse()) await stop(child);
    const demoPort = await freePort();
    const demoStartedAt = performance.now();
    const demo = spawn(process.execPath, [...args, 'demo'], {
      env: {
        ...baseEnv,
        SYMBOLS: base.join(','),
        PORT: String(demoPort),
        HOST: '127.0.0.1',
        DATA_DIR: demoDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(demo);
    tailOfStderr(demo, 'tickwire demo', stderrTails);
    const demoStartUp = await measureStartUp(demo, demoPort, symbols[0] as string, demoStartedAt, timeoutMs);

    const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
    const f1 = (n: number): string => n.toFixed(1);
    console.log(`\n### Whole stack: \`tickwire sim\` + \`tickwire all\`, idle and start-up\n`);
    console.log(
      `${base.length} symbols (${symbols.length} instruments with dYdX's USD pairs) on four simulated venues; ` +
        `simulator trade rate ${tradeRate ?? 'default'}; CLI from ${kind}; idle window ${idleS} s after ` +
        `${settleS} s settling; ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)} at the end.\n`,
    );
    console.log('| figure | simulator | Tickwire (`all`) | goal | result |');
    console.log('|---|---|---|---|---|');
    console.log(
      `| idle CPU, % of a core | ${f1(simIdle.cpuPercent)} | ${f1(allIdle.cpuPercent)} | Tickwire < ${GOALS.tickwireCpuPercent}, simulator < ${GOALS.simulatorCpuPercent} | ` +
        `${verdict(allIdle.cpuPercent < GOALS.tickwireCpuPercent)} / ${verdict(simIdle.cpuPercent < GOALS.simulatorCpuPercent)} |`,
    );
    console.log(
      `| idle RSS, MB | ${f1(simIdle.rssMb)} | ${f1(allIdle.rssMb)} | Tickwire < ${GOALS.tickwireRssMb} | ${verdict(allIdle.rssMb < GOALS.tickwireRssMb)} |`,
    );
    console.log(`| peak RSS, MB | ${f1(simIdle.peakRssMb)} | ${f1(allIdle.peakRssMb)} | | |`);
    console.log(
      `| start → /health answers, s | | ${f1(startUp.healthS)} | < ${GOALS.healthSeconds} | ${verdict(startUp.healthS < GOALS.healthSeconds)} |`,
    );
    console.log(
      `| start → first live \`update\` (${symbols[0]} 1m), s | | ${f1(startUp.firstLiveS)} | < ${GOALS.firstLiveSeconds} | ${verdict(startUp.firstLiveS < GOALS.firstLiveSeconds)} |`,
    );
    console.log(
      `| start → \`${READY_LINE}\` (every venue's history loaded), s | | ${f1(startUp.readyS)} | | |`,
    );
    const ms = (s: number): string => (s * 1000).toFixed(0);
    console.log(
      `| longest event-loop stall, start-up / idle, ms | | ${ms(startUp.maxStallS)} / ${ms(idleMaxStallS)} | ≤ ${GOALS.maxStallMs} | ` +
        `${verdict(startUp.maxStallS * 1000 <= GOALS.maxStallMs)} / ${verdict(idleMaxStallS * 1000 <= GOALS.maxStallMs)} |`,
    );
    console.log(
      `\n\`tickwire demo\` (the simulator in a child process of it, started together; fresh data directory), measured the same way:\n`,
    );
    console.log('| figure | `tickwire demo` | goal | result |');
    console.log('|---|---|---|---|');
    console.log(
      `| start → /health answers, s | ${f1(demoStartUp.healthS)} | < ${GOALS.healthSeconds} | ${verdict(demoStartUp.healthS < GOALS.healthSeconds)} |`,
    );
    console.log(
      `| start → first live \`update\` (${symbols[0]} 1m), s | ${f1(demoStartUp.firstLiveS)} | < ${GOALS.firstLiveSeconds} | ${verdict(demoStartUp.firstLiveS < GOALS.firstLiveSeconds)} |`,
    );
    console.log(`| start → \`${READY_LINE}\`, s | ${f1(demoStartUp.readyS)} | | |`);
    console.log(
      `| longest event-loop stall, start-up, ms | ${ms(demoStartUp.maxStallS)} | ≤ ${GOALS.maxStallMs} | ${verdict(demoStartUp.maxStallS * 1000 <= GOALS.maxStallMs)} |`,
    );
  } catch (err) {
    for (const [name, tail] of stderrTails) console.error(`--- last stderr of ${name}:\n${tail}`);
    throw err;
  } finally {
    for (const child of children.reverse()) await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(demoDir, { recursive: true, force: true });
  }
}
