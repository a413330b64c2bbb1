/**
 * What the scale-out suites share: Tickwire roles as real child processes (`tickwire <role>`, from source), or
 * in-process with a configuration pointed at the simulator, PostgreSQL and Redis; and a WebSocket client that
 * records what it receives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import WebSocket from 'ws';
import { configSchema, DEFAULT_CONFIG, type Config } from '../../src/config/config.ts';
import type { Simulator } from '../../src/sim/simulator.ts';
import { chart, type Message, type WireBar } from '../e2e/helpers.ts';
import { tickwireArgs } from '../support/tickwire-command.ts';

/** Settings that make a test quick: fast room ticks, a short close grace, only Binance. */
export const QUICK = {
  venues: ['binance'],
  candles: { closeGraceMs: 500 },
  // apiRateLimit: the suites poll /api/ endpoints; the limit itself has its own tests.
  gateway: { throttleMs: 100, apiRateLimit: 1_000_000 },
  storage: { flushMs: 200 },
} as const;

/** Temporary folders this test file made: removed when its process exits (node:test runs a file per process). */
const temporaryDirs: string[] = [];
process.once('exit', () => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A new temporary folder, removed when the test file's process exits. Synchronous, for the configuration builders
 * here; the embedded store's data folders of in-process tests come from src/store/pglite-dirs.test-support.ts.
 */
export function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}

/** A configuration for an in-process role: the simulator's Binance, the given services, quick settings. */
export function roleConfig(
  sim: Simulator,
  services: { databaseUrl?: string; redisUrl?: string; redisPrefix?: string; dataDir?: string },
): Config {
  return configSchema.parse({
    ...DEFAULT_CONFIG,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    venues: QUICK.venues,
    urls: { ...DEFAULT_CONFIG.urls, binance: sim.urls.binance },
    candles: { ...DEFAULT_CONFIG.candles, ...QUICK.candles },
    gateway: { ...DEFAULT_CONFIG.gateway, ...QUICK.gateway },
    storage: {
      ...DEFAULT_CONFIG.storage,
      ...QUICK.storage,
      ...(services.databaseUrl ? { databaseUrl: services.databaseUrl } : {}),
      dataDir: services.dataDir ?? temporaryDir('tickwire-int-'),
    },
    redis: {
      ...(services.redisUrl ? { url: services.redisUrl } : {}),
      prefix: services.redisPrefix ?? '',
    },
  });
}

export interface RoleProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first stdout line matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `tickwire <role>` as a child process with the quick settings and `env`. */
export function spawnRole(
  role: 'ingest' | 'gateway' | 'all',
  sim: Simulator,
  env: Record<string, string>,
): RoleProcess {
  const dir = temporaryDir(`tickwire-${role}-`);
  const configFile = join(dir, 'tickwire.json');
  writeFileSync(
    configFile,
    JSON.stringify({ candles: QUICK.candles, gateway: QUICK.gateway, storage: QUICK.storage }),
  );
  const child = spawn(process.execPath, tickwireArgs(role), {
    env: {
      ...process.env,
      TICKWIRE_CONFIG: configFile,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      VENUES: 'binance',
      SYMBOLS: 'BTC/USDT',
      BINANCE_WS_URL: sim.urls.binance.wsUrl,
      BINANCE_REST_URL: sim.urls.binance.restUrl,
      DATA_DIR: dir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    async line(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = stdout.match(pattern);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`tickwire ${role} exited (${child.exitCode}):\n${out}`);
        if (Date.now() > deadline) throw new Error(`tickwire ${role} printed no ${pattern}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** A WebSocket client that records every message. */
export class RecordingSocket {
  readonly messages: (Message & Record<string, unknown>)[] = [];
  closedWith: number | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) =>
      this.messages.push(JSON.parse(String(data)) as Message & Record<string, unknown>),
    );
    ws.on('close', (code) => {
      this.closedWith = code;
    });
  }

  static async open(url: string): Promise<RecordingSocket> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RecordingSocket(ws);
  }

  send(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }

  /** The 1m chart the client holds (closed bars and the bar in progress). */
  chart(interval = '1m'): WireBar[] {
    return chart(this.messages, interval);
  }

  /** Alerts of `kind` received, from the `alerts` batch on subscribe and as single `alert` messages. */
  alerts(kind: string): Record<string, unknown>[] {
    const all = this.messages.flatMap((m) =>
      m.type === 'alert' ? [m] : m.type === 'alerts' ? (m['alerts'] as Record<string, unknown>[]) : [],
    );
    return all.filter((a) => a['kind'] === kind);
  }

  close(): void {
    this.ws.close();
  }
}

/** GET a JSON body. */
export async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  return (await res.json()) as Record<string, unknown>;
}

/** Resolves once `check()` (sync or async) holds; rejects naming `what` when it still does not after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not ready yet (a server still starting); try again until the deadline.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Registers cleanups that run in reverse order at the end of the test (node:test runs `t.after` hooks in the
 * order they were added), so that a database is dropped only after the processes using it have stopped.
 */
export function cleanups(t: TestContext): (fn: () => unknown) => void {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of stack.reverse()) await fn();
  });
  return (fn) => {
    stack.push(fn);
  };
}
