/**
 * In-memory twins for unit tests of the ingest stage: a venue whose stream the test drives by hand (trades,
 * disconnects, reconnects, gaps) and whose REST history it controls, and a recorder of what the bus carried.
 */
import type { Bus } from '../bus/bus.ts';
import { CANDLE_CHANNEL } from '../bus/bus.ts';
import { ALERT_CHANNEL, decodeAlert } from '../bus/alert-message.ts';
import { decodeCandleUpdate } from '../bus/candle-message.ts';
import { decodeTrades, TRADES_CHANNEL, type TradeBatch } from '../bus/market-message.ts';
import type { Alert } from '../domain/alert.ts';
import type { BookRules } from '../domain/book-rules.ts';
import type { Candle, CandleUpdate } from '../domain/candle.ts';
import { parseDecimal } from '../domain/decimal.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import type {
  CandleQuery,
  ConnectionStatus,
  MarketStream,
  MarketStreamHandlers,
  StreamEvent,
  TradeQuery,
  VenueAdapter,
  VenueRest,
} from '../venues/venue.ts';

/** Monday 2024-01-01 00:10:30 UTC: ten closed minutes into the week. */
export const T0 = Date.UTC(2024, 0, 1, 0, 10, 30);

export const minute = (hh: number, mm: number, ss = 0): number => Date.UTC(2024, 0, 1, hh, mm, ss);

/** Books come from the stream: the fake needs no REST snapshot. */
const STREAM_BOOK_RULES: BookRules = {
  snapshotSource: 'stream',
  sequence: 'none',
  checksum: 'none',
  checksumSnapshots: false,
  uncross: false,
};

/** A trade of BTC/USDT on `venue`; its id is its seq when it has one. */
export function trade(
  venue: VenueId,
  fields: { seq?: number; id?: string; time: number; price?: string; size?: string },
): Trade {
  return {
    venue,
    symbol: 'BTC/USDT',
    id: fields.id ?? String(fields.seq),
    seq: fields.seq,
    price: parseDecimal(fields.price ?? '100'),
    size: parseDecimal(fields.size ?? '1'),
    side: 'buy',
    fills: 1,
    time: fields.time,
    receivedAt: fields.time,
  };
}

/** A flat bar at `price` with one trade of `volume`. */
export function bar(time: number, price = '100', volume = '1'): Candle {
  const p = parseDecimal(price);
  const v = parseDecimal(volume);
  return {
    time,
    open: p,
    high: p,
    low: p,
    close: p,
    volume: v,
    quoteVolume: parseDecimal(String(Number(price) * Number(volume))),
    takerBuyVolume: v,
    takerBuyQuoteVolume: parseDecimal(String(Number(price) * Number(volume))),
    trades: 1,
  };
}

/**
 * The venue's REST API over its tape (every trade that happened, whether the stream delivered it or not) and the
 * bars the test gives it. Calls can be made to fail, and trade queries can be held until the test releases them.
 */
export class FakeRest implements VenueRest {
  /** Closed bars the venue serves per interval. */
  readonly bars = new Map<Interval, Candle[]>();
  /** Every call, as `candles <interval>` or `trades <query as JSON>`. */
  readonly calls: string[] = [];
  /** The window of every candle query: interval, first and last bar start. */
  readonly candleWindows: [Interval, number | undefined, number | undefined][] = [];
  /** The next this many calls reject. */
  failures = 0;
  private holding: Promise<void> | null = null;
  private releaseHeld: (() => void) | null = null;

  constructor(private readonly tape: readonly Trade[]) {}

  /** Trade queries answer as of the time they are made, but only once `release` is called. */
  holdTrades(): void {
    this.holding = new Promise((resolve) => (this.releaseHeld = resolve));
  }

  release(): void {
    this.releaseHeld?.();
    this.holding = null;
  }

  async fetchCandles(_symbol: string, interval: Interval, query: CandleQuery): Promise<Candle[]> {
    this.calls.push(`candles ${interval}`);
    this.candleWindows.push([interval, query.startTime, query.endTime]);
    this.maybeFail();
    const { startTime = -Infinity, endTime = Infinity } = query;
    return (this.bars.get(interval) ?? []).filter((b) => b.time >= startTime && b.time <= endTime);
  }

  async fetchTrades(_symbol: string, query: TradeQuery): Promise<Trade[]> {
    this.calls.push(`trades ${JSON.stringify(query)}`);
    this.maybeFail();
    const { afterSeq, startTime = -Infinity, endTime = Infinity, limit = Infinity } = query;
    const answer = this.tape
      .filter((t) => (afterSeq === undefined ? true : t.seq !== undefined && t.seq > afterSeq))
      .filter((t) => t.time >= startTime && t.time <= endTime)
      .slice(0, limit);
    if (this.holding) await this.holding;
    return answer;
  }

  private maybeFail(): void {
    if (this.failures <= 0) return;
    this.failures--;
    throw new Error('venue REST unavailable');
  }
}

/** A venue adapter driven by hand: the test says what happens on the venue and what the stream delivers. */
export class FakeVenue implements VenueAdapter {
  readonly bookRules = STREAM_BOOK_RULES;
  readonly contiguousTradeSeq: boolean;
  /** Every trade that happened on the venue, in order. */
  readonly tape: Trade[] = [];
  readonly rest: FakeRest;
  private handlers: MarketStreamHandlers | null = null;
  private connected = false;
  private reconnects = 0;
  private malformedFrames = 0;
  private latencyMs: number | null = null;

  constructor(
    readonly venue: VenueId,
    options: { contiguousTradeSeq?: boolean; symbols?: readonly string[] } = {},
  ) {
    this.contiguousTradeSeq = options.contiguousTradeSeq ?? true;
    this.rest = new FakeRest(this.tape);
    const symbols = options.symbols;
    if (symbols) this.supportsSymbol = (symbol: string) => symbols.includes(symbol);
  }

  supportsSymbol?: (symbol: string) => boolean;

  openMarketStream(_symbols: readonly string[], handlers: MarketStreamHandlers): MarketStream {
    this.handlers = handlers;
    return {
      status: () => this.status(),
      close: async () => {
        this.handlers = null;
      },
    };
  }

  /** Whether a stream is open (not closed by the ingest). */
  get streamOpen(): boolean {
    return this.handlers !== null;
  }

  connect(at: number): void {
    if (this.connected) this.reconnects++;
    this.connected = true;
    this.handlers?.status({ kind: 'connected', at });
  }

  disconnect(at: number): void {
    this.connected = false;
    this.handlers?.status({ kind: 'disconnected', at, reason: 'test' });
  }

  /** Trades happen on the venue and the stream delivers them. */
  trade(...trades: Trade[]): void {
    for (const t of trades) {
      this.tape.push(t);
      this.handlers?.trade(t);
    }
  }

  /** Trades happen on the venue but the stream misses them (or they happened before it opened). */
  miss(...trades: Trade[]): void {
    this.tape.push(...trades);
  }

  /** The stream delivers a trade again (it overlaps what REST answers). */
  redeliver(t: Trade): void {
    this.handlers?.trade(t);
  }

  event(event: StreamEvent): void {
    this.handlers?.event?.(event);
  }

  /**
   * The stream delivers the venue's own 1m kline of `symbol` (closed, or still in progress; `lastSeen`: closed by a
   * later bar's start, with the last state received).
   */
  kline(symbol: string, bar: Candle, closed: boolean, receivedAt: number, lastSeen = false): void {
    this.handlers?.candle?.({
      venue: this.venue,
      symbol,
      interval: '1m',
      bar,
      closed,
      receivedAt,
      ...(lastSeen ? { lastSeen } : {}),
    });
  }

  /** A ticker of `symbol`: data that shows the source alive, with an event time. */
  data(symbol: string, receivedAt: number): void {
    this.handlers?.ticker?.({
      venue: this.venue,
      symbol,
      last: parseDecimal('100'),
      time: receivedAt,
      receivedAt,
    });
  }

  /** Counters of the connection that the monitor reads at each evaluation. */
  setConnection(fields: { malformedFrames?: number; latencyMs?: number | null }): void {
    if (fields.malformedFrames !== undefined) this.malformedFrames = fields.malformedFrames;
    if (fields.latencyMs !== undefined) this.latencyMs = fields.latencyMs;
  }

  status(): ConnectionStatus {
    return {
      connected: this.connected,
      is_healthy: this.connected,
      ws_url: 'fake://venue',
      subscriptions: [],
      reconnect_count: this.reconnects,
      last_heartbeat: null,
      latency_ms: this.latencyMs,
      messages_received: 0,
      errors: 0,
      mode: 'websocket',
      stale_symbols: [],
      consecutive_failures: 0,
      malformed_frames: this.malformedFrames,
      rejected_subscriptions: 0,
      last_error: null,
    };
  }
}

/** What the bus carried on the channels the ingest publishes, decoded, in order. */
export interface BusRecord {
  readonly candles: CandleUpdate[];
  readonly trades: TradeBatch[];
  readonly alerts: Alert[];
}

export function recordBus(bus: Bus): BusRecord {
  const record: BusRecord = { candles: [], trades: [], alerts: [] };
  bus.subscribe(CANDLE_CHANNEL, (m) => record.candles.push(decodeCandleUpdate(m)));
  bus.subscribe(TRADES_CHANNEL, (m) => record.trades.push(decodeTrades(m)));
  bus.subscribe(ALERT_CHANNEL, (m) => record.alerts.push(decodeAlert(m)));
  return record;
}

/** Lets every promise chain that is ready run (REST answers, store writes, flushes). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
