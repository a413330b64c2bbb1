import type { CandleUpdate } from '../domain/candle.ts';
import type { StoredCandle } from '../store/candle-store.ts';

/** Bars a room keeps at most; past it the oldest go, and requests for more read the store again. */
const MAX_BARS = 10_000;

/**
 * A room's history in memory, kept once a store read showed the whole series (fewer bars than asked: 1D and 1W
 * series are short), and kept current by the room's own stream, so that repeated subscribes to the room need no
 * store read. The room only installs it from a read during which the stream brought nothing, so it starts as the
 * store's state and every later message of the room's stream is applied to it in order.
 *
 * A message never replaces a newer state of its bar: one with fewer trades from the same venues is an older
 * state (the store is written before the stream publishes, so the read may already hold a newer state than a
 * message still on its way). A bar from other venues (a failover) replaces whatever is kept.
 */
export class RoomHistory {
  private bars: StoredCandle[];
  /** True while `bars` is the whole series (nothing trimmed). */
  private complete = true;

  constructor(bars: readonly StoredCandle[]) {
    this.bars = [...bars];
  }

  /** Whether the newest `count` bars can be answered from memory. */
  covers(count: number): boolean {
    return this.complete || this.bars.length >= count;
  }

  /** The newest `count` bars, oldest first. */
  recent(count: number): StoredCandle[] {
    return this.bars.slice(Math.max(0, this.bars.length - count));
  }

  /** Takes one message of the room's stream. */
  apply(update: CandleUpdate): void {
    const entry: StoredCandle = {
      bar: update.bar,
      sources: update.sources,
      backfilled: update.backfilled === true,
    };
    const time = update.bar.time;
    const bars = this.bars;
    const last = bars[bars.length - 1];
    if (last === undefined || last.bar.time < time) {
      bars.push(entry);
      if (bars.length > MAX_BARS) {
        this.bars = bars.slice(bars.length - MAX_BARS);
        this.complete = false;
      }
      return;
    }
    const at = lowerBound(bars, time);
    const known = bars[at];
    if (known?.bar.time !== time) {
      bars.splice(at, 0, entry);
      return;
    }
    if (sameVenues(known, entry) && entry.bar.trades < known.bar.trades) return;
    bars[at] = entry;
  }
}

function sameVenues(a: StoredCandle, b: StoredCandle): boolean {
  if (a.sources.length === 0 || b.sources.length === 0) return true;
  return a.sources.length === b.sources.length && a.sources.every((v, i) => v === b.sources[i]);
}

function lowerBound(bars: readonly StoredCandle[], time: number): number {
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((bars[mid] as StoredCandle).bar.time < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
