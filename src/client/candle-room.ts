/**
 * One candle series (symbol, interval) of the client: its bars merged from `initial`, `update` and `revision`
 * messages, repaired after each reconnect (the re-subscribe asks for enough bars to reach back over the outage,
 * and the `initial` is merged by bar time), refreshed from `/api/candles` while polling, and paged back on demand.
 */
import type { Interval } from '../domain/interval.ts';
import type { BarJson } from '../protocol/server-messages.ts';
import {
  applyRevision,
  applyUpdate,
  barsToCover,
  MAX_INITIAL_BARS,
  mergeWindow,
  prependOlder,
  type Merged,
} from './candle-merge.ts';
import { TickwireHttpError } from './http-api.ts';
import type { Room, RoomContext, WireMessage } from './room.ts';
import type { CandleSeriesState } from './types.ts';
import { Store } from './view-store.ts';

interface CandlesPage {
  readonly bars: readonly BarJson[];
  readonly partial?: boolean;
  readonly reason?: string;
}

export function candleKey(symbol: string, interval: string): string {
  return `candles:${symbol}:${interval}`;
}

export class CandleRoom implements Room {
  readonly key: string;
  readonly store: Store<CandleSeriesState>;
  readonly pollable = true;
  /** The most any view of this series asked for on subscribe. */
  requested: number;

  constructor(
    readonly symbol: string,
    readonly interval: Interval,
    initialBars: number,
    private readonly context: RoomContext,
  ) {
    this.key = candleKey(symbol, interval);
    this.requested = initialBars;
    this.store = new Store<CandleSeriesState>({
      symbol,
      interval,
      bars: [],
      loaded: false,
      change: { kind: 'reset' },
      live: false,
    });
  }

  subscribeMessages(): readonly object[] {
    const state = this.store.get();
    const initialBars = state.loaded
      ? barsToCover(state.bars, this.interval, this.context.now(), this.requested)
      : this.requested;
    return [{ type: 'subscribe', symbol: this.symbol, interval: this.interval, initialBars }];
  }

  unsubscribeMessages(): readonly object[] {
    return [{ type: 'unsubscribe', symbol: this.symbol, interval: this.interval }];
  }

  receive(message: WireMessage): void {
    const state = this.store.get();
    if (message.type === 'initial') {
      const bars = (message.bars ?? []) as readonly BarJson[];
      const partial = message.partial === true ? String(message.reason ?? 'PARTIAL') : undefined;
      const merged = mergeWindow(state.bars, bars, this.interval, partial === undefined);
      this.store.set({
        symbol: this.symbol,
        interval: this.interval,
        bars: merged.bars,
        loaded: true,
        ...(partial === undefined ? {} : { partial }),
        change: merged.change,
        live: true,
      });
      return;
    }
    if (message.type !== 'update' && message.type !== 'revision') return;
    // Before the first `initial` there is nothing to merge into; the gateway holds a room's messages until it.
    if (!state.loaded) return;
    const bar = message.bar as BarJson;
    const merged = message.type === 'update' ? applyUpdate(state.bars, bar) : applyRevision(state.bars, bar);
    if (merged !== undefined) this.apply(merged, true);
  }

  receiveError(error: { readonly code: string; readonly message: string }): void {
    // HISTORY_UNAVAILABLE announces a partial `initial` (which says so itself); anything else is the view's error.
    if (error.code === 'HISTORY_UNAVAILABLE') return;
    this.store.set({ ...this.store.get(), error: { code: error.code, message: error.message } });
  }

  disconnected(): void {
    const state = this.store.get();
    if (state.live) this.store.set({ ...state, live: false });
  }

  /** Polls the newest bars: enough to reach back to the newest bar held, merged as an `initial` is. */
  async poll(): Promise<void> {
    const state = this.store.get();
    const limit = Math.max(1, barsToCover(state.bars, this.interval, this.context.now(), this.requested));
    const page = await this.context.http.get<CandlesPage>('/api/candles', {
      symbol: this.symbol,
      interval: this.interval,
      limit,
    });
    if (!this.context.polling()) return;
    const now = this.store.get();
    const partial = page.partial === true ? String(page.reason ?? 'PARTIAL') : undefined;
    const merged = mergeWindow(now.bars, page.bars, this.interval, partial === undefined);
    const { partial: _old, error: _error, ...rest } = now;
    this.store.set({
      ...rest,
      bars: merged.bars,
      loaded: true,
      ...(partial === undefined ? {} : { partial }),
      change: merged.change,
      live: false,
    });
  }

  /** Prepends up to `count` bars older than the oldest held; resolves to how many were added. */
  async loadOlder(count: number): Promise<number> {
    const oldest = this.store.get().bars[0];
    if (oldest === undefined) return 0;
    const page = await this.context.http.get<CandlesPage>('/api/candles', {
      symbol: this.symbol,
      interval: this.interval,
      limit: Math.min(count, MAX_INITIAL_BARS),
      end: oldest.time,
    });
    if (page.partial === true) {
      // docs/PROTOCOL.md: never page back from a partial answer; the caller asks again later.
      throw new TickwireHttpError(
        String(page.reason ?? 'HISTORY_UNAVAILABLE'),
        'older history is not readable now',
      );
    }
    const state = this.store.get();
    const bars = prependOlder(state.bars, page.bars);
    const added = bars.length - state.bars.length;
    if (added > 0) this.store.set({ ...state, bars, change: { kind: 'reset' } });
    return added;
  }

  private apply(merged: Merged, live: boolean): void {
    this.store.set({ ...this.store.get(), bars: merged.bars, change: merged.change, live });
  }
}
