import { VenueBooks, type VenueBooksEvent } from '../book/venue-books.ts';
import type { Bus } from '../bus/bus.ts';
import {
  BOOK_CHANNEL,
  encodeBookSnapshot,
  encodeTicker,
  encodeTrades,
  TICKER_CHANNEL,
  TRADES_CHANNEL,
} from '../bus/market-message.ts';
import { CandleEngine } from '../candles/candle-engine.ts';
import { UpdateCoalescer } from '../candles/update-coalescer.ts';
import type { Candle, CandleUpdate } from '../domain/candle.ts';
import { eq } from '../domain/decimal.ts';
import { bucketStart, INTERVAL_MS, INTERVALS, MINUTE_MS, type Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import { TradeDedupe, type SeqGap } from '../feed/trade-dedupe.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ProgressLog } from '../telemetry/progress-log.ts';
import { RepeatedFailure } from '../telemetry/repeated-failure.ts';
import type { AlertInput } from '../domain/alert.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { CandleOutput } from './composite-candles.ts';
import type { IngestObserver } from './source-monitor.ts';
import type {
  ConnectionStatus,
  MarketStream,
  StreamEvent,
  StreamStatus,
  VenueAdapter,
  VenueCandle,
} from '../venues/venue.ts';

export interface IngestOptions {
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
  /** How often changed bars are written and published. */
  readonly publishEveryMs?: number;
  /** How often the clock closes bars whose time is over. */
  readonly clockEveryMs?: number;
  readonly now?: () => number;
  /** Told of every data message and connection change (source health for failover). */
  readonly observer?: IngestObserver;
  /** Raises an operator alert (book resyncs, backfills). */
  readonly alert?: (input: AlertInput) => void;
  /** Given every batch of new trades, deduplicated, in order (trade storage when STORE_TRADES is on). */
  readonly tradeSink?: (trades: readonly Trade[]) => void;
}

/** Wait before a failed backfill is tried again. */
const BACKFILL_RETRY_MS = 2000;

/** Per-instrument state of the ingest. */
interface Instrument {
  readonly symbol: string;
  /** Present when this venue builds the instrument's candles. */
  readonly engine: CandleEngine | null;
  readonly dedupe: TradeDedupe;
  /** Trades held back while history or a backfill is being applied, so that they are applied in order. */
  held: Trade[] | null;
  /** Missed trades waiting for a REST backfill: a hole in the sequence, or everything since a time. */
  readonly pendingGaps: MissedTrades[];
  /** Exchange time of the newest trade applied; a time-based backfill starts there. */
  lastTradeTime: number | null;
  /** Trades accepted since the last flush, published as one batch. */
  tradeBatch: Trade[];
  backfilling: boolean;
  klineMismatches: number;
  /** Failed history loads and backfills, logged once and then summarized. */
  readonly historyFailures: RepeatedFailure;
  readonly backfillFailures: RepeatedFailure;
}

type MissedTrades = SeqGap | { readonly since: number };

export interface IngestStats {
  readonly venue: string;
  readonly connected: boolean;
  readonly oneMinuteCandlesCount: number;
  readonly backfills: number;
  readonly backfilledTrades: number;
  readonly klineMismatches: number;
  readonly instruments: Record<
    string,
    Partial<ReturnType<CandleEngine['stats']>> & ReturnType<TradeDedupe['stats']>
  >;
  readonly books: ReturnType<VenueBooks['stats']>;
  /** The connection's status (connected, is_healthy, ws_url, subscriptions, reconnect_count, last_heartbeat…). */
  readonly connection: ConnectionStatus | null;
}

/**
 * Runs one venue's market data into candles: loads history at start, keeps the live stream, backfills every
 * gap over REST, and writes each changed bar to the store before publishing it on the bus (so a client that
 * reads history never sees less than the stream has said).
 *
 * The clock only closes bars while the stream is healthy: during an outage the bars stay open, and the
 * trades fetched after reconnecting fill them in order, so no invented empty bar is ever published.
 */
export class VenueIngest {
  private readonly instruments = new Map<string, Instrument>();
  private readonly coalescer = new UpdateCoalescer();
  private stream: MarketStream | null = null;
  private connected = false;
  private wasDisconnected = false;
  private publishTimer: NodeJS.Timeout | null = null;
  private clockTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private backfills = 0;
  private backfilledTrades = 0;
  private readonly now: () => number;

  private readonly books: VenueBooks;

  constructor(private readonly options: IngestOptions) {
    this.now = options.now ?? Date.now;
    const { adapter } = options;
    const candleSymbols = new Set(options.candleSymbols ?? options.symbols);
    for (const symbol of options.symbols) {
      const failures = (failing: string, stillFailing: string, recovered?: string): RepeatedFailure =>
        new RepeatedFailure({
          logger: options.logger,
          now: this.now,
          level: 'error',
          fields: { venue: adapter.venue, symbol },
          failing,
          stillFailing,
          ...(recovered ? { recovered } : {}),
        });
      this.instruments.set(symbol, {
        symbol,
        engine: candleSymbols.has(symbol)
          ? new CandleEngine({
              symbol,
              venues: [adapter.venue],
              closeGraceMs: options.closeGraceMs,
              onUpdate: (u) => this.coalescer.add(u),
            })
          : null,
        dedupe: new TradeDedupe({ contiguousSeq: adapter.contiguousTradeSeq ?? true }),
        held: [],
        pendingGaps: [],
        backfilling: false,
        klineMismatches: 0,
        lastTradeTime: null,
        tradeBatch: [],
        historyFailures: failures('history not loaded', 'history still not loaded'),
        backfillFailures: failures('backfill failed', 'backfill still failing', 'backfill done'),
      });
    }
    const fetchSnapshot = adapter.rest.fetchBookSnapshot?.bind(adapter.rest);
    this.books = new VenueBooks({
      venue: adapter.venue,
      rules: adapter.bookRules,
      ...(fetchSnapshot ? { fetchSnapshot } : {}),
      ...(adapter.bookRules.snapshotSource === 'stream'
        ? { resubscribe: (symbol: string) => void this.stream?.resyncBook?.(symbol) }
        : {}),
      publish: (snapshot) => this.options.bus.publish(BOOK_CHANNEL, encodeBookSnapshot(snapshot)),
      onEvent: (event) => this.onBookEvent(event),
    });
  }

  /** Opens the stream, loads history for every instrument, then goes live. Resolves once live. */
  async start(): Promise<void> {
    const { adapter, logger } = this.options;
    // The stream opens first and its trades are held, so that nothing between the REST history and the first
    // live trade is missed; the dedupe drops the overlap.
    this.stream = adapter.openMarketStream(
      this.options.symbols,
      {
        trade: (t) => {
          this.options.observer?.data(t.symbol, t.receivedAt, t.time);
          this.onTrade(t);
        },
        candle: (c) => {
          // A kline carries no event time: it shows the source is fresh but says nothing of its lag.
          this.options.observer?.data(c.symbol, c.receivedAt, undefined);
          this.onVenueCandle(c);
        },
        ticker: (t) => {
          this.options.observer?.data(t.symbol, t.receivedAt, t.time);
          this.onTicker(t);
        },
        book: (u) => {
          this.options.observer?.data(u.symbol, u.receivedAt, u.time);
          this.books.apply(u);
        },
        status: (s) => {
          this.onStatus(s);
          this.options.observer?.status(s);
        },
        event: (e) => {
          this.onStreamEvent(e);
          this.options.observer?.event(e);
        },
      },
      { channels: ['trades', 'candles', 'ticker', 'book'] },
    );
    await Promise.all(
      [...this.instruments.values()].map((inst) =>
        inst.engine ? this.loadHistoryUntilDone(inst, inst.engine) : this.goLiveWithoutHistory(inst),
      ),
    );
    if (this.closed) return;
    this.publishTimer = setInterval(() => void this.flush(), this.options.publishEveryMs ?? 100);
    this.clockTimer = setInterval(() => this.tick(), this.options.clockEveryMs ?? 250);
    await this.flush();
    logger.info(
      { venue: adapter.venue, symbols: this.options.symbols },
      `live, streaming ${this.options.symbols.join(', ')}`,
    );
  }

  /**
   * History is what makes `initial` useful, so a venue that does not answer at start is asked again (with a
   * capped backoff) rather than going live without it; the gateway already serves health meanwhile.
   */
  private async loadHistoryUntilDone(inst: Instrument, engine: CandleEngine): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await this.loadHistory(inst, engine, attempt === 1);
        return;
      } catch (err) {
        // Stopping while a load is under way ends it; that is no failure to report.
        if (this.closed) return;
        const delayMs = Math.min(30_000, 1000 * 2 ** Math.min(attempt - 1, 5));
        inst.historyFailures.failed(err, delayMs);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /** An instrument without candles here only relays trades: nothing to load, release what was held. */
  private async goLiveWithoutHistory(inst: Instrument): Promise<void> {
    const held = inst.held ?? [];
    inst.held = null;
    for (const t of held) this.apply(inst, t);
  }

  private async loadHistory(inst: Instrument, engine: CandleEngine, firstAttempt: boolean): Promise<void> {
    const { adapter, logger, historyBars } = this.options;
    const now = this.now();
    const liveMinute = bucketStart('1m', now);
    const firstMinute = Math.min(bucketStart('1W', now), liveMinute - historyBars * MINUTE_MS);
    const started = Date.now();
    // Progress in a few lines: the bars expected are every closed minute and `historyBars` of each other interval.
    const expectedMinutes = Math.max(0, (liveMinute - firstMinute) / MINUTE_MS);
    const progress = new ProgressLog({
      logger,
      now: this.now,
      fields: { venue: adapter.venue, symbol: inst.symbol },
      expected: expectedMinutes + (INTERVALS.length - 1) * historyBars,
      announce: firstAttempt,
    });
    // Closed minutes since the start of the week (so the open 1W bar can be rebuilt) or further back.
    const minutes = await adapter.rest.fetchCandles(inst.symbol, '1m', {
      startTime: firstMinute,
      endTime: liveMinute - MINUTE_MS,
      onProgress: (n) => progress.update(n),
    });
    // Everything is fetched before the engine is touched, so a failed attempt can simply be repeated.
    const closedMinutes = minutes.filter((b) => b.time < liveMinute);
    const higher: [Interval, Candle[]][] = [];
    for (const interval of INTERVALS) {
      if (interval === '1m') continue;
      const size = INTERVAL_MS[interval];
      const open = bucketStart(interval, liveMinute);
      const before = progress.loaded;
      const bars = await adapter.rest.fetchCandles(inst.symbol, interval, {
        startTime: open - historyBars * size,
        endTime: open - size,
        onProgress: (n) => progress.update(before + n),
      });
      higher.push([interval, bars.filter((b) => b.time < open)]);
      progress.update(before + bars.length);
    }
    // Trades of the minute in progress; the live trades held meanwhile follow.
    const recent = await adapter.rest.fetchTrades(inst.symbol, {
      startTime: liveMinute,
      endTime: this.now(),
    });

    // Every loaded bar is stored, so that paging back through history reaches as far as the venue was asked.
    const seeded: CandleUpdate[] = [];
    pushClosed(seeded, inst.symbol, '1m', closedMinutes, adapter.venue);
    for (const [interval, bars] of higher) pushClosed(seeded, inst.symbol, interval, bars, adapter.venue);
    await this.options.candles.write(adapter.venue, seeded, false);

    engine.seed('1m', closedMinutes);
    for (const [interval, bars] of higher) engine.seed(interval, bars);
    engine.resume(liveMinute);
    const first = recent[0];
    if (first?.seq !== undefined) inst.dedupe.resumeAfter(first.seq - 1);
    for (const t of recent) this.apply(inst, t, undefined, true);
    const held = inst.held ?? [];
    inst.held = null;
    for (const t of held) this.apply(inst, t);
    inst.historyFailures.succeeded();
    logger.info(
      {
        venue: adapter.venue,
        symbol: inst.symbol,
        bars: progress.loaded,
        minutes: closedMinutes.length,
        recentTrades: recent.length,
        heldTrades: held.length,
        ms: Date.now() - started,
      },
      `history loaded: ${progress.loaded} bars`,
    );
  }

  private onTrade(trade: Trade): void {
    const inst = this.instruments.get(trade.symbol);
    if (!inst) return;
    if (inst.held) inst.held.push(trade);
    else this.apply(inst, trade, (gap) => this.onGap(inst, gap));
  }

  /**
   * Applies a new trade to the candles and queues it for the trades channel. `backfilled`: it came over REST
   * (history, a backfill), and the bars it lands in say so.
   */
  private apply(inst: Instrument, trade: Trade, onGap?: (gap: SeqGap) => void, backfilled = false): boolean {
    if (!inst.dedupe.accept(trade, onGap)) return false;
    inst.engine?.addTrade(trade, backfilled);
    if (inst.lastTradeTime === null || trade.time > inst.lastTradeTime) inst.lastTradeTime = trade.time;
    inst.tradeBatch.push(trade);
    return true;
  }

  private onTicker(ticker: Ticker): void {
    if (!this.instruments.has(ticker.symbol)) return;
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
        for (const inst of this.instruments.values()) this.queueBackfillSinceLast(inst);
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

  /** Queues a backfill of everything after the newest trade we hold, by sequence where the venue allows it. */
  private queueBackfillSinceLast(inst: Instrument): void {
    // A reconnect and the runner's gap event often report the same outage: one open-ended backfill suffices.
    if (inst.pendingGaps.some((g) => 'since' in g || g.to === Number.MAX_SAFE_INTEGER)) return;
    const after = inst.dedupe.highestSeq;
    if (this.options.adapter.contiguousTradeSeq !== false && after !== undefined) {
      inst.pendingGaps.push({ from: after + 1, to: Number.MAX_SAFE_INTEGER });
    } else if (inst.lastTradeTime !== null) {
      inst.pendingGaps.push({ since: inst.lastTradeTime });
    } else {
      return;
    }
    void this.backfill(inst);
  }

  private onGap(inst: Instrument, gap: SeqGap): void {
    this.options.logger.warn(
      { venue: this.options.adapter.venue, symbol: inst.symbol, gap },
      'trade sequence gap',
    );
    inst.pendingGaps.push(gap);
    void this.backfill(inst);
  }

  private onStatus(status: StreamStatus): void {
    if (status.kind === 'connected') {
      this.connected = true;
      if (this.wasDisconnected) {
        this.wasDisconnected = false;
        // Whatever traded while we were away is fetched over REST before the clock moves on.
        for (const inst of this.instruments.values()) this.queueBackfillSinceLast(inst);
      }
    } else if (status.kind === 'disconnected') {
      // Bars stay open until the backfill after the reconnect; the connection logs the disconnect itself.
      this.connected = false;
      this.wasDisconnected = true;
    }
  }

  /** Fetches the trades of every pending gap over REST and applies them in order. */
  private async backfill(inst: Instrument): Promise<void> {
    if (inst.backfilling || this.closed) return;
    inst.backfilling = true;
    inst.held ??= [];
    const { adapter, logger } = this.options;
    try {
      while (inst.pendingGaps.length > 0 && !this.closed) {
        const gap = inst.pendingGaps.shift() as MissedTrades;
        const trades =
          'since' in gap
            ? await adapter.rest.fetchTrades(inst.symbol, { startTime: gap.since, endTime: this.now() })
            : await this.fetchRange(inst.symbol, gap);
        let applied = 0;
        for (const t of trades) if (this.apply(inst, t, undefined, true)) applied++;
        inst.backfillFailures.succeeded();
        this.backfills++;
        this.backfilledTrades += applied;
        logger.info({ venue: adapter.venue, symbol: inst.symbol, gap, applied }, 'backfill done');
        this.options.alert?.({
          severity: 'info',
          kind: 'backfill_done',
          venue: adapter.venue,
          symbol: inst.symbol,
          message: `${adapter.venue} ${inst.symbol}: backfilled ${applied} missed trades`,
          details: { trades: applied },
        });
      }
    } catch (err) {
      if (!this.closed) {
        inst.backfillFailures.failed(err, BACKFILL_RETRY_MS);
        setTimeout(() => void this.backfill(inst), BACKFILL_RETRY_MS).unref();
      }
    } finally {
      inst.backfilling = false;
      const held = inst.held ?? [];
      if (inst.pendingGaps.length === 0) {
        inst.held = null;
        for (const t of held) this.apply(inst, t);
      }
    }
  }

  private async fetchRange(symbol: string, gap: SeqGap): Promise<Trade[]> {
    const out: Trade[] = [];
    let after = gap.from - 1;
    for (;;) {
      const page = await this.options.adapter.rest.fetchTrades(symbol, { afterSeq: after, limit: 1000 });
      for (const t of page) {
        if (t.seq !== undefined && t.seq > gap.to) return out;
        out.push(t);
      }
      const last = page[page.length - 1];
      if (page.length < 1000 || last?.seq === undefined) return out;
      after = last.seq;
    }
  }

  private onVenueCandle(candle: VenueCandle): void {
    if (!candle.closed || candle.interval !== '1m') return;
    const inst = this.instruments.get(candle.symbol);
    if (!inst || inst.held) return;
    const ours = inst.engine?.history('1m', 3).find((b) => b.time === candle.bar.time);
    if (!ours || sameBar(ours, candle.bar)) return;
    inst.klineMismatches++;
    this.options.logger.warn(
      { venue: candle.venue, symbol: candle.symbol, time: new Date(candle.bar.time).toISOString() },
      'our 1m bar differs from the venue kline',
    );
  }

  private tick(): void {
    if (!this.connected) return;
    const now = this.now();
    for (const inst of this.instruments.values()) {
      if (!inst.held) inst.engine?.advance(now);
    }
  }

  /** Writes the changed bars to the store, then publishes them; one flush at a time, in order. */
  flush(): Promise<void> {
    for (const inst of this.instruments.values()) {
      if (inst.tradeBatch.length === 0) continue;
      this.options.bus.publish(
        TRADES_CHANNEL,
        encodeTrades(this.options.adapter.venue, inst.symbol, inst.tradeBatch),
      );
      this.options.tradeSink?.(inst.tradeBatch);
      inst.tradeBatch = [];
    }
    this.flushing = this.flushing.then(async () => {
      const batch = this.coalescer.flush();
      if (batch.length === 0) return;
      try {
        await this.options.candles.write(this.options.adapter.venue, batch, true);
      } catch (err) {
        // One failed batch must not stop the chain of later flushes.
        this.options.logger.error({ err, venue: this.options.adapter.venue }, 'publishing candles failed');
      }
    });
    return this.flushing;
  }

  stats(): IngestStats {
    const instruments: IngestStats['instruments'] = {};
    let oneMinute = 0;
    let mismatches = 0;
    for (const inst of this.instruments.values()) {
      const e = inst.engine?.stats();
      oneMinute += e?.oneMinuteCandles ?? 0;
      mismatches += inst.klineMismatches;
      instruments[inst.symbol] = { ...e, ...inst.dedupe.stats() };
    }
    return {
      venue: this.options.adapter.venue,
      connected: this.connected,
      oneMinuteCandlesCount: oneMinute,
      backfills: this.backfills,
      backfilledTrades: this.backfilledTrades,
      klineMismatches: mismatches,
      instruments,
      books: this.books.stats(),
      connection: this.stream?.stats().status ?? null,
    };
  }

  get venue(): VenueAdapter['venue'] {
    return this.options.adapter.venue;
  }

  /** This venue's own bars of `symbol` that end after `since`, oldest first (for a failover takeover). */
  barsSince(symbol: string, interval: Interval, since: number): Candle[] {
    const engine = this.instruments.get(symbol)?.engine;
    if (!engine) return [];
    const size = INTERVAL_MS[interval];
    const count = Math.ceil((this.now() - since) / size) + 2;
    return engine.history(interval, count).filter((b) => b.time + size > since);
  }

  /** The connection's status, cheaply (no book or engine statistics). */
  connectionStatus(): ConnectionStatus | null {
    return this.stream?.stats().status ?? null;
  }

  streamStats(): ReturnType<MarketStream['stats']> | null {
    return this.stream?.stats() ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.publishTimer) clearInterval(this.publishTimer);
    if (this.clockTimer) clearInterval(this.clockTimer);
    this.books.close();
    await this.stream?.close();
    await this.flush();
  }
}

function pushClosed(
  out: CandleUpdate[],
  symbol: string,
  interval: Interval,
  bars: readonly Candle[],
  venue: CandleUpdate['sources'][number],
): void {
  for (const bar of bars) {
    out.push({ symbol, interval, state: 'closed', bar, sources: [venue], backfilled: true });
  }
}

function sameBar(a: Candle, b: Candle): boolean {
  return (['open', 'high', 'low', 'close', 'volume'] as const).every((k) => eq(a[k], b[k]));
}
