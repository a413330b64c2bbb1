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

/** Numbers per trade in the run: time, arrival order, seq (NaN: none), fills, receivedAt, price and size. */
const NUMS = 9;
/** References per trade in the run: id, venue, symbol, side; or the trade itself where it is not compact. */
const REFS = 4;

export class ReorderWindow {
  /** The latest trade time seen; -Infinity before the first trade. */
  private latestTime = -Infinity;
  private arrivals = 0;
  /**
   * The sorted run, trade `head` on, kept in two flat arrays rather than as Trade objects: the window holds
   * minutes of trades, long enough for the garbage collector to move held objects to its old generation,
   * where collecting them costs about as much as reading the trades did. A trade is rebuilt as it leaves.
   */
  private nums: number[] = [];
  private refs: (string | Trade)[] = [];
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
    const last = this.runLength() - 1;
    if (last < this.head || !this.beforeRun(trade, order, last)) this.append(trade, order);
    else this.heap.push({ trade, order });
    if (trade.time <= this.latestTime) return;
    this.latestTime = trade.time;
    const limit = trade.time - this.windowMs;
    for (;;) {
      const fromRun = this.runFirst();
      const top = this.heap.peek();
      const time = fromRun ? this.nums[this.head * NUMS]! : top === undefined ? Infinity : top.trade.time;
      if (!(time < limit)) return;
      ready(fromRun ? this.takeRun() : this.heap.pop()!.trade);
    }
  }

  /** Hands every trade still waiting to `ready`, in order (at the end of the input). */
  drain(ready: (trade: Trade) => void): void {
    for (;;) {
      if (this.runFirst()) ready(this.takeRun());
      else {
        const top = this.heap.pop();
        if (top === undefined) return;
        ready(top.trade);
      }
    }
  }

  /** Trades waiting. */
  get size(): number {
    return this.runLength() - this.head + this.heap.size;
  }

  private runLength(): number {
    return this.nums.length / NUMS;
  }

  private append(trade: Trade, order: number): void {
    const { price, size } = trade;
    // A coefficient beyond 2^53 converts to a double that is not a safe integer: not exact, keep the trade.
    const priceCoef = Number(price.coef);
    const sizeCoef = Number(size.coef);
    const compact = Number.isSafeInteger(priceCoef) && Number.isSafeInteger(sizeCoef);
    this.nums.push(
      trade.time,
      order,
      trade.seq ?? NaN,
      trade.fills,
      trade.receivedAt,
      compact ? priceCoef : 0,
      price.scale,
      compact ? sizeCoef : 0,
      compact ? size.scale : -1,
    );
    if (compact) this.refs.push(trade.id, trade.venue, trade.symbol, trade.side);
    else this.refs.push(trade, '', '', '');
  }

  /** Takes the run's first trade, rebuilt. */
  private takeRun(): Trade {
    const n = this.head * NUMS;
    const r = this.head * REFS;
    const nums = this.nums;
    const refs = this.refs;
    this.head++;
    const sizeScale = nums[n + 8]!;
    const seq = nums[n + 2]!;
    const trade: Trade =
      sizeScale < 0
        ? (refs[r] as Trade)
        : {
            venue: refs[r + 1] as Trade['venue'],
            symbol: refs[r + 2] as string,
            id: refs[r] as string,
            seq: Number.isNaN(seq) ? undefined : seq,
            price: { coef: BigInt(nums[n + 5]!), scale: nums[n + 6]! },
            size: { coef: BigInt(nums[n + 7]!), scale: sizeScale },
            side: refs[r + 3] as Trade['side'],
            fills: nums[n + 3]!,
            time: nums[n]!,
            receivedAt: nums[n + 4]!,
          };
    // Drop the taken front now and then instead of shifting per trade.
    if (this.head > 4096 && this.head * 2 > this.runLength()) {
      this.nums = this.nums.slice(this.head * NUMS);
      this.refs = this.refs.slice(this.head * REFS);
      this.head = 0;
    }
    return trade;
  }

  /** Whether `trade`, arrived `order`-th, comes before the run's trade at `index`. */
  private beforeRun(trade: Trade, order: number, index: number): boolean {
    const n = index * NUMS;
    const time = this.nums[n]!;
    if (trade.time !== time) return trade.time < time;
    const seq = this.nums[n + 2]!;
    const venue =
      this.nums[n + 8]! < 0 ? (this.refs[index * REFS] as Trade).venue : this.refs[index * REFS + 1];
    if (trade.seq !== undefined && !Number.isNaN(seq) && trade.venue === venue && trade.seq !== seq)
      return trade.seq < seq;
    return order < this.nums[n + 1]!;
  }

  /** Whether the earliest trade waiting is the run's first (false when the run is empty). */
  private runFirst(): boolean {
    if (this.head >= this.runLength()) return false;
    const top = this.heap.peek();
    return top === undefined || !this.beforeRun(top.trade, top.order, this.head);
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
