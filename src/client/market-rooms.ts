/**
 * The market channels of one venue's instrument (docs/PROTOCOL.md, "Market channels"): the ticker (a venue's, or
 * the composite one without a venue), the book (full top-N snapshots: replaced, never merged) and the trades
 * tape (batches appended, each trade id once, the newest `keep`). Each is refreshed over HTTP while polling.
 */
import type { TradeJson } from '../protocol/server-messages.ts';
import type { Room, RoomContext, WireMessage } from './room.ts';
import type { BookState, TickerState, TradesState } from './types.ts';
import { Store } from './view-store.ts';

export function tickerKey(symbol: string, venue: string | undefined): string {
  return `ticker:${venue ?? ''}:${symbol}`;
}
export function bookKey(symbol: string, venue: string): string {
  return `book:${venue}:${symbol}`;
}
export function tradesKey(symbol: string, venue: string): string {
  return `trades:${venue}:${symbol}`;
}

const TICKER_FIELDS = [
  'venue',
  'last',
  'bid',
  'ask',
  'bidSize',
  'askSize',
  'open24h',
  'high24h',
  'low24h',
  'volume24h',
  'quoteVolume24h',
  'time',
  'resolution',
  'sources',
  'baseVenue',
  'fallback',
] as const;

function tickerOf(symbol: string, message: Readonly<Record<string, unknown>>, live: boolean): TickerState {
  const state: Record<string, unknown> = { symbol, live };
  for (const field of TICKER_FIELDS) if (message[field] !== undefined) state[field] = message[field];
  return state as unknown as TickerState;
}

/** A venue's ticker, or the composite ticker of the instrument (no venue). */
export class TickerRoom implements Room {
  readonly key: string;
  readonly store = new Store<TickerState | undefined>(undefined);
  readonly pollable = true;

  constructor(
    readonly symbol: string,
    readonly venue: string | undefined,
    private readonly context: RoomContext,
  ) {
    this.key = tickerKey(symbol, venue);
  }

  subscribeMessages(): readonly object[] {
    return [
      {
        type: 'subscribe',
        channel: 'ticker',
        symbol: this.symbol,
        ...(this.venue ? { venue: this.venue } : {}),
      },
    ];
  }

  unsubscribeMessages(): readonly object[] {
    return [
      {
        type: 'unsubscribe',
        channel: 'ticker',
        symbol: this.symbol,
        ...(this.venue ? { venue: this.venue } : {}),
      },
    ];
  }

  receive(message: WireMessage): void {
    if (message.type === 'ticker') this.store.set(tickerOf(this.symbol, message, true));
  }

  /** The gateway's error about this room reaches the client's `error` event; the view keeps its last state. */
  receiveError(): void {}

  disconnected(): void {
    const state = this.store.get();
    if (state?.live) this.store.set({ ...state, live: false });
  }

  async poll(): Promise<void> {
    const answer = await this.context.http.get<Record<string, unknown> | undefined>('/api/ticker', {
      symbol: this.symbol,
      venue: this.venue,
    });
    // 204: the gateway has no ticker of it yet.
    if (answer !== undefined && this.context.polling()) this.store.set(tickerOf(this.symbol, answer, false));
  }
}

/** One venue's book at the greatest depth any view of it asked for (the gateway keeps one depth per room). */
export class BookRoom implements Room {
  readonly key: string;
  readonly store = new Store<BookState | undefined>(undefined);
  readonly pollable = true;

  constructor(
    readonly symbol: string,
    readonly venue: string,
    public depth: number,
    private readonly context: RoomContext,
  ) {
    this.key = bookKey(symbol, venue);
  }

  subscribeMessages(): readonly object[] {
    return [
      { type: 'subscribe', channel: 'book', venue: this.venue, symbol: this.symbol, depth: this.depth },
    ];
  }

  unsubscribeMessages(): readonly object[] {
    return [{ type: 'unsubscribe', channel: 'book', venue: this.venue, symbol: this.symbol }];
  }

  receive(message: WireMessage): void {
    if (message.type === 'book') this.store.set(this.bookOf(message, true));
  }

  /** The gateway's error about this room reaches the client's `error` event; the view keeps its last state. */
  receiveError(): void {}

  disconnected(): void {
    const state = this.store.get();
    if (state?.live) this.store.set({ ...state, live: false });
  }

  async poll(): Promise<void> {
    const answer = await this.context.http.get<Record<string, unknown> | undefined>('/api/book', {
      venue: this.venue,
      symbol: this.symbol,
      depth: this.depth,
    });
    if (answer !== undefined && this.context.polling()) this.store.set(this.bookOf(answer, false));
  }

  private bookOf(message: Readonly<Record<string, unknown>>, live: boolean): BookState {
    return {
      venue: this.venue,
      symbol: this.symbol,
      depth: Number(message.depth ?? this.depth),
      bids: (message.bids ?? []) as BookState['bids'],
      asks: (message.asks ?? []) as BookState['asks'],
      ...(typeof message.seq === 'number' ? { seq: message.seq } : {}),
      ...(typeof message.time === 'number' ? { time: message.time } : {}),
      live,
    };
  }
}

/** A venue's trades: appended in order, each id once, the newest `keep` of them. */
export class TradesRoom implements Room {
  readonly key: string;
  readonly store: Store<TradesState>;
  readonly pollable = true;
  private readonly ids = new Set<string>();

  constructor(
    readonly symbol: string,
    readonly venue: string,
    public keep: number,
    private readonly context: RoomContext,
  ) {
    this.key = tradesKey(symbol, venue);
    this.store = new Store<TradesState>({ venue, symbol, trades: [], live: false });
  }

  subscribeMessages(): readonly object[] {
    return [{ type: 'subscribe', channel: 'trades', venue: this.venue, symbol: this.symbol }];
  }

  unsubscribeMessages(): readonly object[] {
    return [{ type: 'unsubscribe', channel: 'trades', venue: this.venue, symbol: this.symbol }];
  }

  receive(message: WireMessage): void {
    if (message.type === 'trades') this.add((message.trades ?? []) as readonly TradeJson[], true);
  }

  /** The gateway's error about this room reaches the client's `error` event; the view keeps its last state. */
  receiveError(): void {}

  disconnected(): void {
    const state = this.store.get();
    if (state.live) this.store.set({ ...state, live: false });
  }

  async poll(): Promise<void> {
    const answer = await this.context.http.get<{ trades?: readonly TradeJson[] }>('/api/trades', {
      venue: this.venue,
      symbol: this.symbol,
      limit: Math.min(this.keep, 1000),
    });
    if (this.context.polling()) this.add(answer.trades ?? [], false);
  }

  /**
   * Appends the trades not seen yet. After a reconnect or a poll the batches overlap what is held (the recent
   * trades); the ids keep each trade once, and the tape is kept in time order.
   */
  private add(trades: readonly TradeJson[], live: boolean): void {
    const fresh = trades.filter((trade) => !this.ids.has(trade.id));
    const state = this.store.get();
    if (fresh.length === 0) {
      if (state.live !== live) this.store.set({ ...state, live });
      return;
    }
    const last = state.trades.at(-1);
    // Polled trades may reach back before the newest held one; the tape stays in time order (a stable sort).
    const all = [...state.trades, ...fresh];
    if (last !== undefined && (fresh[0] as TradeJson).time < last.time) all.sort((a, b) => a.time - b.time);
    const kept = all.slice(Math.max(0, all.length - this.keep));
    this.ids.clear();
    for (const trade of kept) this.ids.add(trade.id);
    this.store.set({ ...state, trades: kept, live });
  }
}
