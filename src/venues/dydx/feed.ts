import type { Decimal } from '../../domain/decimal.ts';
import { TickwireError } from '../../domain/errors.ts';
import { INTERVAL_MS, type Interval } from '../../domain/interval.ts';
import type { Ticker } from '../../domain/ticker.ts';
import type { Trade } from '../../domain/trade.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { systemClock, type Clock } from '../../util/clock.ts';
import type { ConnectionProtocol, FrameOutcome, PollKind } from '../connection/connection-protocol.ts';
import { ConnectionRunner, type ConnectionRunnerOptions } from '../connection/runner.ts';
import { mergeStatuses } from '../connection/merge-status.ts';
import type {
  ConnectionStatus,
  MarketChannel,
  MarketStream,
  MarketStreamHandlers,
  MarketStreamOptions,
  VenueCandle,
} from '../venue.ts';
import { parseFrame, type DydxFrame } from './parse.ts';
import type { DydxRest } from './rest.ts';
import { candleChannelId, toDydxResolution, toDydxTicker } from './symbols.ts';
import type { DydxChannel, DydxSubscribeRequest } from './wire.ts';

/** The indexer allows 2 subscribe requests per (connection, channel, id) per second; we stay at one. */
const RESUBSCRIBE_MIN_GAP_MS = 1_000;

export interface DydxStreamOptions {
  /** The socket URL: wss://indexer.dydx.trade/v4/ws, or the simulator's ws://127.0.0.1:PORT/dydx/v4/ws. */
  readonly wsUrl: string;
  readonly logger: Logger;
  /** Time for receive times and status, and every timer of the connection. Default the system clock. */
  readonly clock?: Clock;
  /** Native candle resolutions for `handlers.candle`. Default ['1m']; [] subscribes none. 1W does not exist. */
  readonly candleIntervals?: readonly Interval[];
  /** Subscribe with `batched: true` (updates arrive as channel_batch_data, about every 250 ms). Default false. */
  readonly batched?: boolean;
  /** Protocol ping period (the runner measures the round trip). Default 15 s; the server pings every 30 s. */
  readonly pingIntervalMs?: number;
  /** No pong within this recycles the connection. Default 10 s (the server's own pong window). */
  readonly pongTimeoutMs?: number;
  /** Subscriptions per channel on one connection; more symbols open more connections. Default 32 (indexer default). */
  readonly maxSubscriptionsPerChannel?: number;
  /** Outbound messages per second per connection. Default 10. */
  readonly messagesPerSecond?: number;
  /** Runner tuning (connect timeout, backoff, silence, staleness, fallback); see ConnectionRunnerOptions. */
  readonly runner?: Omit<ConnectionRunnerOptions, 'logger' | 'clock'>;
  /** REST client for the polling fallback (ticker, trades since the last seen time, candles, books). */
  readonly rest?: DydxRest;
}

/** Counters of the dYdX-specific checks, summed over the stream's connections. */
export interface DydxStreamCounters {
  /** Jumps of the per-connection message_id (a message was lost somewhere on that connection). */
  readonly messageIdGaps: number;
  /** Book resubscriptions sent (after a message_id gap or on request). */
  readonly bookResyncs: number;
}

/** A dYdX market stream: the MarketStream contract plus per-book resync and dYdX counters. */
export interface DydxMarketStream extends MarketStream {
  /**
   * Rebuilds one book: unsubscribes and resubscribes its v4_orderbook channel, whose `subscribed` answer is a fresh
   * snapshot. Paced to one subscribe per book per second (a request inside that second is sent when it has passed).
   * False when the book is not subscribed.
   */
  resyncBook(symbol: string): boolean;
  /** The status of each connection, in symbol-group order. */
  connectionStatuses(): readonly ConnectionStatus[];
  counters(): DydxStreamCounters;
}

/**
 * Opens dYdX v4 Indexer market data for `symbols` (canonical "BTC/USD") and keeps it alive until `close()`:
 * v4_trades, v4_orderbook, v4_candles and (for tickers) v4_markets on resilient connections (ConnectionRunner:
 * protocol pings, backoff, paced resubscribe, watchdog, staleness, REST fallback). Each connection checks the
 * indexer's per-connection `message_id`; a jump means a message was lost, so the stream reports a `gap` event
 * (for a REST backfill) and resubscribes every book of that connection (a fresh snapshot). Throws TickwireError
 * INVALID_SYMBOL for a symbol that is not canonical, CONFIG_INVALID for a 1W candle channel.
 */
export function openDydxMarketStream(
  symbols: readonly string[],
  handlers: MarketStreamHandlers,
  options: DydxStreamOptions,
  { channels = ['trades', 'candles'], books }: MarketStreamOptions = {},
): DydxMarketStream {
  if (symbols.length === 0)
    throw new TickwireError('INVALID_SYMBOL', 'dydx market stream needs at least one symbol');
  const unique = [...new Set(symbols)];
  for (const s of unique) toDydxTicker(s);
  const wanted = new Set(channels);
  const intervals: Interval[] = wanted.has('candles')
    ? [...new Set<Interval>(options.candleIntervals ?? ['1m'])]
    : [];
  for (const i of intervals) {
    if (toDydxResolution(i) === undefined) {
      throw new TickwireError('CONFIG_INVALID', `dydx has no ${i} candle channel (largest is 1D)`);
    }
  }
  const perChannel = options.maxSubscriptionsPerChannel ?? 32;
  if (!Number.isSafeInteger(perChannel) || perChannel < 1)
    throw new TickwireError('CONFIG_INVALID', 'maxSubscriptionsPerChannel must be a positive integer');
  const groupSize = Math.max(1, Math.floor(perChannel / Math.max(1, intervals.length)));
  const shared = new SharedState(new Set(unique));
  const booksFromStart = new Set(wanted.has('book') ? (books ?? unique) : []);
  const connections: DydxConnection[] = [];
  for (let i = 0; i < unique.length; i += groupSize) {
    connections.push(
      new DydxConnection(
        unique.slice(i, i + groupSize),
        wanted,
        booksFromStart,
        intervals,
        i === 0,
        handlers,
        options,
        shared,
      ),
    );
  }
  for (const c of connections) c.runner.start();
  return {
    status: () => mergeStatuses(connections.map((c) => c.runner.status())),
    connectionStatuses: () => connections.map((c) => c.runner.status()),
    counters: () => ({
      messageIdGaps: connections.reduce((n, c) => n + c.messageIdGaps, 0),
      bookResyncs: connections.reduce((n, c) => n + c.bookResyncs, 0),
    }),
    resyncBook(symbol: string): boolean {
      const c = connections.find((conn) => conn.symbolList.includes(symbol));
      return c !== undefined && c.resyncBook(symbol);
    },
    subscribeBook(symbol: string, subscribed: boolean): void {
      connections.find((conn) => conn.symbolList.includes(symbol))?.subscribeBook(symbol, subscribed);
    },
    async close(): Promise<void> {
      await Promise.all(connections.map((c) => c.runner.close()));
    },
  };
}

/**
 * What the connections of one stream share: the last trade per symbol (ticker price, polling resume point), and the
 * newest candle seen per symbol and interval (`symbol|interval`).
 */
class SharedState {
  constructor(readonly allSymbols: ReadonlySet<string>) {}
  readonly lastTradePrice = new Map<string, Decimal>();
  readonly lastTradeTime = new Map<string, number>();
  readonly newestCandle = new Map<string, VenueCandle>();
}

/** One indexer connection for a group of symbols, as a ConnectionProtocol, and its runner. */
class DydxConnection implements ConnectionProtocol {
  readonly venue = 'dydx' as const;
  readonly heartbeat;
  readonly limits;
  readonly runner: ConnectionRunner;
  messageIdGaps = 0;
  bookResyncs = 0;
  /** Every subscription of the connection in order; a book's only while its symbol is in `books`. */
  private readonly requests: {
    readonly request: DydxSubscribeRequest;
    readonly name: string;
    readonly book?: string;
  }[] = [];
  /** The symbols whose book is subscribed now (every socket subscribes these when it opens). */
  private readonly books = new Set<string>();
  /** message_id of the last message on the current socket; undefined before `connected`. */
  private lastMessageId: number | undefined;
  /** Receive time of the last message on the current socket. */
  private lastFrameAt: number | undefined;
  /** Subscribe requests sent on this socket and not yet answered, oldest first. */
  private readonly pending: DydxSubscribeRequest[] = [];
  private readonly lastBookSubscribe = new Map<string, number>();
  private readonly deferredResyncs = new Set<string>();
  private readonly clock: Clock;

  constructor(
    readonly symbolList: readonly string[],
    wanted: ReadonlySet<MarketChannel>,
    booksFromStart: ReadonlySet<string>,
    private readonly intervals: readonly Interval[],
    withMarkets: boolean,
    private readonly handlers: MarketStreamHandlers,
    private readonly options: DydxStreamOptions,
    private readonly shared: SharedState,
  ) {
    this.clock = options.clock ?? systemClock;
    this.heartbeat = {
      kind: 'ws-ping',
      intervalMs: options.pingIntervalMs ?? 15_000,
      timeoutMs: options.pongTimeoutMs ?? 10_000,
    } as const;
    this.limits = { messagesPerSecond: options.messagesPerSecond ?? 10 };
    const batched = options.batched ?? false;
    const add = (channel: DydxChannel, id?: string, book?: string): void => {
      this.requests.push({
        request: { type: 'subscribe', channel, ...(id === undefined ? {} : { id }), batched },
        name: id === undefined ? channel : `${channel}:${id}`,
        ...(book === undefined ? {} : { book }),
      });
    };
    for (const symbol of symbolList) {
      const ticker = toDydxTicker(symbol);
      if (wanted.has('trades')) add('v4_trades', ticker);
      if (wanted.has('book')) {
        add('v4_orderbook', ticker, symbol);
        if (booksFromStart.has(symbol)) this.books.add(symbol);
      }
      for (const interval of intervals) add('v4_candles', candleChannelId(symbol, interval));
    }
    if (withMarkets && wanted.has('ticker')) add('v4_markets');
    this.runner = new ConnectionRunner(
      this,
      { status: (s) => handlers.status(s), event: (e) => handlers.event?.(e) },
      { ...options.runner, logger: options.logger, clock: this.clock },
    );
  }

  url(): string {
    return this.options.wsUrl;
  }

  subscriptions(): readonly string[] {
    return this.requestsNow().map((r) => r.name);
  }

  private requestsNow(): typeof this.requests {
    return this.requests.filter((r) => r.book === undefined || this.books.has(r.book));
  }

  symbols(): readonly string[] {
    return this.symbolList;
  }

  onOpen(): void {
    this.lastMessageId = undefined;
    this.lastFrameAt = undefined;
    this.pending.length = 0;
    this.deferredResyncs.clear();
    const at = this.clock.now();
    for (const symbol of this.books) this.lastBookSubscribe.set(symbol, at);
  }

  unansweredSubscribes(): number {
    return this.pending.length;
  }

  subscribeFrames(): readonly string[] {
    const requests = this.requestsNow().map((r) => r.request);
    this.pending.push(...requests);
    return requests.map((r) => JSON.stringify(r));
  }

  /** Subscribes or unsubscribes `symbol`'s book (MarketStream.subscribeBook). */
  subscribeBook(symbol: string, subscribed: boolean): void {
    const entry = this.requests.find((r) => r.book === symbol);
    if (entry === undefined || this.books.has(symbol) === subscribed) return;
    const id = toDydxTicker(symbol);
    if (!subscribed) {
      this.books.delete(symbol);
      this.deferredResyncs.delete(symbol);
      this.runner.send(JSON.stringify({ type: 'unsubscribe', channel: 'v4_orderbook', id }));
      return;
    }
    this.books.add(symbol);
    // Not connected: the next socket subscribes what `books` holds then.
    if (this.runner.send(JSON.stringify(entry.request), true)) {
      this.pending.push(entry.request);
      this.lastBookSubscribe.set(symbol, this.clock.now());
    }
  }

  resyncBook(symbol: string): boolean {
    if (!this.books.has(symbol)) return false;
    const since = this.clock.now() - (this.lastBookSubscribe.get(symbol) ?? 0);
    if (since < RESUBSCRIBE_MIN_GAP_MS) {
      this.deferredResyncs.add(symbol);
      return true;
    }
    return this.sendBookResubscribe(symbol);
  }

  private sendBookResubscribe(symbol: string): boolean {
    const id = toDydxTicker(symbol);
    const request: DydxSubscribeRequest = {
      type: 'subscribe',
      channel: 'v4_orderbook',
      id,
      batched: this.options.batched ?? false,
    };
    const ok =
      this.runner.send(JSON.stringify({ type: 'unsubscribe', channel: 'v4_orderbook', id })) &&
      this.runner.send(JSON.stringify(request), true);
    if (ok) {
      this.pending.push(request);
      this.lastBookSubscribe.set(symbol, this.clock.now());
      this.deferredResyncs.delete(symbol);
      this.bookResyncs++;
    }
    return ok;
  }

  handleFrame(text: string, receivedAt: number): FrameOutcome {
    const frame = parseFrame(text, receivedAt);
    this.checkMessageId(frame, receivedAt);
    if (this.deferredResyncs.size > 0) {
      for (const symbol of [...this.deferredResyncs]) {
        if (receivedAt - (this.lastBookSubscribe.get(symbol) ?? 0) >= RESUBSCRIBE_MIN_GAP_MS)
          this.sendBookResubscribe(symbol);
      }
    }
    const h = this.handlers;
    switch (frame.kind) {
      case 'connected':
        return { kind: 'control' };
      case 'trades': {
        if (frame.snapshot) this.answered('v4_trades', frame.symbol);
        const trades = frame.trades;
        const n = trades.length;
        // A snapshot lists the newest trade first; hand them on oldest first.
        for (let k = 0; k < n; k++) this.onTrade(trades[frame.snapshot ? n - 1 - k : k]);
        return { kind: 'data', symbol: frame.symbol };
      }
      case 'book':
        if (frame.update.kind === 'snapshot') this.answered('v4_orderbook', frame.update.symbol);
        h.book?.(frame.update);
        return { kind: 'data', symbol: frame.update.symbol };
      case 'candles':
        if (frame.snapshot) this.answered('v4_candles', frame.symbol);
        for (const c of frame.candles) this.onCandle(c, frame.snapshot);
        return { kind: 'data', symbol: frame.symbol };
      case 'markets':
        if (frame.snapshot) this.answered('v4_markets', undefined);
        this.emitTickers(frame, receivedAt);
        return { kind: 'control' };
      case 'unsubscribed':
      case 'ignored':
        return { kind: 'control' };
      case 'pong':
        return { kind: 'pong' };
      case 'error':
        return this.onError(frame.message);
      case 'unknown':
        return { kind: 'malformed', key: frame.key, reason: frame.reason };
    }
  }

  /**
   * The indexer sends a candle only while it is in progress (a snapshot holds the closed ones): when an update
   * starts a later candle, the last state seen of the earlier one is handed on as closed, with `lastSeen` (its
   * final state was never sent, and the last one seen may lack its last trades), so that the kline check fetches it.
   */
  private onCandle(c: VenueCandle, snapshot: boolean): void {
    const key = `${c.symbol}|${c.interval}`;
    const newest = this.shared.newestCandle.get(key);
    if (!snapshot && newest !== undefined && !newest.closed && c.bar.time > newest.bar.time) {
      this.handlers.candle?.({ ...newest, closed: true, lastSeen: true });
    }
    if (newest === undefined || c.bar.time >= newest.bar.time || snapshot) {
      // A snapshot's candles come oldest first: its last is the newest.
      this.shared.newestCandle.set(key, c);
    }
    this.handlers.candle?.(c);
  }

  private onTrade(t: Trade | undefined): void {
    if (t === undefined) return;
    this.handlers.trade(t);
    if (t.time >= (this.shared.lastTradeTime.get(t.symbol) ?? -Infinity)) {
      this.shared.lastTradeTime.set(t.symbol, t.time);
      this.shared.lastTradePrice.set(t.symbol, t.price);
    }
  }

  /**
   * The indexer numbers every message of a connection 0, 1, 2, ...; a jump means a message was lost. Books cannot
   * be trusted after that (no per-book sequence exists), and trades or candles may be missing too.
   */
  private checkMessageId(frame: DydxFrame, receivedAt: number): void {
    const id = frame.messageId;
    const previousAt = this.lastFrameAt ?? receivedAt;
    this.lastFrameAt = receivedAt;
    if (id === undefined) return;
    if (frame.kind === 'connected') {
      this.lastMessageId = id;
      return;
    }
    const last = this.lastMessageId;
    if (last !== undefined && id > last + 1) {
      this.messageIdGaps++;
      const reason = `dydx message_id jumped from ${last} to ${id}: ${id - last - 1} message(s) lost`;
      this.options.logger.warn({ venue: 'dydx', last, received: id }, 'dydx message_id gap; resyncing books');
      this.handlers.event?.({ kind: 'gap', at: receivedAt, from: previousAt, to: receivedAt, reason });
      for (const symbol of this.books) this.resyncBook(symbol);
    }
    if (last === undefined || id > last) this.lastMessageId = id;
  }

  private answered(channel: DydxChannel, symbol: string | undefined): void {
    const id = channel === 'v4_markets' || symbol === undefined ? undefined : toDydxTicker(symbol);
    const i = this.pending.findIndex(
      (r) => r.channel === channel && (channel === 'v4_candles' ? r.id?.startsWith(`${id}/`) : r.id === id),
    );
    if (i >= 0) this.pending.splice(i, 1);
  }

  /**
   * An error reply. "could not fetch data for subscription: <channel>" refuses the oldest unanswered subscribe of
   * that channel, which is resent after a backoff; other errors are counted and logged.
   */
  private onError(message: string): FrameOutcome {
    const text = `dydx error: ${message}`;
    const m = /subscription: (v4_[a-z_]+)/.exec(message);
    if (m !== null) {
      const i = this.pending.findIndex((r) => r.channel === m[1]);
      if (i >= 0) {
        const [request] = this.pending.splice(i, 1);
        return { kind: 'rejected', message: text, resend: JSON.stringify(request) };
      }
    }
    if (/subscri/i.test(message)) return { kind: 'rejected', message: text };
    return { kind: 'error', message: text };
  }

  private emitTickers(frame: Extract<DydxFrame, { kind: 'markets' }>, receivedAt: number): void {
    const emit = this.handlers.ticker;
    if (emit === undefined) return;
    // v4_markets runs on the first connection only and covers every symbol of the stream.
    const seen = this.shared.allSymbols;
    const volumes = new Map<string, Decimal | undefined>();
    for (const m of frame.markets) if (m.symbol !== undefined) volumes.set(m.symbol, m.volume24hUsd);
    for (const c of frame.changes)
      if (c.symbol !== undefined && c.volume24hUsd) volumes.set(c.symbol, c.volume24hUsd);
    const oracle = new Map<string, { price: Decimal; time: number }>();
    for (const m of frame.markets)
      if (m.symbol !== undefined && m.oraclePrice !== undefined)
        oracle.set(m.symbol, { price: m.oraclePrice, time: receivedAt });
    for (const o of frame.oraclePrices)
      if (o.symbol !== undefined) oracle.set(o.symbol, { price: o.price, time: o.time });
    for (const [symbol, o] of oracle) {
      if (!seen.has(symbol)) continue;
      const ticker: Ticker = {
        venue: 'dydx',
        symbol,
        last: this.shared.lastTradePrice.get(symbol) ?? o.price,
        quoteVolume24h: volumes.get(symbol),
        time: o.time,
        receivedAt,
      };
      emit(ticker);
    }
  }

  /** Fallback over REST while the socket is down. */
  async poll(kind: PollKind, signal: AbortSignal): Promise<void> {
    const rest = this.options.rest;
    if (rest === undefined) return;
    const h = this.handlers;
    const names = this.subscriptions();
    const wantsTrades = names.some((n) => n.startsWith('v4_trades:'));
    for (const symbol of this.symbolList) {
      if (signal.aborted) return;
      if (kind === 'prices') {
        if (h.ticker && names.includes('v4_markets')) h.ticker(await rest.fetchTicker(symbol));
        continue;
      }
      if (wantsTrades) {
        const since = this.shared.lastTradeTime.get(symbol);
        // Trades of one block share a time: resume at it (duplicates are dropped downstream by id).
        const trades = await rest.fetchTrades(
          symbol,
          since === undefined ? { limit: 100 } : { startTime: since },
        );
        for (const t of trades) {
          if (signal.aborted) return;
          h.trade(t);
          this.shared.lastTradeTime.set(symbol, t.time);
          this.shared.lastTradePrice.set(symbol, t.price);
        }
      }
      if (this.books.has(symbol) && h.book) h.book(await rest.fetchBookSnapshot(symbol, 100));
      if (h.candle) {
        for (const interval of this.intervals) {
          const bars = await rest.fetchCandles(symbol, interval, { limit: 2 });
          const at = this.clock.now();
          for (const bar of bars) {
            h.candle({
              venue: 'dydx',
              symbol,
              interval,
              bar,
              closed: bar.time + INTERVAL_MS[interval] <= at,
              receivedAt: at,
            });
          }
        }
      }
    }
  }
}
