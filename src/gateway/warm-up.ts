import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { CANDLE_CHANNEL, type Bus } from '../bus/bus.ts';
import { encodeCandleUpdate } from '../bus/candle-message.ts';
import type { Config } from '../config/config.ts';
import { parseDecimal } from '../domain/decimal.ts';
import { INTERVALS } from '../domain/interval.ts';
import type { CandleStore } from '../store/candle-store.ts';
import { waitAtMost } from '../util/wait-at-most.ts';

/** A gateway started for the warm-up alone: where to connect, its open connections, and how to stop it. */
export interface WarmUpTarget {
  readonly url: string;
  stats(): { readonly connections: number };
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
/**
 * Warm-up clients created per turn of the event loop. Their code runs cold too (V8 compiles each function at its
 * first call): the first 50 made in one turn held the loop 50–80 ms on a slow unit, while the process's feeds
 * and history loading were already running.
 */
const CLIENTS_PER_TURN = 10;
/**
 * Times each warm-up client subscribes to its seven rooms, each time answered with seven `initial`s. V8 compiles a
 * function once it has run enough, and the code that runs per frame (ws's frame reading, the message's parse and
 * checks, the reply) did not get there in one round of 200 connections: it was compiled in the first real batch,
 * on the cores the clients needed (docs/PERFORMANCE.md, "Connect p99").
 */
export const WARM_UP_SUBSCRIBE_ROUNDS = 6;
/**
 * The warm-up's second pass, a fraction of the first's connections on a throwaway gateway of its own, started after
 * the first is closed. A first pass's end (its clients cut off, its gateway closed) makes V8 throw away optimized
 * code of the connection path (`--trace-deopt` showed the send path, the subscribe, the `initial` and ws's frame
 * reading marked "code dependencies" there), which the first real batch then compiled again. Measured over 60
 * alternated cold starts each, the connect p99 of 2,000 clients was lower with the second pass (docs/PERFORMANCE.md,
 * "Connect p99").
 */
const SECOND_PASS_SHARE = 0.5;
/** The warm-up gives up after this long: the gateway then starts cold rather than late. */
const WARM_UP_LIMIT_MS = 10_000;
/** At the end of a pass, how long the throwaway gateway is given to see its clients go before it is closed. */
const CLIENTS_GONE_LIMIT_MS = 1_000;

/**
 * Runs the connection path before the gateway takes its first client, in two passes (the second with
 * SECOND_PASS_SHARE of `options.connections`): in each, a throwaway gateway on a loopback port, with a bus and a
 * store of its own (made by `options`), takes that many WebSocket clients (WARM_UP_BATCH at a time), each
 * subscribing to the seven intervals of one of the symbols (no history) WARM_UP_SUBSCRIBE_ROUNDS times, is sent one
 * update per room, and is closed again.
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
  const deadline = began + WARM_UP_LIMIT_MS;
  await warmUpPass(start, config, options, options.connections, deadline);
  const second = Math.ceil(options.connections * SECOND_PASS_SHARE);
  await warmUpPass(start, config, options, second, deadline);
  return performance.now() - began;
}

/** One pass of the warm-up: a throwaway gateway, `connections` clients, closed before `deadline`. */
async function warmUpPass(
  start: StartWarmUpTarget,
  config: Config,
  options: WarmUpOptions,
  connections: number,
  deadline: number,
): Promise<void> {
  const warmConfig: Config = {
    ...config,
    host: '127.0.0.1',
    port: 0,
    gateway: {
      ...config.gateway,
      maxConnections: Math.max(config.gateway.maxConnections, connections),
      maxConnectionsPerIp: Math.max(config.gateway.maxConnectionsPerIp, connections),
      maxMessagesPerSecond: Math.max(
        config.gateway.maxMessagesPerSecond,
        WARM_UP_SUBSCRIBE_ROUNDS * INTERVALS.length,
      ),
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
  const clients: WarmUpClient[] = [];
  try {
    const done = (async () => {
      const symbols = config.symbols;
      for (let i = 0; i < connections; i += WARM_UP_BATCH) {
        const batch: Promise<WarmUpClient>[] = [];
        for (let j = 0; j < Math.min(WARM_UP_BATCH, connections - i); j++) {
          if (j % CLIENTS_PER_TURN === 0) await nextTurn();
          batch.push(WarmUpClient.connect(target.url, symbols[(i + j) % symbols.length] as string));
        }
        clients.push(...(await Promise.all(batch)));
      }
      // One update per room: the tick path (throttle, frames built once, one write per client) runs too.
      const updates = Promise.all(clients.map((c) => c.updated));
      for (const symbol of symbols.slice(0, Math.min(symbols.length, connections)))
        for (const interval of INTERVALS) bus.publish(CANDLE_CHANNEL, warmUpUpdate(symbol, interval));
      await updates;
    })();
    if (!(await waitAtMost(done, Math.max(0, deadline - performance.now()))))
      throw new Error(`the warm-up took longer than ${WARM_UP_LIMIT_MS} ms`);
  } finally {
    await cutOff(clients, target);
    await target.close();
    await Promise.all([bus.close(), store.close()]);
  }
}

/**
 * Ends a pass's clients from the client side, CLIENTS_PER_TURN a turn, and waits (at most CLIENTS_GONE_LIMIT_MS)
 * until the throwaway gateway has seen them go, so that closing it has no close handshakes to run. All at once,
 * 200 clients cut off in one turn and the gateway's close sending a close frame to each connection it had not yet
 * seen go made the longest turn of `tickwire all`'s start once its event-loop watch runs: 28–36 ms under a profiler
 * on a quiet AMD unit (docs/PERFORMANCE.md, "Start-up stalls").
 */
async function cutOff(clients: readonly WarmUpClient[], target: WarmUpTarget): Promise<void> {
  for (const [i, client] of clients.entries()) {
    if (i % CLIENTS_PER_TURN === 0) await nextTurn();
    client.ws.terminate();
  }
  const limit = performance.now() + CLIENTS_GONE_LIMIT_MS;
  while (target.stats().connections > 0 && performance.now() < limit) await sleep(1);
}

/**
 * One warm-up client: resolves once its seven subscribes were answered WARM_UP_SUBSCRIBE_ROUNDS times; `updated`
 * once it got one update per room.
 */
class WarmUpClient {
  private constructor(
    readonly ws: WebSocket,
    readonly updated: Promise<void>,
  ) {}

  static connect(url: string, symbol: string): Promise<WarmUpClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      let initials = 0;
      let rounds = 0;
      let updates = 0;
      let updated: () => void = () => undefined;
      const client = new WarmUpClient(
        ws,
        new Promise((resolveUpdated) => {
          updated = resolveUpdated;
        }),
      );
      ws.once('error', reject);
      ws.once('close', () => reject(new Error('warm-up connection closed')));
      const subscribe = (): void => {
        rounds++;
        for (const interval of INTERVALS)
          ws.send(JSON.stringify({ type: 'subscribe', symbol, interval, initialBars: 0 }));
      };
      ws.once('open', subscribe);
      ws.on('message', (data) => {
        const type = (JSON.parse(String(data)) as { type?: string }).type;
        if (type === 'initial' && ++initials === INTERVALS.length * rounds) {
          if (rounds < WARM_UP_SUBSCRIBE_ROUNDS) subscribe();
          else resolve(client);
        } else if (type === 'update' && ++updates === INTERVALS.length) updated();
        else if (type === 'error') reject(new Error(`warm-up subscribe refused: ${String(data)}`));
      });
    });
  }
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
