import { fork } from 'node:child_process';
import { CANDLE_CHANNEL, type Bus } from '../bus/bus.ts';
import { encodeCandleUpdate } from '../bus/candle-message.ts';
import type { Config } from '../config/config.ts';
import { parseDecimal } from '../domain/decimal.ts';
import { INTERVALS } from '../domain/interval.ts';
import type { CandleStore } from '../store/candle-store.ts';
import { waitAtMost } from '../util/wait-at-most.ts';
import type { WarmUpClientsCommand, WarmUpClientsJob, WarmUpClientsReport } from './warm-up-clients.ts';

/** A gateway started for the warm-up alone: where to connect, and how to stop it. */
export interface WarmUpTarget {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a throwaway gateway with this configuration, bus and store (startGateway, without a warm-up). */
export type StartWarmUpTarget = (config: Config, bus: Bus, store: CandleStore) => Promise<WarmUpTarget>;

/** What a warm-up runs on: how many connections, and the throwaway gateway's own bus and store. */
export interface WarmUpOptions {
  readonly connections: number;
  /**
   * Makes the throwaway gateway's bus, which must hand what is published on it to its own subscribers (the
   * in-process MemoryBus): the warm-up publishes its updates there. Closed after the warm-up.
   */
  readonly bus: () => Bus;
  /** Makes its store: an empty one (MemoryCandleStore); the warm-up asks for no history. Closed after it. */
  readonly store: () => CandleStore;
}

/** Connections in flight at once during the warm-up. */
const WARM_UP_BATCH = 50;
/** The warm-up gives up after this long: the gateway then starts cold rather than late. */
const WARM_UP_LIMIT_MS = 10_000;

/**
 * Runs the connection path `options.connections` times before the gateway takes its first client: a throwaway
 * gateway on a loopback port, with a bus and a store of its own (made by `options`), takes `connections` WebSocket
 * clients of a child process (src/gateway/warm-up-clients.ts; WARM_UP_BATCH at a time), each subscribing to the seven intervals of one of the symbols (no history), is sent one update per room,
 * and is closed again.
 *
 * Why: a Node process runs its code cold at first (interpreted, then compiled once it has run enough) and its heap
 * grows from small. A gateway that restarts is met by all of its clients reconnecting at once, and that burst
 * found the HTTP upgrade, ws's handshake, the subscribe handling and the send path cold: its first few hundred
 * connects took two to three times the CPU of later ones, and they were the slowest connects of the burst
 * (docs/PERFORMANCE.md, "Connect p99: the first connects of a cold process"). The throwaway gateway runs the very
 * same functions (their compiled code and type feedback are shared with the real one), so the first real clients
 * find them compiled. Nothing of it stays: its rooms, counters and connections go with it.
 *
 * Real sockets on the real clock (the throwaway gateway's timers too, whatever clock the real one is given): it
 * is the process's own code that is exercised, not its behaviour in time. Resolves with the time it took; a
 * warm-up that fails or passes WARM_UP_LIMIT_MS rejects, and the caller starts the gateway anyway.
 */
export async function warmUpConnectionPath(
  start: StartWarmUpTarget,
  config: Config,
  options: WarmUpOptions,
): Promise<number> {
  const began = performance.now();
  const { connections } = options;
  const warmConfig: Config = {
    ...config,
    host: '127.0.0.1',
    port: 0,
    gateway: {
      ...config.gateway,
      maxConnections: Math.max(config.gateway.maxConnections, connections),
      maxConnectionsPerIp: Math.max(config.gateway.maxConnectionsPerIp, connections),
    },
  };
  const bus = options.bus();
  const store = options.store();
  let target: WarmUpTarget;
  try {
    target = await start(warmConfig, bus, store);
  } catch (err) {
    await Promise.all([bus.close(), store.close()]);
    throw err;
  }
  const clients = startWarmUpClients({
    url: target.url,
    symbols: config.symbols,
    connections,
    batch: WARM_UP_BATCH,
  });
  try {
    const done = (async () => {
      await clients.next('connected');
      // One update per room: the tick path (throttle, frames built once, one write per client) runs too.
      const updated = clients.next('updated');
      const symbols = config.symbols;
      for (const symbol of symbols.slice(0, Math.min(symbols.length, connections)))
        for (const interval of INTERVALS) bus.publish(CANDLE_CHANNEL, warmUpUpdate(symbol, interval));
      await updated;
    })();
    // Past the limit, the child's end rejects it again: that rejection is the one already reported.
    done.catch(() => undefined);
    if (!(await waitAtMost(done, WARM_UP_LIMIT_MS)))
      throw new Error(`the warm-up took longer than ${WARM_UP_LIMIT_MS} ms`);
  } finally {
    // The clients are cut off first: the throwaway gateway then has no close handshakes to wait for.
    await clients.close();
    await target.close();
    await Promise.all([bus.close(), store.close()]);
  }
  return performance.now() - began;
}

/** The warm-up's client process: waits for its reports, and ends it. */
interface WarmUpClientsProcess {
  /** Resolves when the child reports `type`; rejects when it fails or ends first. */
  next(type: 'connected' | 'updated'): Promise<void>;
  /** Ends the child (its sockets cut off) and resolves once it has exited. */
  close(): Promise<void>;
}

/**
 * Forks src/gateway/warm-up-clients.ts. Why a process of its own: clients in the gateway's process would run ws's
 * client side (its WebSocket, Receiver and Sender classes) in the same isolate as the server side, and the code
 * they share would be compiled for both, not for what the gateway runs once real clients come.
 */
function startWarmUpClients(job: WarmUpClientsJob): WarmUpClientsProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './warm-up-clients.ts' : './warm-up-clients.js', import.meta.url);
  const child = fork(entry, [JSON.stringify(job)], {
    // Started from source, the child needs tsx's loader, which a fork without the parent's options lacks; the
    // parent's other options (profilers, heap sizes) are the gateway's, not the clients'.
    execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const seen = new Set<string>();
  let failure: Error | undefined;
  const waiting = new Set<() => void>();
  const wake = (): void => {
    for (const w of waiting) w();
  };
  child.on('message', (message: WarmUpClientsReport) => {
    if (message.type === 'failed') failure = new Error(`warm-up client failed: ${message.reason}`);
    else seen.add(message.type);
    wake();
  });
  child.on('error', (err) => {
    failure ??= err;
    wake();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      failure ??= new Error(`the warm-up's client process ended (${signal ?? code})`);
      wake();
      resolve();
    });
  });
  return {
    next: (type) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (seen.has(type)) resolve();
          else if (failure !== undefined) reject(failure);
          else return;
          waiting.delete(check);
        };
        waiting.add(check);
        check();
      }),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.send({ type: 'close' } satisfies WarmUpClientsCommand);
        else child.kill('SIGKILL');
        // A child that does not end when asked is killed: the gateway's start waits for nothing else.
        if (!(await waitAtMost(exited, 2_000))) child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

/** A Monday, midnight UTC: the start of a bar of every interval. */
const WARM_UP_BAR_TIME = Date.UTC(2026, 0, 5);

/** The bar of a warm-up update (any values: no client of the real gateway sees it). */
function warmUpUpdate(symbol: string, interval: (typeof INTERVALS)[number]): string {
  const price = parseDecimal('1');
  return encodeCandleUpdate({
    symbol,
    interval,
    state: 'live',
    bar: {
      time: WARM_UP_BAR_TIME,
      open: price,
      high: price,
      low: price,
      close: price,
      volume: price,
      quoteVolume: price,
      takerBuyVolume: price,
      takerBuyQuoteVolume: price,
      trades: 1,
    },
    sources: [],
  });
}
