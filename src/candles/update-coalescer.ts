/**
 * Batches candle updates between publishes. Within a batch each bar (symbol, interval, bar time) appears once, with
 * its latest content, at the position of its first update in the batch. Because the engine emits a bar's `closed`
 * before the next bar's first `live`, keeping first positions preserves that causal order; revisions of bars not in
 * the batch are appended in arrival order.
 *
 * State merge inside one batch: `closed` and `revised` are never downgraded to `live`; a bar that closed and was then
 * revised in the same batch is published once as `closed` with the revised content (its first final state anyone
 * sees). Pure and clock-free: the owner calls `flush()` on its own timer.
 */
import type { CandleState, CandleUpdate } from '../domain/candle.ts';

interface Pending {
  update: CandleUpdate;
}

/** A final state (closed/revised) stays what it first was; a live bar takes the newer state. */
function mergeState(previous: CandleState, next: CandleState): CandleState {
  return previous === 'live' ? next : previous;
}

export class UpdateCoalescer {
  private order: Pending[] = [];
  private byKey = new Map<string, Pending>();
  private received = 0;

  /** Records an update; replaces the pending one of the same bar, keeping its place in the batch. */
  add(update: CandleUpdate): void {
    this.received++;
    const key = `${update.symbol}\u0000${update.interval}\u0000${update.bar.time}`;
    const pending = this.byKey.get(key);
    if (pending === undefined) {
      const entry = { update };
      this.order.push(entry);
      this.byKey.set(key, entry);
      return;
    }
    const state = mergeState(pending.update.state, update.state);
    pending.update = state === update.state ? update : { ...update, state };
  }

  /** The pending updates in causal order; empties the batch. */
  flush(): CandleUpdate[] {
    if (this.order.length === 0) return [];
    const out = this.order.map((p) => p.update);
    this.order = [];
    this.byKey = new Map();
    return out;
  }

  /** Bars waiting for the next flush. */
  get pending(): number {
    return this.order.length;
  }

  /** Updates received since construction (before coalescing), for metrics. */
  get totalReceived(): number {
    return this.received;
  }
}
