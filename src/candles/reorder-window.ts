/**
 * The reorder window of `tickwire aggregate`: trades may arrive up to `windowMs` out of time order; the window
 * holds each trade until no trade that could still arrive may come before it, then hands it on. What it hands
 * on is in the order of the sorted input: by time, then by venue sequence (same venue), then by arrival.
 *
 * Trades that arrive in order (nearly all of them in an exchange dump) go to the end of a sorted run, taken from
 * its front without moving the rest; only a trade earlier than the run's last goes into a min-heap.
 */
import type { Trade } from '../domain/trade.ts';

/** Whether trade `a`, read `aOrder`-th, comes before trade `b`, read `bOrder`-th. */
function before(a: Trade, aOrder: number, b: Trade, bOrder: number): boolean {
  if (a.time !== b.time) return a.time < b.time;
  const sa = a.seq;
  const sb = b.seq;
  if (sa !== undefined && sb !== undefined && a.venue === b.venue && sa !== sb) return sa < sb;
  return aOrder < bOrder;
}

export class ReorderWindow {
  /** The latest trade time seen; -Infinity before the first trade. */
  private latestTime = -Infinity;
  private arrivals = 0;
  /** The sorted run, from `head` on, and each trade's arrival order (a number array: no object per trade). */
  private run: Trade[] = [];
  private runOrder: number[] = [];
  private head = 0;
  private readonly heap = new TradeHeap();

  /** `windowMs`: how far (ms) a trade may arrive behind the latest trade seen; 0 for input in time order. */
  constructor(readonly windowMs: number) {}

  /** The latest trade time seen so far (-Infinity before the first trade). */
  get latest(): number {
    return this.latestTime;
  }

  /** Whether a trade at `time` can still be put in order: it is not more than the window behind the latest. */
  accepts(time: number): boolean {
    return time >= this.latestTime - this.windowMs;
  }

  /**
   * Adds a trade (which must be `accepts`ed), then hands to `ready`, in order, every trade now more than the
   * window behind the latest: no trade that may still arrive can come before them.
   */
  push(trade: Trade, ready: (trade: Trade) => void): void {
    const order = this.arrivals++;
    const last = this.run.length - 1;
    if (last < this.head || !before(trade, order, this.run[last]!, this.runOrder[last]!)) {
      this.run.push(trade);
      this.runOrder.push(order);
    } else this.heap.push({ trade, order });
    if (trade.time <= this.latestTime) return;
    this.latestTime = trade.time;
    const limit = trade.time - this.windowMs;
    for (let next = this.peek(); next !== undefined && next.time < limit; next = this.peek())
      ready(this.pop()!);
  }

  /** Hands every trade still waiting to `ready`, in order (at the end of the input). */
  drain(ready: (trade: Trade) => void): void {
    for (let next = this.pop(); next !== undefined; next = this.pop()) ready(next);
  }

  /** Trades waiting. */
  get size(): number {
    return this.run.length - this.head + this.heap.size;
  }

  private peek(): Trade | undefined {
    return this.runFirst() ? this.run[this.head] : this.heap.peek()?.trade;
  }

  private pop(): Trade | undefined {
    if (!this.runFirst()) return this.heap.pop()?.trade;
    const next = this.run[this.head++];
    // Drop the taken front now and then instead of shifting per trade.
    if (this.head > 4096 && this.head * 2 > this.run.length) {
      this.run = this.run.slice(this.head);
      this.runOrder = this.runOrder.slice(this.head);
      this.head = 0;
    }
    return next;
  }

  /** Whether the earliest trade waiting is the run's first (false when the run is empty). */
  private runFirst(): boolean {
    if (this.head >= this.run.length) return false;
    const top = this.heap.peek();
    return (
      top === undefined || !before(top.trade, top.order, this.run[this.head]!, this.runOrder[this.head]!)
    );
  }
}

interface Pending {
  readonly trade: Trade;
  readonly order: number;
}

function earlier(a: Pending, b: Pending): boolean {
  return before(a.trade, a.order, b.trade, b.order);
}

/** Min-heap of the trades that arrived out of order. */
class TradeHeap {
  private readonly items: Pending[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Pending | undefined {
    return this.items[0];
  }

  push(item: Pending): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Pending | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && earlier(a[l]!, a[m]!)) m = l;
      if (r < a.length && earlier(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
    return top;
  }
}
