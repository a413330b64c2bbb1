import { VenueBooks, type VenueBooksEvent } from '../book/venue-books.ts';
import type { Bus } from '../bus/bus.ts';
import {
  BOOK_CHANNEL,
  BookSnapshotEncoder,
  encodeTicker,
  encodeTrades,
  TICKER_CHANNEL,
  TRADES_CHANNEL,
} from '../bus/market-message.ts';
import { CandleEngine } from '../candles/candle-engine.ts';
import { UpdateCoalescer } from '../candles/update-coalescer.ts';
import type { AlertInput } from '../domain/alert.ts';
import type { Candle } from '../domain/candle.ts';
import { INTERVAL_MS, type Interval } from '../domain/interval.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { Trade } from '../domain/trade.ts';
import type { Logger } from '../telemetry/logger.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { positiveInteger } from '../util/options.ts';
import type {
  ConnectionStatus,
  MarketStream,
  StreamEvent,
  StreamStatus,
  VenueAdapter,
  VenueCandle,
} from '../venues/venue.ts';
import type { CandleOutput } from './composite-candles.ts';
import { HistoryLoader, historyUpdates, type StartupHistory } from './history-loader.ts';
import type { IngestObserver } from './source-monitor.ts';
import { SymbolIngest, type SymbolIngestStats } from './symbol-ingest.ts';
import { TradeBackfill } from './trade-backfill.ts';
import { VenueKlineCheck } from './venue-kline-check.ts';

/** Instruments of one venue whose start-up history loads at the same time. */
export const DEFAULT_HISTORY_CONCURRENCY = 2;

export interface VenueIngestOptions {
  readonly adapter: VenueAdapter;
  /** Instruments whose trades, ticker and book this venue serves. */
  readonly symbols: readonly string[];
  /** The subset whose candles this venue builds (history, live bars, backfill); default all of `symbols`. */
  readonly candleSymbols?: readonly string[];
  /** Where candle updates go (stored, then published); the composite across venues in `tickwire all`. */
  readonly candles: CandleOutput;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly closeGraceMs: number;
  /** Bars of each interval loaded from the venue at start. */
  readonly historyBars: number;
  /** How often changed bars are written and published (default 100 ms). */
  readonly publishEveryMs?: number;
  /** How often the clock closes bars whose time is over (default 250 ms). */
  readonly clockEveryMs?: number;
  /** Instruments whose history loads at the same time (default 2), first to go live, then in the background. */
  readonly historyConcurrency?: number;
  /** Told when an instrument's whole history (older than what it went live with) has been written. */
  readonly onHistoryLoaded?: (symbol: string) => void;
  /** Time of history windows and bar closes, and every timer. Default the system clock. */
  readonly clock?: Clock;
  /** Told of every data message and connection change (source health for failover). */
  readonly observer?: IngestObserver;
  /** Raises an operator alert (book resyncs, backfills). */
  readonly alert?: (input: AlertInput) => void;
  /** Given every batch of new trades, deduplicated, in order (trade storage when STORE_TRADES is on). */
  readonly tradeSink?: (trades: readonly Trade[]) => void;
  /** Resolves once the store has room for another piece of the background history (HistoryLoaderOptions.room). */
  readonly historyRoom?: () => Promise<void>;
  /**
   * Once only watched books are published (`publishWatchedBooksOnly` before `start`): how long a book stays
   * subscribed at the venue after its last room closed or after it was last asked for, ms (default
   * BOOK_LINGER_MS).
   */
  readonly bookLingerMs?: number;
  /**
   * Resolves when an instrument's start-up history may be applied: in `tickwire all` the turn budget the venues'
   * frames and REST answers share (src/util/turn-budget.ts), so that the applies of instruments whose
   * answers come together (each seeds its engine and replays its trades) run in turns of their own rather than in
   * one long turn with the answers. The background history's slices are stored under it too. Default: at once
   * (the slices: a turn of the event loop apart).
   */
  readonly historyTurn?: (owner: object) => Promise<void>;
}

/** The ingest's figures; the connection's own facts are in `connection` only. */
export interface IngestStats {
  readonly venue: string;
  readonly oneMinuteCandlesCount: number;
  readonly backfills: number;
  readonly backfilledTrades: number;
  /** 1m bars revised by backfilled trades. */
  readonly backfilledBars: number;
  readonly klineMismatches: number;
  readonly instruments: Record<string, SymbolIngestStats>;
  readonly books: ReturnType<VenueBooks['stats']>;
  /** The connection's status (connected, is_healthy, ws_url, subscriptions, reconnect_count, last_heartbeat…). */
  readonly connection: ConnectionStatus | null;
}

/**
 * Runs one venue's market data into candles: loads history at start, keeps the live stream, backfills every
 * gap over REST, and writes each changed bar to the store before publishing it on the bus (so a client that
 * reads history never sees less than the stream has said). Trades, tickers and books go onto the bus too.
 *
 * The clock only closes bars while the stream is connected: during an outage the bars stay open, and the
 * trades fetched after reconnecting fill them in order, so no invented empty bar is ever published.
 */
export class VenueIngest {
  private readonly symbols = new Map<string, SymbolIngest>();
  private readonly coalescer = new UpdateCoalescer();
  private readonly clock: Clock;
  private readonly history: HistoryLoader;
  private readonly backfill: TradeBackfill;
  private readonly klineCheck: VenueKlineCheck;
  private readonly books: VenueBooks;
  private readonly publishEveryMs: number;
  private readonly clockEveryMs: number;
  private readonly historyConcurrency: number;
  private stream: MarketStream | null = null;
  private connected = false;
  private wasDisconnected = false;
  private publishTimer: Timer | undefined;
  private clockTimer: Timer | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly bookEncoder = new BookSnapshotEncoder();
  /**
   * The instruments whose book is published, once `publishWatchedBooksOnly` was called (the gateway's book rooms
   * in the in-process `tickwire all`); undefined: every book is published (a bus read by other processes).
   */
  private watchedBooks: Set<string> | undefined;
  /**
   * The books subscribed at the venue, when only watched books are (the stream can subscribe books one by one and
   * `publishWatchedBooksOnly` came before `start`); undefined: every book is subscribed and kept.
   */
  private subscribedBooks: Set<string> | undefined;
  /** The books no room watches that stay subscribed until their timer fires (BOOK_LINGER_MS). */
  private readonly bookLinger = new Map<string, Timer>();
  private readonly bookLingerMs: number;

  constructor(private readonly options: VenueIngestOptions) {
    const { adapter, logger } = options;
    this.clock = options.clock ?? systemClock;
    this.publishEveryMs = positiveInteger('VenueIngest', 'publishEveryMs', options.publishEveryMs ?? 100);
    this.clockEveryMs = positiveInteger('VenueIngest', 'clockEveryMs', options.clockEveryMs ?? 250);
    this.bookLingerMs = positiveInteger(
      'VenueIngest',
      'bookLingerMs',
      options.bookLingerMs ?? BOOK_LINGER_MS,
    );
    this.historyConcurrency = positiveInteger(
      'VenueIngest',
      'historyConcurrency',
      options.historyConcurrency ?? DEFAULT_HISTORY_CONCURRENCY,
    );
    const candleSymbols = new Set(options.candleSymbols ?? options.symbols);
    for (const symbol of options.symbols) {
      const engine = candleSymbols.has(symbol)
        ? new CandleEngine({
            symbol,
            venues: [adapter.venue],
            closeGraceMs: options.closeGraceMs,
            // Live bars are built once per publish (flush), not once per trade and interval.
            deferLive: true,
            onUpdate: (u) => this.coalescer.add(u),
          })
        : null;
      this.symbols.set(symbol, new SymbolIngest(symbol, engine, adapter.contiguousTradeSeq ?? true));
    }
    this.history = new HistoryLoader({
      venue: adapter.venue,
      rest: adapter.rest,
      historyBars: options.historyBars,
      logger,
      clock: this.clock,
      ...(options.historyRoom ? { room: options.historyRoom } : {}),
      ...(options.historyTurn ? { sliceTurn: options.historyTurn } : {}),
    });
    this.backfill = new TradeBackfill({
      venue: adapter.venue,
      rest: adapter.rest,
      contiguousTradeSeq: adapter.contiguousTradeSeq !== false,
      logger,
      clock: this.clock,
      ...(options.alert ? { alert: options.alert } : {}),
    });
    // Less volume than the venue's kline means trades the stream lost without a sign: those since that minute are
    // fetched, and the ones not seen revise its bar.
    this.klineCheck = new VenueKlineCheck({
      venue: adapter.venue,
      rest: adapter.rest,
      logger,
      clock: this.clock,
      onShort: (symbol, kline) => this.backfill.missed(symbol, { since: kline.time }),
    });
    const fetchSnapshot = adapter.rest.fetchBookSnapshot?.bind(adapter.rest);
    this.books = new VenueBooks(
      {
        venue: adapter.venue,
        rules: adapter.bookRules,
        ...(fetchSnapshot ? { fetchSnapshot } : {}),
        ...(adapter.bookRules.snapshotSource === 'stream'
          ? { resubscribe: (symbol: string) => void this.stream?.resyncBook?.(symbol) }
          : {}),
        // The venue's books are published five times a second each with few of their levels changed: the encoder
        // copies the bytes of the levels it encoded before. A book nobody watches is not encoded at all.
        publish: (snapshot) => {
          if (this.bookPublished(snapshot.symbol))
            this.options.bus.publish(BOOK_CHANNEL, this.bookEncoder.encode(snapshot));
        },
        // Nor is its snapshot built or timed: a book that becomes watched is published at once (watchBook).
        published: (symbol) => this.bookPublished(symbol),
        // A book unsubscribed is not kept: what still arrives for it (messages on their way, a REST snapshot asked
        // for before) is ignored.
        kept: (symbol) => this.subscribedBooks === undefined || this.subscribedBooks.has(symbol),
        onEvent: (event) => this.onBookEvent(event),
      },
      // The snapshots' throttle and the snapshot timeout run on the ingest's clock too.
      { clock: this.clock },
    );
  }

  /**
   * Opens the stream and loads history for every instrument: each goes live once the few bars its open bars are
   * made of are applied, then the older history loads in the background (`onHistoryLoaded` per instrument).
   * Resolves once every instrument's whole history is loaded (or at close).
   */
  async start(): Promise<void> {
    const { adapter, logger, observer, candles } = this.options;
    // The stream opens first and its trades are held, so that nothing between the REST history and the first
    // live trade is missed; the dedupe drops the overlap.
    this.stream = adapter.openMarketStream(
      this.options.symbols,
      {
        trade: (t) => {
          observer?.data(t.symbol, t.receivedAt, t.time);
          this.onTrade(t);
        },
        candle: (c) => {
          // A kline carries no event time: it shows the source is fresh but says nothing of its lag.
          observer?.data(c.symbol, c.receivedAt, undefined);
          this.onVenueCandle(c);
        },
        ticker: (t) => {
          observer?.data(t.symbol, t.receivedAt, t.time);
          this.onTicker(t);
        },
        book: (u) => {
          observer?.data(u.symbol, u.receivedAt, u.time);
          this.books.apply(u);
        },
        status: (s) => {
          this.onStatus(s);
          observer?.status(s);
        },
        event: (e) => {
          this.onStreamEvent(e);
          observer?.event(e);
        },
      },
      {
        channels: ['trades', 'candles', 'ticker', 'book'],
        // Only the books watched are subscribed, when the gateway in this process says which (publishWatchedBooksOnly).
        ...(this.watchedBooks ? { books: [...this.watchedBooks] } : {}),
      },
    );
    if (this.watchedBooks && this.stream.subscribeBook) this.subscribedBooks = new Set(this.watchedBooks);
    // The timers run from the start: an instrument goes live as soon as its own history is applied (its trades are
    // held and its bars unpublished until then), not once the slowest instrument of the venue has loaded.
    if (!this.closed) {
      this.publishTimer = this.clock.setInterval(() => void this.flush(), this.publishEveryMs);
      this.clockTimer = this.clock.setInterval(() => this.tick(), this.clockEveryMs);
    }
    // Each instrument goes live after a handful of small requests (the bars its open bars are made of), a few
    // instruments at a time, in the configured order; the long history loads afterwards, in the background, so
    // that it delays no instrument's live bars.
    const withCandles: { symbol: SymbolIngest; liveMinute: number }[] = [];
    await this.inTurn([...this.symbols.values()], async (symbol) => {
      const engine = symbol.engine;
      // A symbol without candles here only relays trades: nothing to load, it releases what it held.
      if (!engine) {
        symbol.release();
        return;
      }
      let liveMinute: number | undefined;
      const live = await this.history.load(symbol.symbol, async (h) => {
        // The live trades stay held meanwhile (the instrument is not released yet): nothing is lost by waiting.
        await this.options.historyTurn?.(this);
        await this.applyHistory(symbol, engine, h);
        liveMinute = h.liveMinute;
      });
      if (live && liveMinute !== undefined) withCandles.push({ symbol, liveMinute });
    });
    if (this.closed) return;
    await this.flush();
    logger.info(
      { venue: adapter.venue, symbols: this.options.symbols },
      `live, streaming ${this.options.symbols.join(', ')}; loading the older history`,
    );
    await this.inTurn(withCandles, async ({ symbol, liveMinute }) => {
      const startedAt = this.clock.now();
      const done = await this.history.loadOlder(symbol.symbol, liveMinute, (updates) =>
        candles.write(adapter.venue, updates, false),
      );
      if (!done) return;
      logger.info(
        { venue: adapter.venue, symbol: symbol.symbol, ms: this.clock.now() - startedAt },
        'history loaded',
      );
      this.options.onHistoryLoaded?.(symbol.symbol);
    });
  }

  /** Runs `task` for each of `items`, `historyConcurrency` at a time, in order; stops starting new ones at close. */
  private async inTurn<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
    const pending = [...items];
    const next = async (): Promise<void> => {
      for (let item = pending.shift(); item !== undefined && !this.closed; item = pending.shift())
        await task(item);
    };
    await Promise.all(Array.from({ length: this.historyConcurrency }, next));
  }

  /**
   * Stores the loaded bars, seeds the engine with them, applies the trades of the minute in progress, then the live
   * trades held: the instrument is live.
   */
  private async applyHistory(
    symbol: SymbolIngest,
    engine: CandleEngine,
    history: StartupHistory,
  ): Promise<void> {
    const { adapter, logger, candles } = this.options;
    // Not awaited: the engine need not wait for the store (which may still be opening) to go live. The write is
    // queued before any of this instrument's live bars, which are stored and published after it, in order.
    void candles.write(adapter.venue, historyUpdates(history, adapter.venue), false);
    engine.seed('1m', history.minutes);
    for (const [interval, bars] of history.higher) engine.seed(interval, bars);
    engine.resume(history.liveMinute);
    // The seeded bars hold every trade before the live minute: none of those may be added again.
    symbol.historyUntil(history.liveMinute);
    const first = history.recentTrades[0];
    if (first?.seq !== undefined) symbol.dedupe.resumeAfter(first.seq - 1);
    for (const t of history.recentTrades) symbol.apply(t, undefined, true);
    // A stream that has only just connected may not deliver this symbol's trades from `tradesUntil` on yet.
    symbol.expectStreamJoin(history.tradesUntil);
    const heldTrades = symbol.release((missed) => this.backfill.missed(symbol, missed));
    logger.info(
      {
        venue: adapter.venue,
        symbol: symbol.symbol,
        bars: history.bars,
        minutes: history.minutes.length,
        recentTrades: history.recentTrades.length,
        heldTrades,
        ms: this.clock.now() - history.startedAt,
      },
      `live after ${history.bars} bars of history`,
    );
  }

  private onTrade(trade: Trade): void {
    const symbol = this.symbols.get(trade.symbol);
    symbol?.receive(trade, (missed) => this.backfill.missed(symbol, missed));
  }

  private onTicker(ticker: Ticker): void {
    if (!this.symbols.has(ticker.symbol)) return;
    this.options.bus.publish(TICKER_CHANNEL, encodeTicker(ticker));
  }

  private onStreamEvent(event: StreamEvent): void {
    const { logger, adapter } = this.options;
    const venue = adapter.venue;
    switch (event.kind) {
      case 'book-gap':
        logger.warn({ venue, symbol: event.symbol, detail: event.detail }, 'book messages lost; rebuilding');
        this.books.gap(event.symbol, event.detail);
        break;
      case 'gap':
        // Live data stopped for a while on a socket that stayed open (or while polling): fetch what traded.
        logger.warn(
          { venue, from: event.from, to: event.to, reason: event.reason },
          'stream gap; backfilling',
        );
        for (const symbol of this.symbols.values()) this.backfill.sinceLast(symbol);
        break;
      // stale, fresh, mode, rejected and recycle are logged by the connection that saw them (runner.ts).
    }
  }

  private onBookEvent(event: VenueBooksEvent): void {
    const { logger } = this.options;
    if (event.type === 'resync') {
      logger.warn({ ...event }, 'book resync');
      this.options.alert?.({
        severity: 'warning',
        kind: 'book_resync',
        venue: event.venue,
        symbol: event.symbol,
        message: `${event.venue} ${event.symbol}: order book resync (${event.reason})`,
        details: { reason: event.reason },
      });
    } else if (event.type === 'snapshot-failed') logger.warn({ ...event }, 'book snapshot failed');
    else logger.debug({ ...event }, 'book synced');
  }

  private onStatus(status: StreamStatus): void {
    if (status.kind === 'connected') {
      this.connected = true;
      if (this.wasDisconnected) {
        this.wasDisconnected = false;
        // Whatever traded while we were away is fetched over REST before the clock moves on.
        for (const symbol of this.symbols.values()) this.backfill.sinceLast(symbol);
      }
    } else if (status.kind === 'disconnected') {
      // Bars stay open until the backfill after the reconnect; the connection logs the disconnect itself.
      this.connected = false;
      this.wasDisconnected = true;
    }
  }

  /** A closed 1m kline of the venue is compared with our bar of that minute (VenueKlineCheck). */
  private onVenueCandle(candle: VenueCandle): void {
    if (!candle.closed || candle.interval !== '1m') return;
    const symbol = this.symbols.get(candle.symbol);
    if (symbol) this.klineCheck.closedKline(symbol, candle);
  }

  private tick(): void {
    if (!this.connected) return;
    const now = this.clock.now();
    for (const symbol of this.symbols.values()) symbol.advance(now);
  }

  /** Writes the changed bars to the store, then publishes them; one flush at a time, in order. */
  flush(): Promise<void> {
    const { adapter, bus, candles, logger } = this.options;
    for (const symbol of this.symbols.values()) {
      const trades = symbol.takeTrades();
      if (trades.length === 0) continue;
      bus.publish(TRADES_CHANNEL, encodeTrades(adapter.venue, symbol.symbol, trades));
      this.options.tradeSink?.(trades);
    }
    this.flushing = this.flushing.then(async () => {
      // The live bars of a symbol another venue is the source of would be dropped by the composite: not built.
      // A takeover publishes this venue's bars from its engine's state, so only later changes are published after.
      for (const symbol of this.symbols.values()) {
        if (candles.publishes?.(adapter.venue, symbol.symbol) ?? true) symbol.engine?.publishLive();
        else symbol.engine?.discardLive();
      }
      const batch = this.coalescer.flush();
      if (batch.length === 0) return;
      try {
        await candles.write(adapter.venue, batch, true);
      } catch (err) {
        // One failed batch must not stop the chain of later flushes.
        logger.error({ err, venue: adapter.venue }, 'publishing candles failed');
      }
    });
    return this.flushing;
  }

  stats(): IngestStats {
    const instruments: IngestStats['instruments'] = {};
    let oneMinute = 0;
    let mismatches = 0;
    for (const symbol of this.symbols.values()) {
      const stats = symbol.stats();
      oneMinute += stats.oneMinuteCandles ?? 0;
      mismatches += symbol.mismatchedKlines;
      instruments[symbol.symbol] = stats;
    }
    return {
      venue: this.options.adapter.venue,
      oneMinuteCandlesCount: oneMinute,
      ...this.backfill.stats(),
      klineMismatches: mismatches,
      instruments,
      books: this.books.stats(),
      connection: this.connectionStatus(),
    };
  }

  /** Whether `symbol`'s book is published: every book, or only the watched ones (publishWatchedBooksOnly). */
  private bookPublished(symbol: string): boolean {
    return this.watchedBooks === undefined || this.watchedBooks.has(symbol);
  }

  /**
   * From now on only the books `watchBook` names are published (the in-process `tickwire all`, whose one gateway
   * says which books a room watches); by default every book is, for gateways in other processes. Called before
   * `start`, the venue is also asked only for those books (and for a book asked for with `publishBook`), each until
   * `bookLingerMs` after nothing watches or asks for it: a book no one reads costs nothing.
   */
  publishWatchedBooksOnly(): void {
    this.watchedBooks ??= new Set();
  }

  /**
   * A room of `symbol`'s book opened (`watched`) or its last one closed. A book that becomes watched is published
   * at once when it is synced (the bus delivers it before this returns when it is in-process), then as it changes;
   * one that was not subscribed is subscribed now and published once its snapshot made it consistent.
   */
  watchBook(symbol: string, watched: boolean): void {
    if (this.watchedBooks === undefined || !this.symbols.has(symbol)) return;
    if (!watched) {
      this.watchedBooks.delete(symbol);
      this.lingerBook(symbol);
      return;
    }
    this.watchedBooks.add(symbol);
    this.subscribeBook(symbol);
    this.publishBook(symbol);
  }

  /**
   * Publishes `symbol`'s current book now, watched or not (a request for the latest book); nothing while the book
   * is not synced. Same message as the throttled snapshots. A book not subscribed is subscribed for the linger
   * time, so that a request repeated in a moment finds it.
   */
  publishBook(symbol: string): void {
    if (this.closed || !this.symbols.has(symbol)) return;
    if (this.subscribedBooks !== undefined && !this.watchedBooks?.has(symbol)) {
      this.subscribeBook(symbol);
      this.lingerBook(symbol);
    }
    const snapshot = this.books.snapshot(symbol);
    if (snapshot === undefined) return;
    this.options.bus.publish(BOOK_CHANNEL, this.bookEncoder.encode(snapshot));
  }

  /** Subscribes `symbol`'s book at the venue unless it is (books on demand only). */
  private subscribeBook(symbol: string): void {
    const subscribed = this.subscribedBooks;
    if (subscribed === undefined) return;
    this.clock.clearTimer(this.bookLinger.get(symbol));
    this.bookLinger.delete(symbol);
    if (subscribed.has(symbol)) return;
    subscribed.add(symbol);
    this.stream?.subscribeBook?.(symbol, true);
  }

  /** (Re)starts the time after which `symbol`'s book, watched by no room, is unsubscribed and forgotten. */
  private lingerBook(symbol: string): void {
    if (this.subscribedBooks === undefined || this.closed) return;
    this.clock.clearTimer(this.bookLinger.get(symbol));
    const timer = this.clock.setTimeout(() => {
      this.bookLinger.delete(symbol);
      if (this.watchedBooks?.has(symbol) || this.closed) return;
      this.subscribedBooks?.delete(symbol);
      this.stream?.subscribeBook?.(symbol, false);
      this.books.forget(symbol);
    }, this.bookLingerMs);
    timer.unref();
    this.bookLinger.set(symbol, timer);
  }

  get venue(): VenueAdapter['venue'] {
    return this.options.adapter.venue;
  }

  /** This venue's own bars of `symbol` that end after `since`, oldest first (for a failover takeover). */
  barsSince(symbol: string, interval: Interval, since: number): Candle[] {
    const engine = this.symbols.get(symbol)?.engine;
    if (!engine) return [];
    const size = INTERVAL_MS[interval];
    const count = Math.ceil((this.clock.now() - since) / size) + 2;
    return engine.history(interval, count).filter((b) => b.time + size > since);
  }

  /**
   * The connection's status, cheaply (no book or engine statistics); null before the stream opens. The one place
   * the ingest reads the stream's status.
   */
  connectionStatus(): ConnectionStatus | null {
    return this.stream?.status() ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimer(this.publishTimer);
    this.clock.clearTimer(this.clockTimer);
    for (const timer of this.bookLinger.values()) this.clock.clearTimer(timer);
    this.bookLinger.clear();
    this.history.close();
    this.backfill.close();
    this.klineCheck.close();
    this.books.close();
    await this.stream?.close();
    await this.flush();
  }
}

/**
 * How long a venue's book stays subscribed, once nothing watches it, in `tickwire all` without Redis (ms): a
 * viewer switching back within it gets the book at once, and a venue is asked to subscribe and unsubscribe one
 * book at most about once a minute, far inside OKX's 480 and Bitget's 240 subscribe requests an hour.
 */
export const BOOK_LINGER_MS = 60_000;

/**
 * The books of `ingests` for a gateway in the same process on the in-process bus (`GatewayOptions.localBooks`):
 * from now on each venue publishes only the books a room watches, and one on request.
 */
export function localBookSource(ingests: readonly VenueIngest[]): {
  watch(venue: string, symbol: string, watched: boolean): void;
  publishNow(venue: string, symbol: string): void;
} {
  const byVenue = new Map<string, VenueIngest>();
  for (const ingest of ingests) {
    ingest.publishWatchedBooksOnly();
    byVenue.set(ingest.venue, ingest);
  }
  return {
    watch: (venue, symbol, watched) => byVenue.get(venue)?.watchBook(symbol, watched),
    publishNow: (venue, symbol) => byVenue.get(venue)?.publishBook(symbol),
  };
}
