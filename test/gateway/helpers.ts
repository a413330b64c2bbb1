import { once } from 'node:events';
import { WebSocket } from 'ws';
import type { Config } from '../../src/config/config.ts';
import { DEFAULT_CONFIG, configSchema } from '../../src/config/config.ts';
import type { Candle, CandleState, CandleUpdate } from '../../src/domain/candle.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import type { Interval } from '../../src/domain/interval.ts';
import { CANDLE_CHANNEL } from '../../src/bus/bus.ts';
import { encodeCandleUpdate } from '../../src/bus/candle-message.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/gateway.ts';
import type { CandleStore } from '../../src/store/candle-store.ts';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { TieredCandleStore } from '../../src/store/tiered-candle-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';

/** A bar with exact decimals; high/low follow open/close unless given. */
export function makeBar(
  time: number,
  close: string,
  trades = 1,
  extra: Partial<{ open: string; high: string; low: string; volume: string; quoteVolume: string }> = {},
): Candle {
  const open = extra.open ?? close;
  const d = parseDecimal;
  return {
    time,
    open: d(open),
    high: d(extra.high ?? (Number(open) > Number(close) ? open : close)),
    low: d(extra.low ?? (Number(open) < Number(close) ? open : close)),
    close: d(close),
    volume: d(extra.volume ?? String(trades)),
    quoteVolume: d(extra.quoteVolume ?? '0'),
    takerBuyVolume: d('0'),
    takerBuyQuoteVolume: d('0'),
    trades,
  };
}

export function makeUpdate(
  bar: Candle,
  state: CandleState = 'live',
  symbol = 'BTC/USDT',
  interval: Interval = '1m',
): CandleUpdate {
  return { symbol, interval, state, bar, sources: ['binance'] };
}

type GatewayLimits = Config['gateway'];

/** A validated test configuration on loopback, any port, with gateway limits overridden. */
export function testConfig(gateway: Partial<GatewayLimits> = {}, symbols?: string[]): Config {
  return configSchema.parse({
    ...DEFAULT_CONFIG,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    ...(symbols ? { symbols } : {}),
    gateway: { ...DEFAULT_CONFIG.gateway, ...gateway },
  });
}

export interface JsonMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** A ws client that records every text message parsed as JSON and lets a test await the next matching one. */
/**
 * How long a client waits for a message before the test fails: a bound, not a timing check (a message that comes
 * returns at once). Generous, since a loaded two-core machine running two test files at once can hold a reply for
 * seconds.
 */
const MESSAGE_WAIT_MS = 15_000;

export class TestClient {
  readonly messages: JsonMessage[] = [];
  private waiters: { match: (m: JsonMessage) => boolean; resolve: (m: JsonMessage) => void; from: number }[] =
    [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) throw new Error('server sent a binary frame');
      const m = JSON.parse(data.toString('utf8')) as JsonMessage;
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number) => {
        this.closeCode = code;
        resolve(code);
      });
    });
    ws.on('error', () => {});
  }

  static async connect(
    url: string,
    options: ConstructorParameters<typeof WebSocket>[2] = {},
  ): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    await once(ws, 'open');
    return client;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves with the first message (already received or future) after index `from` that matches. */
  next(match: (m: JsonMessage) => boolean, timeoutMs = MESSAGE_WAIT_MS, from = 0): Promise<JsonMessage> {
    const found = this.messages.slice(from).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching message within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        from,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /**
   * Pings the gateway and waits for the pong: everything the gateway sent before it read the ping has arrived
   * by then, so a test that moved the gateway's clock can look at what that sent. The pong is not kept.
   */
  async roundTrip(): Promise<void> {
    const pong = this.nextOfType('pong');
    this.send({ type: 'ping' });
    const got = await pong;
    this.messages.splice(this.messages.indexOf(got), 1);
  }

  /** The next message of `type` received after the call. */
  nextOfType(type: string, timeoutMs = MESSAGE_WAIT_MS): Promise<JsonMessage> {
    return this.next((m) => m.type === type, timeoutMs, this.messages.length);
  }

  close(): void {
    this.ws.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or the time runs out. */
export async function waitFor(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export interface TestGateway {
  readonly gateway: Gateway;
  readonly bus: MemoryBus;
  readonly store: MemoryCandleStore;
  readonly config: Config;
  /** Like the ingest side: writes the bar into the store, then publishes it. */
  publish(update: CandleUpdate): void;
  close(): Promise<void>;
}

/** A real gateway on loopback port 0 over the in-process bus and store. */
export async function startTestGateway(
  gatewayLimits: Partial<GatewayLimits> = {},
  extra: {
    symbols?: string[];
    aggregatorStats?: GatewayOptions['aggregatorStats'];
    store?: MemoryCandleStore;
    /** A database behind `store`: the gateway then reads through a TieredCandleStore, as a real one does. */
    persistent?: CandleStore;
    historyRetry?: GatewayOptions['historyRetry'];
    historyLoad?: GatewayOptions['historyLoad'];
    sources?: GatewayOptions['sources'];
    alerts?: GatewayOptions['alerts'];
    /** The gateway's clock (default: the system clock). */
    clock?: GatewayOptions['clock'];
  } = {},
): Promise<TestGateway> {
  const config = testConfig(gatewayLimits, extra.symbols);
  const bus = new MemoryBus();
  const store = extra.store ?? new MemoryCandleStore();
  const logger = silentLogger();
  const gateway = await startGateway({
    config,
    bus,
    store: extra.persistent
      ? new TieredCandleStore({ memory: store, persistent: extra.persistent, logger })
      : store,
    logger,
    ...(extra.historyRetry ? { historyRetry: extra.historyRetry } : {}),
    ...(extra.historyLoad ? { historyLoad: extra.historyLoad } : {}),
    ...(extra.aggregatorStats ? { aggregatorStats: extra.aggregatorStats } : {}),
    ...(extra.sources ? { sources: extra.sources } : {}),
    ...(extra.alerts ? { alerts: extra.alerts } : {}),
    ...(extra.clock ? { clock: extra.clock } : {}),
  });
  return {
    gateway,
    bus,
    store,
    config,
    publish(update) {
      store.put(update.symbol, update.interval, update.bar, update.sources);
      bus.publish(CANDLE_CHANNEL, encodeCandleUpdate(update));
    },
    close: () => gateway.close(),
  };
}

/** A fixed minute to build test series from, and a minute in ms. */
export const T0 = Date.UTC(2024, 9, 24, 10, 0);
export const M = 60_000;

/** The ISO time of minute `minute` after T0, as bars carry it on the wire. */
export function iso(minute: number): string {
  return new Date(T0 + minute * M).toISOString();
}

/** The `time` of each wire bar. */
export function times(bars: unknown): string[] {
  return (bars as { time: string }[]).map((b) => b.time);
}

/** from, from + 1, … to - 1. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
