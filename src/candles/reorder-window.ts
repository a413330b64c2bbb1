/**
 * The reorder window of `tickwire aggregate`: trades may arrive up to `windowMs` out of time order; the window
 * holds each trade until no trade that could still arrive may come before it, then hands it on. What it hands
 * on is in the order of the sorted input: by time, then by venue sequence (same venue), then by arrival.
 *
 * Trades that arrive in order (nearly all of them in an exchange dump) go to the end of a sorted run, taken from
 * its front without moving the rest; only a trade earlier than the run's last goes into a min-heap.
 */
import type { VenueId } from '../domain/instrument.ts';
import type { Trade } from '../domain/trade.ts';

/**
 * A trade as plain numbers, the way a reader that scans bytes has it: no objects or strings per trade. Its id is
 * the decimal text of `seq` (Binance's aggregate id), price and size are `coef × 10^-scale` with safe-integer
 * coefficients. The window copies the numbers, so a reader may reuse one record for every trade.
 */
export interface TradeNumbers {
  readonly seq: number;
  readonly priceCoef: number;
  readonly priceScale: number;
  readonly sizeCoef: number;
  readonly sizeScale: number;
  /** The taker sold (`side` "sell"). */
  readonly sell: boolean;
  readonly fills: number;
  readonly time: number;
  readonly receivedAt: number;
}

/** Whether trade `a`, read `aOrder`-th, comes before trade `b`, read `bOrder`-th. */
function before(a: Trade, aOrder: number, b: Trade, bOrder: number): boolean {
  if (a.time !== b.time) return a.time < b.time;
  const sa = a.seq;
  const sb = b.seq;
  if (sa !== undefined && sb !== undefined && a.venue === b.venue && sa !== sb) return sa < sb;
  return aOrder < bOrder;
}

/**
 * Numbers per trade in the run: time, arrival order, seq (NaN: none), fills, receivedAt, price coefficient and
 * scale, size coefficient and scale (-1: the trade is kept whole, see REFS), side (1: sell).
 */
const NUMS = 10;
const TIME = 0;
const ORDER = 1;
const SEQ = 2;
const FILLS = 3;
const RECEIVED = 4;
const PRICE_COEF = 5;
const PRICE_SCALE = 6;
const SIZE_COEF = 7;
const SIZE_SCALE = 8;
const SELL = 9;
/**
 * References per trade in the run: id (undefined: the decimal text of seq), venue, symbol; the first is the trade
 * itself where its coefficients are not safe integers (it is handed on as it came).
 */
const REFS = 3;
/** Trades the run has room for at first; it doubles when full. */
const INITIAL_CAPACITY = 1024;

export class ReorderWindow {
  /** The latest trade time seen; -Infinity before the first trade. */
  private latestTime = -Infinity;
  private arrivals = 0;
  /**
   * The sorted run: a ring of `capacity` trades, from `head` to `tail` (counted from the start, taken modulo the
   * capacity), kept as numbers and a few references rather than as Trade objects. The window holds minutes of
   * trades, long enough for the garbage collector to move held objects to its old generation, where collecting
   * them costs about as much as reading the trades did. A trade is built as it leaves.
   */
  private capacity = INITIAL_CAPACITY;
  private nums = new Float64Array(INITIAL_CAPACITY * NUMS);
  private refs: (string | Trade | undefined)[] = new Array<undefined>(INITIAL_CAPACITY * REFS).fill(
    undefined,
  );
  private head = 0;
  private tail = 0;
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
    if (this.tail === this.head || !this.beforeRun(trade.time, trade.seq, trade.venue, order, this.tail - 1))
      this.append(trade, order);
    else this.heap.push({ trade, order });
    this.advance(trade.time, ready);
  }

  /**
   * `push` for a trade given as numbers (which must be `accepts`ed), of `venue` and `symbol`: in order, as nearly
   * every trade of a dump is, it is stored without building a Trade.
   */
  pushNumbers(t: TradeNumbers, venue: VenueId, symbol: string, ready: (trade: Trade) => void): void {
    const order = this.arrivals++;
    if (this.tail === this.head || !this.beforeRun(t.time, t.seq, venue, order, this.tail - 1)) {
      const n = this.slot() * NUMS;
      const nums = this.nums;
      nums[n + TIME] = t.time;
      nums[n + ORDER] = order;
      nums[n + SEQ] = t.seq;
      nums[n + FILLS] = t.fills;
      nums[n + RECEIVED] = t.receivedAt;
      nums[n + PRICE_COEF] = t.priceCoef;
      nums[n + PRICE_SCALE] = t.priceScale;
      nums[n + SIZE_COEF] = t.sizeCoef;
      nums[n + SIZE_SCALE] = t.sizeScale;
      nums[n + SELL] = t.sell ? 1 : 0;
      const r = (n / NUMS) * REFS;
      this.refs[r] = undefined;
      this.refs[r + 1] = venue;
      this.refs[r + 2] = symbol;
    } else {
      this.heap.push({
        trade: {
          venue,
          symbol,
          id: String(t.seq),
          seq: t.seq,
          price: { coef: BigInt(t.priceCoef), scale: t.priceScale },
          size: { coef: BigInt(t.sizeCoef), scale: t.sizeScale },
          side: t.sell ? 'sell' : 'buy',
          fills: t.fills,
          time: t.time,
          receivedAt: t.receivedAt,
        },
        order,
      });
    }
    this.advance(t.time, ready);
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
    return this.tail - this.head + this.heap.size;
  }

  /** After a trade at `time`: hands on every trade now more than the window behind the latest. */
  private advance(time: number, ready: (trade: Trade) => void): void {
    if (time <= this.latestTime) return;
    this.latestTime = time;
    const limit = time - this.windowMs;
    for (;;) {
      const fromRun = this.runFirst();
      const top = this.heap.peek();
      const first = fromRun
        ? this.nums[(this.head % this.capacity) * NUMS + TIME]!
        : top === undefined
          ? Infinity
          : top.trade.time;
      if (!(first < limit)) return;
      ready(fromRun ? this.takeRun() : this.heap.pop()!.trade);
    }
  }

  /** The ring slot for a trade added at the end of the run, growing the ring when it is full. */
  private slot(): number {
    if (this.tail - this.head === this.capacity) this.grow();
    return this.tail++ % this.capacity;
  }

  /** Doubles the ring, its trades moved to the start in order. */
  private grow(): void {
    const capacity = this.capacity * 2;
    const nums = new Float64Array(capacity * NUMS);
    const refs = new Array<string | Trade | undefined>(capacity * REFS).fill(undefined);
    for (let i = 0, index = this.head; index < this.tail; i++, index++) {
      const from = index % this.capacity;
      nums.set(this.nums.subarray(from * NUMS, from * NUMS + NUMS), i * NUMS);
      for (let k = 0; k < REFS; k++) refs[i * REFS + k] = this.refs[from * REFS + k];
    }
    this.tail -= this.head;
    this.head = 0;
    this.capacity = capacity;
    this.nums = nums;
    this.refs = refs;
  }

  private append(trade: Trade, order: number): void {
    const { price, size } = trade;
    // A coefficient beyond 2^53 converts to a double that is not a safe integer: not exact, keep the trade.
    const priceCoef = Number(price.coef);
    const sizeCoef = Number(size.coef);
    const compact = Number.isSafeInteger(priceCoef) && Number.isSafeInteger(sizeCoef);
    const s = this.slot();
    const n = s * NUMS;
    const r = s * REFS;
    const nums = this.nums;
    nums[n + TIME] = trade.time;
    nums[n + ORDER] = order;
    nums[n + SEQ] = trade.seq ?? NaN;
    nums[n + FILLS] = trade.fills;
    nums[n + RECEIVED] = trade.receivedAt;
    nums[n + PRICE_COEF] = compact ? priceCoef : 0;
    nums[n + PRICE_SCALE] = price.scale;
    nums[n + SIZE_COEF] = compact ? sizeCoef : 0;
    nums[n + SIZE_SCALE] = compact ? size.scale : -1;
    nums[n + SELL] = trade.side === 'sell' ? 1 : 0;
    this.refs[r] = compact ? trade.id : trade;
    this.refs[r + 1] = trade.venue;
    this.refs[r + 2] = trade.symbol;
  }

  /** Takes the run's first trade, built from its numbers. */
  private takeRun(): Trade {
    const s = this.head++ % this.capacity;
    const n = s * NUMS;
    const r = s * REFS;
    const nums = this.nums;
    const refs = this.refs;
    const sizeScale = nums[n + SIZE_SCALE]!;
    if (sizeScale < 0) {
      const whole = refs[r] as Trade;
      refs[r] = undefined;
      return whole;
    }
    const seq = nums[n + SEQ]!;
    const id = refs[r] as string | undefined;
    return {
      venue: refs[r + 1] as VenueId,
      symbol: refs[r + 2] as string,
      id: id ?? String(seq),
      seq: Number.isNaN(seq) ? undefined : seq,
      price: { coef: BigInt(nums[n + PRICE_COEF]!), scale: nums[n + PRICE_SCALE]! },
      size: { coef: BigInt(nums[n + SIZE_COEF]!), scale: sizeScale },
      side: nums[n + SELL] === 1 ? 'sell' : 'buy',
      fills: nums[n + FILLS]!,
      time: nums[n + TIME]!,
      receivedAt: nums[n + RECEIVED]!,
    };
  }

  /** Whether a trade (time, seq, venue), arrived `order`-th, comes before the run's trade at `index`. */
  private beforeRun(
    time: number,
    seq: number | undefined,
    venue: VenueId,
    order: number,
    index: number,
  ): boolean {
    const s = index % this.capacity;
    const n = s * NUMS;
    const runTime = this.nums[n + TIME]!;
    if (time !== runTime) return time < runTime;
    const runSeq = this.nums[n + SEQ]!;
    const runVenue = this.refs[s * REFS + 1];
    if (seq !== undefined && !Number.isNaN(runSeq) && venue === runVenue && seq !== runSeq)
      return seq < runSeq;
    return order < this.nums[n + ORDER]!;
  }

  /** Whether the earliest trade waiting is the run's first (false when the run is empty). */
  private runFirst(): boolean {
    if (this.head >= this.tail) return false;
    const top = this.heap.peek();
    if (top === undefined) return true;
    const t = top.trade;
    return !this.beforeRun(t.time, t.seq, t.venue, top.order, this.head);
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
