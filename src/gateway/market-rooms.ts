import {
  BOOK_CHANNEL,
  decodeBookSnapshot,
  marketMessageInstrument,
  decodeTicker,
  decodeTrades,
  TICKER_CHANNEL,
  TRADES_CHANNEL,
  type BookSnapshot,
  type TradeBatch,
} from '../bus/market-message.ts';
import type { ErrorCode } from '../domain/errors.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { CompositeTickerInfo } from '../protocol/server-messages.ts';
import type {
  ChannelSubscribeMessage,
  ChannelUnsubscribeMessage,
  MarketChannel,
} from '../protocol/client-messages.ts';
import {
  encodeChannelError,
  encodeBookLevel,
  encodeBookMessage,
  encodeCompositeTickerMessage,
  encodeSubscribed,
  encodeTickerMessage,
  encodeTradeJson,
  encodeTradesMessage,
} from '../protocol/server-messages.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { fanOutTurns, type TurnBudget } from '../util/turn-budget.ts';
import type { BusIntake } from './bus-intake.ts';
import type { Channel, ClientSink } from './channel.ts';
import type { MarketCounters, RoomStats } from './stats.ts';
import { TickScheduler, type Tickable } from './tick-scheduler.ts';
import { releaseCorked } from './tick-writes.ts';

/** Where a market room's bytes go (a client connection). */
export type MarketSink = ClientSink;

/** Throttle periods of the market channels; every one has a default. */
export interface MarketRoomOptions {
  /** A `trades` room sends at most one batch per this period; no trade is dropped (default 100 ms). */
  readonly tradesMs?: number;
  /** A `ticker` room sends its latest ticker at most once per this period (default 250 ms). */
  readonly tickerMs?: number;
  /** A `book` room sends its latest top-N snapshot at most once per this period (default 200 ms). */
  readonly bookMs?: number;
  /** The budget a tick's writes are released under (default the fan-out's, src/gateway/tick-writes.ts). */
  readonly writeTurns?: TurnBudget;
}

/**
 * Resolves an instrument's composite ticker from every venue's latest ticker of it (one per venue) at `now`;
 * undefined when none is usable (all stale).
 */
export type CompositeTickerResolver = (
  tickers: readonly Ticker[],
  now: number,
) => { readonly ticker: Ticker; readonly info: CompositeTickerInfo } | undefined;

/** Instrument key of a venue's stream; the composite ticker uses COMPOSITE in place of a venue. */
const COMPOSITE = '*';

/** Trades messages kept per instrument for GET /api/trades (a venue's batches: about the last few seconds). */
export const RECENT_TRADE_MESSAGES = 64;

export const DEFAULT_MARKET_THROTTLE = { tradesMs: 100, tickerMs: 250, bookMs: 200 } as const;

/**
 * One room: one channel of one venue's instrument (and one depth for `book`), or the composite ticker of an
 * instrument (no venue), serialized once per tick.
 */
export class MarketRoom implements Tickable {
  readonly members = new Set<MarketSink>();
  dueAt: number | null = null;
  paidUntil = Number.NEGATIVE_INFINITY;
  lastTickAt = Number.NEGATIVE_INFINITY;
  lastBroadcast: number | null = null;
  /** `trades`: encoded trades waiting for the next tick. `ticker`/`book`: whether a newer state waits. */
  readonly pendingTrades: string[] = [];
  dirty = false;

  constructor(
    readonly key: string,
    readonly channel: MarketChannel,
    readonly venue: VenueId | undefined,
    readonly symbol: string,
    readonly depth: number | undefined,
  ) {}

  get hasPending(): boolean {
    return this.pendingTrades.length > 0 || this.dirty;
  }
}

/** The latest book of one venue's instrument, its levels already encoded once for every depth room. */
interface BookState {
  readonly bids: string[];
  readonly asks: string[];
  readonly seq: number | undefined;
  readonly time: number;
}

/** Room key of a subscription: one book room per depth, so members of a room share the same bytes. */
export function marketRoomKey(
  channel: MarketChannel,
  venue: VenueId | undefined,
  symbol: string,
  depth?: number,
): string {
  const v = venue ?? COMPOSITE;
  return channel === 'book' ? `book:${v}:${symbol}:${String(depth)}` : `${channel}:${v}:${symbol}`;
}

/** The subscription key on a connection: one per channel, venue and instrument (a new book depth replaces). */
export function marketSubscriptionKey(
  channel: MarketChannel,
  venue: VenueId | undefined,
  symbol: string,
): string {
  return `${channel}:${venue ?? COMPOSITE}:${symbol}`;
}

/**
 * The ingest's books when it runs in the gateway's process on the in-process bus (`tickwire all` without Redis):
 * it publishes only the books a room watches, so the gateway says which, and asks for a book at once when it needs
 * one. Both calls publish synchronously on the bus (or not at all: a book not synced yet).
 */
export interface LocalBookSource {
  /** A book room of the instrument opened (`watched`: publish it now, then as it changes) or its last one closed. */
  watch(venue: VenueId, symbol: string, watched: boolean): void;
  /** Publish the instrument's current book now, watched or not. */
  publishNow(venue: VenueId, symbol: string): void;
}

/**
 * The market channels of one gateway: rooms per (channel, venue, symbol[, depth]), fed from the bus, each
 * throttled on its own period. Tickers and books are conflated (a tick sends the newest state); trades are
 * batched (a tick sends every trade received since the previous one, in order). The newest ticker and book of
 * every instrument are kept even without subscribers, so a subscribe is answered with the current state at once.
 * A composite ticker room is recomputed from every venue's latest ticker of its instrument whenever one changes.
 */
export class MarketRooms implements Channel<ChannelSubscribeMessage, ChannelUnsubscribeMessage> {
  readonly subscribeType = 'channel-subscribe';
  readonly unsubscribeType = 'channel-unsubscribe';
  readonly counters: MarketCounters = {
    tradesBroadcast: 0,
    tickersBroadcast: 0,
    booksBroadcast: 0,
    tradesRelayed: 0,
  };
  private readonly rooms = new Map<string, MarketRoom>();
  /** Book rooms (all depths) and ticker/trades rooms by `venue:symbol`, to fan a bus message out. */
  private readonly byInstrument = new Map<string, Set<MarketRoom>>();
  private readonly tickers = new Map<string, Ticker>();
  /** Latest ticker per venue, by symbol: the composite ticker's input. */
  private readonly tickersBySymbol = new Map<string, Map<VenueId, Ticker>>();
  private readonly books = new Map<string, BookState>();
  /**
   * The newest book message of each instrument without a book room, kept undecoded: decoding and re-encoding 50
   * levels a side, five times a second per book, is most of an idle gateway's work, and nobody reads it. Decoded
   * when a book room of the instrument opens.
   */
  private readonly undecodedBooks = new Map<string, string>();
  /**
   * The newest trades messages of each instrument, kept as they came (at most RECENT_TRADE_MESSAGES): GET
   * /api/trades decodes them on request, so an idle gateway pays one array push per message.
   */
  private readonly recentTrades = new Map<string, string[]>();
  private readonly schedulers: Record<MarketChannel, TickScheduler<MarketRoom>>;
  /** Each client's rooms by `marketSubscriptionKey`: one per channel, venue and instrument. */
  private readonly byClient = new Map<MarketSink, Map<string, MarketRoom>>();
  private readonly writeTurns: TurnBudget;

  constructor(
    options: MarketRoomOptions = {},
    private readonly clock: Clock = systemClock,
    /** Without one, composite ticker rooms send only `subscribed`. */
    private readonly resolveComposite?: CompositeTickerResolver,
    /**
     * The in-process ingest's books, published only while a room watches them; without one, every book comes
     * from the bus all the time (the newest kept for a subscribe).
     */
    private readonly localBooks?: LocalBookSource,
  ) {
    const { writeTurns, ...throttles } = options;
    this.writeTurns = writeTurns ?? fanOutTurns;
    const periods = { ...DEFAULT_MARKET_THROTTLE, ...throttles };
    const make = (ms: number): TickScheduler<MarketRoom> =>
      new TickScheduler<MarketRoom>(
        ms,
        (batch) => this.flush(batch),
        (room) => room.hasPending && room.members.size > 0,
        clock,
      );
    this.schedulers = {
      trades: make(periods.tradesMs),
      ticker: make(periods.tickerMs),
      book: make(periods.bookMs),
    };
  }

  /** Rooms currently open (each has at least one member). */
  get roomCount(): number {
    return this.rooms.size;
  }

  *roomStats(): Iterable<RoomStats> {
    for (const room of this.rooms.values()) {
      yield {
        key: room.key,
        clientCount: room.members.size,
        hasCandle: room.lastBroadcast !== null,
        lastBroadcast: room.lastBroadcast,
      };
    }
  }

  listen(intake: BusIntake): () => void {
    const stops = [
      intake.take(TRADES_CHANNEL, 'trades', (m) => this.onTradesMessage(m)),
      intake.take(TICKER_CHANNEL, 'ticker', (m) => this.onTicker(decodeTicker(m))),
      intake.take(BOOK_CHANNEL, 'book', (m) => this.onBookMessage(m)),
    ];
    return () => {
      for (const stop of stops) stop();
    };
  }

  holds(sink: MarketSink, msg: ChannelSubscribeMessage): boolean {
    return this.byClient.get(sink)?.has(marketSubscriptionKey(msg.channel, msg.venue, msg.symbol)) === true;
  }

  subscriptionCount(sink: MarketSink): number {
    return this.byClient.get(sink)?.size ?? 0;
  }

  encodeError(code: ErrorCode, message: string, msg: ChannelSubscribeMessage): string {
    return encodeChannelError(code, message, msg);
  }

  /** Joins the room of `msg`; a repeated subscribe (same or another book depth) replaces the membership. */
  subscribe(sink: MarketSink, msg: ChannelSubscribeMessage): void {
    const key = marketSubscriptionKey(msg.channel, msg.venue, msg.symbol);
    let held = this.byClient.get(sink);
    const room = held?.get(key);
    // Never two rooms of one stream for one client.
    if (room !== undefined) this.leave(sink, room);
    if (held === undefined) {
      held = new Map();
      this.byClient.set(sink, held);
    }
    held.set(key, this.join(sink, msg));
  }

  unsubscribe(sink: MarketSink, msg: ChannelUnsubscribeMessage): void {
    const key = marketSubscriptionKey(msg.channel, msg.venue, msg.symbol);
    const held = this.byClient.get(sink);
    const room = held?.get(key);
    if (held === undefined || room === undefined) return;
    held.delete(key);
    if (held.size === 0) this.byClient.delete(sink);
    this.leave(sink, room);
  }

  leaveAll(sink: MarketSink): void {
    const held = this.byClient.get(sink);
    if (held === undefined) return;
    this.byClient.delete(sink);
    for (const room of held.values()) this.leave(sink, room);
  }

  /**
   * Adds `sink` to the room of `msg` and sends it `subscribed`, then the current ticker or book at once when
   * known. Returns the room (the caller keeps it to leave later).
   */
  join(sink: MarketSink, msg: ChannelSubscribeMessage): MarketRoom {
    const key = marketRoomKey(msg.channel, msg.venue, msg.symbol, msg.depth);
    let room = this.rooms.get(key);
    if (room === undefined) {
      room = new MarketRoom(key, msg.channel, msg.venue, msg.symbol, msg.depth);
      this.rooms.set(key, room);
      const ik = `${msg.venue ?? COMPOSITE}:${msg.symbol}`;
      // The instrument's first book room: its book is published from now on, the current one at once (kept
      // undecoded, before the room is listed, so that it is sent below once and not again on the next tick).
      if (room.channel === 'book' && room.venue !== undefined && this.localBooks && !this.hasBookRoom(ik))
        this.localBooks.watch(room.venue, room.symbol, true);
      let set = this.byInstrument.get(ik);
      if (set === undefined) {
        set = new Set();
        this.byInstrument.set(ik, set);
      }
      set.add(room);
    }
    room.members.add(sink);
    sink.send(encodeSubscribed(msg.channel, msg.venue, msg.symbol, msg.depth));
    const current = this.currentPayload(room);
    if (current !== undefined) sink.send(current);
    return room;
  }

  /** Removes `sink` from `room`; the room closes with its last member. */
  leave(sink: MarketSink, room: MarketRoom): void {
    room.members.delete(sink);
    if (room.members.size > 0 || this.rooms.get(room.key) !== room) return;
    this.schedulers[room.channel].cancel(room);
    this.rooms.delete(room.key);
    const ik = `${room.venue ?? COMPOSITE}:${room.symbol}`;
    const set = this.byInstrument.get(ik);
    set?.delete(room);
    if (set?.size === 0) this.byInstrument.delete(ik);
    if (room.channel === 'book' && room.venue !== undefined && this.localBooks && !this.hasBookRoom(ik)) {
      this.localBooks.watch(room.venue, room.symbol, false);
      // No longer published: what is kept would only grow stale (a request asks for the current one).
      this.dropKeptBook(ik);
    }
  }

  /**
   * Takes a trades message from the bus, decoded only when a room of its instrument is open (a message that does
   * not start as the encoder writes it is decoded, and throws for the intake to count).
   */
  onTradesMessage(message: string): void {
    const ik = marketMessageInstrument(message);
    if (ik !== undefined) this.keepRecentTrades(ik, message);
    if (ik !== undefined && !this.byInstrument.has(ik)) return;
    this.onTrades(decodeTrades(message));
  }

  /** Takes a batch of trades from the bus. */
  onTrades(batch: TradeBatch): void {
    const rooms = this.byInstrument.get(`${batch.venue}:${batch.symbol}`);
    if (rooms === undefined || batch.trades.length === 0) return;
    let texts: string[] | undefined;
    for (const room of rooms) {
      if (room.channel !== 'trades') continue;
      texts ??= batch.trades.map(encodeTradeJson);
      for (const t of texts) room.pendingTrades.push(t);
      this.counters.tradesRelayed += texts.length;
      this.schedulers.trades.schedule(room);
    }
  }

  /** Takes a ticker from the bus; kept as the instrument's latest (older exchange times never replace newer). */
  onTicker(ticker: Ticker): void {
    const ik = `${ticker.venue}:${ticker.symbol}`;
    const known = this.tickers.get(ik);
    if (known !== undefined && known.time > ticker.time) return;
    this.tickers.set(ik, ticker);
    let venues = this.tickersBySymbol.get(ticker.symbol);
    if (venues === undefined) {
      venues = new Map();
      this.tickersBySymbol.set(ticker.symbol, venues);
    }
    venues.set(ticker.venue, ticker);
    this.markDirty(ik, 'ticker');
    this.markDirty(`${COMPOSITE}:${ticker.symbol}`, 'ticker');
  }

  /**
   * Takes a book message from the bus: decoded at once when a book room of its instrument is open, else kept as it
   * came until one opens. Throws when a message it decodes is malformed (the intake counts and skips it); a kept
   * message found malformed later, when a room opens, is dropped as if it had never come.
   */
  onBookMessage(message: string): void {
    const ik = marketMessageInstrument(message);
    if (ik !== undefined && !this.hasBookRoom(ik)) {
      this.undecodedBooks.set(ik, message);
      this.books.delete(ik);
      return;
    }
    this.onBook(decodeBookSnapshot(message));
  }

  /** Takes a book snapshot from the bus; its levels are encoded once here for every depth room. */
  onBook(snapshot: BookSnapshot): void {
    this.markDirty(this.storeBook(snapshot), 'book');
  }

  /**
   * The current `ticker` (a venue's, or the composite one without `venue`) or `book` message of an instrument, as
   * a subscribe would be answered with at once; undefined while the gateway has none (GET /api/ticker, /api/book).
   */
  currentMessage(
    channel: 'ticker' | 'book',
    venue: VenueId | undefined,
    symbol: string,
    depth?: number,
  ): string | undefined {
    if (channel === 'book' && venue === undefined) return undefined;
    // A book no room watches is not published in-process: ask for the current one (the bus delivers it now).
    if (
      channel === 'book' &&
      venue !== undefined &&
      this.localBooks &&
      !this.hasBookRoom(`${venue}:${symbol}`)
    ) {
      this.dropKeptBook(`${venue}:${symbol}`);
      this.localBooks.publishNow(venue, symbol);
    }
    return this.currentPayload(new MarketRoom('', channel, venue, symbol, depth));
  }

  /** A `trades` message of the newest `limit` trades the gateway kept of a venue's instrument (GET /api/trades). */
  recentTradesMessage(venue: VenueId, symbol: string, limit: number): string {
    const texts: string[] = [];
    for (const message of this.recentTrades.get(`${venue}:${symbol}`) ?? []) {
      try {
        for (const trade of decodeTrades(message).trades) texts.push(encodeTradeJson(trade));
      } catch {
        // A malformed message was already counted by the intake; it holds no trade to report.
      }
    }
    return encodeTradesMessage(venue, symbol, texts.slice(Math.max(0, texts.length - limit)));
  }

  /** Stops every timer (gateway shutdown). */
  stop(): void {
    for (const s of Object.values(this.schedulers)) s.stop();
  }

  private keepRecentTrades(ik: string, message: string): void {
    let kept = this.recentTrades.get(ik);
    if (kept === undefined) this.recentTrades.set(ik, (kept = []));
    kept.push(message);
    if (kept.length > RECENT_TRADE_MESSAGES) kept.shift();
  }

  private markDirty(ik: string, channel: 'ticker' | 'book'): void {
    const rooms = this.byInstrument.get(ik);
    if (rooms === undefined) return;
    for (const room of rooms) {
      if (room.channel !== channel) continue;
      room.dirty = true;
      this.schedulers[channel].schedule(room);
    }
  }

  private currentPayload(room: MarketRoom): string | undefined {
    if (room.venue === undefined) return this.compositeTickerPayload(room.symbol);
    const ik = `${room.venue}:${room.symbol}`;
    if (room.channel === 'ticker') {
      const t = this.tickers.get(ik);
      return t === undefined ? undefined : encodeTickerMessage(t);
    }
    if (room.channel === 'book') {
      this.decodeKeptBook(ik);
      const b = this.books.get(ik);
      return b === undefined
        ? undefined
        : encodeBookMessage(room.venue, room.symbol, room.depth ?? 0, b.bids, b.asks, b.seq, b.time);
    }
    return undefined;
  }

  /** Keeps `snapshot` as its instrument's newest book, levels encoded once for every depth room; its key. */
  private storeBook(snapshot: BookSnapshot): string {
    const ik = `${snapshot.venue}:${snapshot.symbol}`;
    this.undecodedBooks.delete(ik);
    this.books.set(ik, {
      bids: snapshot.bids.map(encodeBookLevel),
      asks: snapshot.asks.map(encodeBookLevel),
      seq: snapshot.seq,
      time: snapshot.time,
    });
    return ik;
  }

  private hasBookRoom(ik: string): boolean {
    const rooms = this.byInstrument.get(ik);
    if (rooms === undefined) return false;
    for (const room of rooms) if (room.channel === 'book') return true;
    return false;
  }

  /** Forgets the book kept for `ik`, decoded or not. */
  private dropKeptBook(ik: string): void {
    this.books.delete(ik);
    this.undecodedBooks.delete(ik);
  }

  /** Decodes the book message kept for `ik`, if any (a book room needs it now). */
  private decodeKeptBook(ik: string): void {
    const message = this.undecodedBooks.get(ik);
    if (message === undefined) return;
    this.undecodedBooks.delete(ik);
    try {
      // Stored, not marked dirty: the room that asks is sent this state by its caller.
      this.storeBook(decodeBookSnapshot(message));
    } catch {
      // Malformed: as if it had never come; the next snapshot (five a second) replaces it.
    }
  }

  private compositeTickerPayload(symbol: string): string | undefined {
    const venues = this.tickersBySymbol.get(symbol);
    if (venues === undefined || this.resolveComposite === undefined) return undefined;
    const resolved = this.resolveComposite([...venues.values()], this.clock.now());
    return resolved === undefined ? undefined : encodeCompositeTickerMessage(resolved.ticker, resolved.info);
  }

  private tickPayload(room: MarketRoom): string | undefined {
    if (room.channel === 'trades') {
      if (room.pendingTrades.length === 0) return undefined;
      const text = encodeTradesMessage(room.venue, room.symbol, room.pendingTrades);
      room.pendingTrades.length = 0;
      this.counters.tradesBroadcast++;
      return text;
    }
    if (!room.dirty) return undefined;
    room.dirty = false;
    const text = this.currentPayload(room);
    if (text !== undefined) {
      if (room.channel === 'ticker') this.counters.tickersBroadcast++;
      else this.counters.booksBroadcast++;
    }
    return text;
  }

  private flush(batch: readonly MarketRoom[]): void {
    const corked: MarketSink[] = [];
    const at = this.clock.now();
    for (const room of batch) {
      const text = this.tickPayload(room);
      if (text === undefined) continue;
      room.lastBroadcast = at;
      const payload = Buffer.from(text);
      // A ticker or book is a whole state: a newer one replaces one still queued for a slow client. Trades never.
      const conflateKey = room.channel === 'trades' ? undefined : room.key;
      for (const sink of room.members) {
        if (sink.cork()) corked.push(sink);
        sink.send(payload, conflateKey);
      }
    }
    releaseCorked(this, corked, this.writeTurns);
  }
}
