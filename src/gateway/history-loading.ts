import type { SourcesView } from '../protocol/source-status.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { positiveInteger } from '../util/options.ts';

/**
 * Start-up history, as the gateway sees it. After a start (first or after a restart) each venue loads its history
 * in the background and writes it to the store; until then the store holds only what an earlier run left (or
 * nothing), and an `initial` or /api/candles answer read from it is not the whole history. Whether an
 * instrument's history has loaded is judged from the multi-source feed's status (`SourcesView`), the same
 * view as /health, so every role (all, gateway) judges alike. The status says loaded only once the history is in
 * the database (the ingest waits for CandleStore.flushed), so a `gateway` process, which reads the database, can
 * answer it whole as soon as the status says so.
 */

/**
 * True while `symbol`'s history is still loading:
 * - its active source is `loadingHistory` (the composite history is the active source's);
 * - no source is active yet, and every source that lists it is `loadingHistory`;
 * - the view has no status of it (a gateway process that has not heard from an ingest yet) and `inStartup`.
 * An instrument whose only venue can never load its history (unreachable) stays loading until it does.
 */
export function isHistoryLoading(view: SourcesView | undefined, symbol: string, inStartup: boolean): boolean {
  const instrument = view?.instruments.find((i) => i.symbol === symbol);
  if (instrument === undefined) return inStartup;
  const active = instrument.sources.find((s) => s.exchange === instrument.activeSource);
  if (active !== undefined) return active.loadingHistory === true;
  return instrument.sources.length > 0 && instrument.sources.every((s) => s.loadingHistory === true);
}

export interface HistoryLoadOptions {
  /** How often the feed's status is read while a subscription waits for its history (default 250 ms). */
  readonly pollMs?: number;
}

export interface HistoryLoadSource {
  /** The feed's status; may throw (then judged as without status). */
  readonly view: () => SourcesView;
  /** True while this process is within its start-up grace (an instrument without status counts as loading). */
  readonly inStartup: (view: SourcesView | undefined) => boolean;
  /** Called once per failed read of the view. */
  readonly onError?: (err: unknown) => void;
}

const DEFAULT_POLL_MS = 250;

interface Waiter {
  readonly symbol: string;
  readonly refill: () => void;
}

/**
 * Which instruments' start-up history is still loading, and the subscriptions that were sent a partial `initial`
 * because of it, each waiting for its whole history. While any waits, the feed's status is read every `pollMs`;
 * a subscription whose instrument has loaded leaves the wait and is refilled. A subscription also leaves with
 * `remove` (unsubscribed, disconnected, subscribed again).
 */
export class HistoryLoadWait<K> {
  private readonly waiting = new Map<K, Waiter>();
  private readonly pollMs: number;
  private timer: Timer | undefined;
  private stopped = false;
  /**
   * The view read last and when. A burst of subscribes asks `isLoading` once each; building the feed's whole view
   * for each would cost more than the answer is worth, so a view is reused for up to `pollMs`, the staleness the
   * waiting subscriptions accept anyway.
   */
  private lastView: { readonly at: number; readonly view: SourcesView | undefined } | undefined;

  constructor(
    private readonly source: HistoryLoadSource,
    options: HistoryLoadOptions = {},
    /** Times the polls and the view's reuse. */
    private readonly clock: Clock = systemClock,
  ) {
    this.pollMs = positiveInteger('historyLoad', 'pollMs', options.pollMs ?? DEFAULT_POLL_MS);
  }

  /** Subscriptions waiting for their instrument's history. */
  get size(): number {
    return this.waiting.size;
  }

  has(key: K): boolean {
    return this.waiting.has(key);
  }

  /** True while `symbol`'s history is loading (judged from a view at most `pollMs` old). */
  isLoading(symbol: string): boolean {
    const now = this.clock.now();
    if (this.lastView === undefined || now - this.lastView.at >= this.pollMs) {
      this.lastView = { at: now, view: this.readView() };
    }
    const { view } = this.lastView;
    return isHistoryLoading(view, symbol, this.source.inStartup(view));
  }

  /** Adds (or replaces) `key`'s wait for `symbol`'s history; `refill` is called once when it has loaded. */
  add(key: K, symbol: string, refill: () => void): void {
    if (this.stopped) return;
    this.waiting.set(key, { symbol, refill });
    this.startPolling();
  }

  remove(key: K): void {
    this.waiting.delete(key);
    this.idleWhenDone();
  }

  /** Forgets every wait and stops polling for good (gateway shutdown). */
  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    this.idleWhenDone();
  }

  private startPolling(): void {
    if (!this.stopped) this.timer ??= this.clock.setInterval(() => this.poll(), this.pollMs);
  }

  private idleWhenDone(): void {
    if (this.waiting.size > 0) return;
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private readView(): SourcesView | undefined {
    try {
      return this.source.view();
    } catch (err) {
      this.source.onError?.(err);
      return undefined;
    }
  }

  private poll(): void {
    const view = this.readView();
    const inStartup = this.source.inStartup(view);
    const ready: Waiter[] = [];
    for (const [key, waiter] of this.waiting) {
      if (isHistoryLoading(view, waiter.symbol, inStartup)) continue;
      this.waiting.delete(key);
      ready.push(waiter);
    }
    this.idleWhenDone();
    // A refill that finds the history loading again adds its subscription back.
    for (const waiter of ready) waiter.refill();
  }
}
