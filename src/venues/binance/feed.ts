import { TickwireError } from '../../domain/errors.ts';
import type { Interval } from '../../domain/interval.ts';
import type { Ticker } from '../../domain/ticker.ts';
import type { Trade } from '../../domain/trade.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Clock } from '../../util/clock.ts';
import type {
  ConnectionProtocol,
  FrameOutcome,
  HeartbeatRule,
  PollKind,
  VenueLimits,
} from '../connection/connection-protocol.ts';
import { ConnectionRunner, type FallbackOptions } from '../connection/runner.ts';
import type {
  ConnectionStatus,
  MarketChannel,
  MarketStream,
  MarketStreamHandlers,
  TradeQuery,
} from '../venue.ts';
import { depthDiffToBookUpdate, parseFrame, tickerToDomain, withBookTop } from './parse.ts';
import {
  binanceSymbolMap,
  klineStreamName,
  toBinanceSymbol,
  tradeStreamName,
  type BinanceSymbolMap,
  type BinanceTradeStream,
} from './symbols.ts';

/** Binance serves at most this many streams on one connection. */
const MAX_STREAMS_PER_CONNECTION = 1024;
/**
 * Binance pings; the client only has to pong (the ws library does). A ping of ours every 30 s times the round trip
 * (the venue's latency), one message of the 5 a second Binance allows.
 */
const HEARTBEAT: HeartbeatRule = { kind: 'server-ping', latencyPingMs: 30_000 };
const CONTROL: FrameOutcome = { kind: 'control' };

export interface BinanceReconnectOptions {
  /** First backoff ceiling. Default 1 s. */
  readonly initialDelayMs?: number;
  /** Backoff ceiling cap. Default 16 s. */
  readonly maxDelayMs?: number;
}

/** The REST calls the polling fallback uses (BinanceRest has them). */
export interface BinancePollSource {
  fetchTrades(symbol: string, query: TradeQuery): Promise<Trade[]>;
  fetchTicker?(symbol: string): Promise<Ticker>;
}

export interface BinanceStreamOptions {
  /** Base of the market-stream endpoint: wss://stream.binance.com:9443 or the simulator's ws://127.0.0.1:PORT/binance. */
  readonly wsUrl: string;
  readonly logger: Logger;
  /** Time for receive times and status, and every timer of the connection. Default the system clock. */
  readonly clock?: Clock;
  /** What to subscribe per symbol. Default ['trades', 'candles']. */
  readonly channels?: readonly MarketChannel[];
  /** With the `book` channel: the symbols whose depth stream is subscribed from the start. Default every symbol. */
  readonly books?: readonly string[];
  /** Which trade stream feeds `handlers.trade`. Default `aggTrade` (its ids are the resumable sequence). */
  readonly tradeStream?: BinanceTradeStream;
  /** Native kline streams for the `candles` channel. Default ['1m']. */
  readonly klineIntervals?: readonly Interval[];
  /** With the `ticker` channel, also subscribe `@bookTicker` for real-time best prices. Default false. */
  readonly bookTicker?: boolean;
  /** Push period of the `@depth` diff stream for the `book` channel. Default 100 ms. */
  readonly depthSpeedMs?: 100 | 1000;
  /** Streams per SUBSCRIBE request. Default 100. */
  readonly streamsPerRequest?: number;
  /** Outbound messages per second; Binance disconnects above 5 (pongs included). Default 4. */
  readonly messagesPerSecond?: number;
  /**
   * Connection attempts of this stream per window. Binance allows 300 per 5 minutes per IP; the default of 60 per
   * 5 minutes leaves room for other streams and processes on the same address.
   */
  readonly connectAttempts?: { readonly count: number; readonly windowMs: number };
  /** TCP + TLS + WebSocket handshake must finish within this. Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly reconnect?: BinanceReconnectOptions;
  /**
   * A connection that delivers no frame (not even a server ping) for this long is replaced. Default 60 s: Binance
   * pings every 20 s and kline streams push every 2 s.
   */
  readonly silenceTimeoutMs?: number;
  /** A symbol with no data for this long on a live connection is reported stale. Default 60 s; 0 disables. */
  readonly staleSymbolMs?: number;
  /** REST polling after failed reconnects; see FallbackOptions. Needs `pollSource`. */
  readonly fallback?: FallbackOptions;
  /** REST source of the polling fallback; without it there is no fallback. */
  readonly pollSource?: BinancePollSource;
  /** Largest accepted frame. Default 4 MiB. */
  readonly maxPayloadBytes?: number;
  /** How long `close()` waits for the closing handshake before dropping the socket. Default 2 s. */
  readonly closeTimeoutMs?: number;
  /** Source of backoff jitter in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

/**
 * Opens the combined market stream (`/stream`, streams added with SUBSCRIBE) for `symbols` (canonical) on the
 * connection runner: trades, native klines, tickers and book diffs per `options.channels`. Reconnects with backoff,
 * resubscribes paced under Binance's 5 messages/s, reconnects at once on `serverShutdown`, and falls back to REST
 * polling when reconnects keep failing. Throws TickwireError INVALID_SYMBOL for a symbol that is not canonical and
 * CONFIG_INVALID when the streams exceed one connection.
 */
export function openBinanceMarketStream(
  symbols: readonly string[],
  handlers: MarketStreamHandlers,
  options: BinanceStreamOptions,
): MarketStream {
  const feed = new BinanceFeed(symbols, handlers, options);
  feed.runner.start();
  return feed;
}

/** The Binance protocol object for the runner, and the MarketStream it backs. */
class BinanceFeed implements ConnectionProtocol, MarketStream {
  readonly venue = 'binance' as const;
  readonly heartbeat = HEARTBEAT;
  readonly limits: VenueLimits;
  readonly runner: ConnectionRunner;
  readonly poll: ((kind: PollKind, signal: AbortSignal) => Promise<void>) | undefined;

  private readonly base: string;
  /** Every stream but the depth streams, which follow `booksOn`. */
  private readonly fixedStreams: readonly string[];
  private readonly depthStreams = new Map<string, string>();
  /** The symbols whose depth stream is subscribed now (every connection subscribes these when it opens). */
  private readonly booksOn: Set<string>;
  private readonly canonical: readonly string[];
  private readonly symbolMap: BinanceSymbolMap;
  private readonly handlers: MarketStreamHandlers;
  private readonly logger: Logger;
  private readonly streamsPerRequest: number;
  private readonly channels: ReadonlySet<MarketChannel>;
  private readonly resumableTrades: boolean;
  private readonly rest: BinancePollSource | undefined;

  /** Subscribe requests of the current connection awaiting their reply, by id, for resending on refusal. */
  private readonly pending = new Map<number, string>();
  private nextId = 1;
  /** Latest ticker per symbol, so a bookTicker frame can refresh its best prices. */
  private readonly tickers = new Map<string, Ticker>();
  /** Highest aggregate trade id seen per symbol (stream or poll): polling resumes after it. */
  private readonly lastSeq = new Map<string, number>();

  constructor(symbols: readonly string[], handlers: MarketStreamHandlers, options: BinanceStreamOptions) {
    if (symbols.length === 0)
      throw new TickwireError('INVALID_SYMBOL', 'binance market stream needs at least one symbol');
    this.symbolMap = binanceSymbolMap(symbols);
    this.canonical = [...new Set(symbols)];
    this.channels = new Set(options.channels ?? ['trades', 'candles']);
    const tradeStream = options.tradeStream ?? 'aggTrade';
    this.resumableTrades = tradeStream === 'aggTrade';
    const intervals = options.klineIntervals ?? ['1m'];
    const depth = options.depthSpeedMs === 1000 ? '@depth' : '@depth@100ms';
    const streams: string[] = [];
    for (const symbol of this.canonical) {
      const lower = toBinanceSymbol(symbol).toLowerCase();
      if (this.channels.has('trades')) streams.push(tradeStreamName(symbol, tradeStream));
      if (this.channels.has('candles'))
        for (const interval of intervals) streams.push(klineStreamName(symbol, interval));
      if (this.channels.has('ticker')) {
        streams.push(`${lower}@ticker`);
        if (options.bookTicker === true) streams.push(`${lower}@bookTicker`);
      }
      if (this.channels.has('book')) this.depthStreams.set(symbol, `${lower}${depth}`);
    }
    if (streams.length + this.depthStreams.size === 0)
      throw new TickwireError('CONFIG_INVALID', 'binance market stream: no channel selected');
    if (streams.length + this.depthStreams.size > MAX_STREAMS_PER_CONNECTION) {
      throw new TickwireError(
        'CONFIG_INVALID',
        `binance allows ${MAX_STREAMS_PER_CONNECTION} streams per connection; ${streams.length + this.depthStreams.size} requested`,
      );
    }
    this.fixedStreams = streams;
    this.booksOn = new Set((options.books ?? this.canonical).filter((s) => this.depthStreams.has(s)));
    this.base = options.wsUrl.replace(/\/+$/, '');
    this.handlers = handlers;
    this.logger = options.logger;
    this.streamsPerRequest = Math.max(1, Math.floor(options.streamsPerRequest ?? 100));
    this.limits = {
      messagesPerSecond: options.messagesPerSecond ?? 4,
      connectAttempts: options.connectAttempts ?? { count: 60, windowMs: 300_000 },
    };
    this.rest = options.pollSource;
    this.poll = this.rest === undefined ? undefined : (kind, signal) => this.pollRest(kind, signal);
    this.runner = new ConnectionRunner(this, handlers, {
      logger: options.logger,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      backoff: {
        ...(options.reconnect?.initialDelayMs !== undefined
          ? { initialMs: options.reconnect.initialDelayMs }
          : {}),
        ...(options.reconnect?.maxDelayMs !== undefined ? { maxMs: options.reconnect.maxDelayMs } : {}),
      },
      silenceTimeoutMs: options.silenceTimeoutMs ?? 60_000,
      ...(options.staleSymbolMs !== undefined ? { staleSymbolMs: options.staleSymbolMs } : {}),
      // Klines push every 2 s and tickers every 1 s whether or not anything trades: total silence means dead data.
      recycleWhenAllStale: this.channels.has('candles') || this.channels.has('ticker'),
      ...(options.fallback ? { fallback: options.fallback } : {}),
      ...(options.maxPayloadBytes !== undefined ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
      ...(options.closeTimeoutMs !== undefined ? { closeTimeoutMs: options.closeTimeoutMs } : {}),
    });
  }

  // ---- MarketStream ----

  status(): ConnectionStatus {
    return this.runner.status();
  }

  close(): Promise<void> {
    return this.runner.close();
  }

  subscribeBook(symbol: string, subscribed: boolean): void {
    const stream = this.depthStreams.get(symbol);
    if (stream === undefined || this.booksOn.has(symbol) === subscribed) return;
    if (subscribed) this.booksOn.add(symbol);
    else this.booksOn.delete(symbol);
    // Not connected: the next connection subscribes what booksOn holds then.
    const id = this.nextId++;
    const frame = JSON.stringify({ method: subscribed ? 'SUBSCRIBE' : 'UNSUBSCRIBE', params: [stream], id });
    if (subscribed) this.pending.set(id, frame);
    this.runner.send(frame, subscribed);
  }

  // ---- ConnectionProtocol ----

  url(): string {
    return `${this.base}/stream`;
  }

  subscriptions(): readonly string[] {
    return [
      ...this.fixedStreams,
      ...this.canonical.flatMap((s) => (this.booksOn.has(s) ? [this.depthStreams.get(s) as string] : [])),
    ];
  }

  symbols(): readonly string[] {
    return this.canonical;
  }

  onOpen(): void {
    this.pending.clear();
  }

  unansweredSubscribes(): number {
    return this.pending.size;
  }

  subscribeFrames(): readonly string[] {
    const frames: string[] = [];
    const streams = this.subscriptions();
    for (let i = 0; i < streams.length; i += this.streamsPerRequest) {
      const id = this.nextId++;
      const frame = JSON.stringify({
        method: 'SUBSCRIBE',
        params: streams.slice(i, i + this.streamsPerRequest),
        id,
      });
      this.pending.set(id, frame);
      frames.push(frame);
    }
    return frames;
  }

  handleFrame(text: string, receivedAt: number): FrameOutcome {
    const frame = parseFrame(text, this.symbolMap, receivedAt);
    switch (frame.kind) {
      case 'trade': {
        const trade = frame.trade;
        if (
          this.resumableTrades &&
          trade.seq !== undefined &&
          trade.seq > (this.lastSeq.get(trade.symbol) ?? -1)
        )
          this.lastSeq.set(trade.symbol, trade.seq);
        this.deliver('trade', () => this.handlers.trade(trade));
        return { kind: 'data', symbol: trade.symbol };
      }
      case 'candle':
        this.deliver('candle', () => this.handlers.candle?.(frame.candle));
        return { kind: 'data', symbol: frame.candle.symbol };
      case 'ticker': {
        const ticker = tickerToDomain(frame.ticker);
        this.tickers.set(ticker.symbol, ticker);
        this.deliver('ticker', () => this.handlers.ticker?.(ticker));
        return { kind: 'data', symbol: ticker.symbol };
      }
      case 'bookTicker': {
        const top = frame.bookTicker;
        const last = this.tickers.get(top.symbol);
        // Without a 24 h ticker yet there is no last price to complete a Ticker; the next @ticker push brings it.
        if (last !== undefined) {
          const ticker = withBookTop(last, top);
          this.tickers.set(top.symbol, ticker);
          this.deliver('ticker', () => this.handlers.ticker?.(ticker));
        }
        return { kind: 'data', symbol: top.symbol };
      }
      case 'depth': {
        const update = depthDiffToBookUpdate(frame.depth);
        this.deliver('book', () => this.handlers.book?.(update));
        return { kind: 'data', symbol: update.symbol };
      }
      case 'depthTop':
        return CONTROL;
      case 'ack':
        if (typeof frame.id === 'number') this.pending.delete(frame.id);
        return CONTROL;
      case 'error': {
        const message = `binance error ${frame.code}: ${frame.message}`;
        const resend = typeof frame.id === 'number' ? this.pending.get(frame.id) : undefined;
        if (resend === undefined) return { kind: 'error', message };
        this.pending.delete(frame.id as number);
        // The retry gets a fresh id so its reply is matched to it, not to the refused request.
        const id = this.nextId++;
        const retry = resend.replace(/"id":\d+\}$/, `"id":${id}}`);
        this.pending.set(id, retry);
        return { kind: 'rejected', message, resend: retry };
      }
      case 'serverShutdown':
        this.logger.info({ venue: 'binance' }, 'binance announced a server shutdown; reconnecting now');
        return { kind: 'recycle', reason: 'server shutdown' };
      case 'ignored':
        return CONTROL;
      case 'unknown':
        return { kind: 'malformed', key: frame.key, reason: frame.reason };
    }
  }

  // ---- polling fallback ----

  /**
   * `full`: aggregate trades after the last seen id (the latest 1000 when none was seen) and tickers; `prices`:
   * tickers when the ticker channel is on, else the trades. Stops between symbols once `signal` is aborted.
   */
  private async pollRest(kind: PollKind, signal: AbortSignal): Promise<void> {
    const rest = this.rest;
    if (rest === undefined) return;
    const tickers = this.channels.has('ticker') && rest.fetchTicker !== undefined;
    const trades = this.channels.has('trades') && (kind === 'full' || !tickers);
    for (const symbol of this.canonical) {
      if (signal.aborted) return;
      if (trades) await this.pollTrades(rest, symbol);
      if (tickers && !signal.aborted) {
        const ticker = await (rest.fetchTicker as (s: string) => Promise<Ticker>).call(rest, symbol);
        this.tickers.set(symbol, ticker);
        this.deliver('ticker', () => this.handlers.ticker?.(ticker));
      }
    }
  }

  private async pollTrades(rest: BinancePollSource, symbol: string): Promise<void> {
    const after = this.lastSeq.get(symbol);
    const trades = await rest.fetchTrades(
      symbol,
      after === undefined ? { limit: 1000 } : { afterSeq: after, limit: 1000 },
    );
    for (const trade of trades) {
      const seq = trade.seq;
      if (seq !== undefined && seq <= (this.lastSeq.get(symbol) ?? -1)) continue;
      if (seq !== undefined) this.lastSeq.set(symbol, seq);
      this.deliver('trade', () => this.handlers.trade(trade));
    }
  }

  private deliver(kind: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.runner.reportError(`binance ${kind} handler threw: ${(err as Error).message}`);
      this.logger.error({ venue: 'binance', err }, `binance ${kind} handler threw`);
    }
  }
}
