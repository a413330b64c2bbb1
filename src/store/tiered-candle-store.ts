import type { CandleUpdate } from '../domain/candle.ts';
import type { Interval } from '../domain/interval.ts';
import type { Logger } from '../telemetry/logger.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { IncompleteHistoryError, type CandleStore, type StoredCandle } from './candle-store.ts';
import type { MemoryCandleStore } from './memory-candle-store.ts';

export interface TieredCandleStoreOptions {
  /** The recent window, answered without I/O. */
  readonly memory: MemoryCandleStore;
  /** History beyond the window. */
  readonly persistent: CandleStore;
  readonly logger: Logger;
  /**
   * Memory follows a stream that began with this process (a gateway's copy of the bus, MemoryCandleStore.mirror)
   * rather than every write: each read of the persistent store then extends memory back (extendBack), so that the
   * next read of that depth needs no I/O. Off by default.
   */
  readonly extendMemoryFromReads?: boolean;
  /** The time of each read, for extendMemoryFromReads (default: the system clock). */
  readonly clock?: Clock;
}

/**
 * A bar that ended this long before a read is in the database in its final state: the ingest queues a closed bar
 * once the close grace has passed (`candles.closeGraceMs`, 2 s by default, at most 60 s) and writes its queue every
 * `storage.flushMs` (at most 60 s): the sum of the two largest values the configuration allows, as a gateway does
 * not know the ingest's settings. Not covered: an ingest whose writes fall further behind (a database that takes
 * them slower than they come, its queue growing towards `storage.maxPendingBars`).
 */
export const SETTLED_MS = 120_000;

/**
 * CandleStore in two tiers: the recent bars in memory, all of history in a persistent store behind it.
 *
 * `write` puts the bars in memory at once (synchronously, so a reader right after sees them) and hands them to
 * the persistent store. `recent` answers from memory alone when memory holds `limit` bars before `end`, which is
 * the common case (a client's first screen of bars). Otherwise it reads the persistent store for the same window
 * and merges by time, memory winning where both hold a bar (memory is the newer: the persistent store may be
 * writing behind, and a gateway's memory follows the bus). Merging rather than only prepending what is older than
 * memory's first bar keeps the answer whole when memory has holes: a gateway's memory starts when the gateway
 * does, so a late revision of an older bar lands in memory with a gap after it that only the database can fill.
 *
 * A gateway's memory starts empty, and a client's first screen of 1,000 bars reaches back further than it holds for
 * hours (1m) to weeks (1h): with `extendMemoryFromReads`, a read of a series' depth extends memory back, and later
 * subscribes are answered from memory (docs/PERFORMANCE.md, "History"). Not in the first two minutes after the
 * bar before memory's first ended (SETTLED_MS): the database may not hold that bar's final state yet.
 *
 * When the persistent store fails and memory does not hold the whole window, `recent` rejects with an
 * IncompleteHistoryError that carries memory's bars: the caller serves them as partial history (and says so), never
 * as the whole of it.
 */
export class TieredCandleStore implements CandleStore {
  /** The recent window; the gateway role fills it from the bus with `put`. */
  readonly memory: MemoryCandleStore;
  private readonly persistent: CandleStore;
  private readonly logger: Logger;
  private readonly extendMemory: boolean;
  private readonly clock: Clock;

  constructor(options: TieredCandleStoreOptions) {
    this.memory = options.memory;
    this.persistent = options.persistent;
    this.logger = options.logger;
    this.extendMemory = options.extendMemoryFromReads === true;
    this.clock = options.clock ?? systemClock;
  }

  async write(updates: readonly CandleUpdate[]): Promise<void> {
    this.memory.putAll(updates);
    await this.persistent.write(updates);
  }

  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    const recent = this.memory.recentSync(symbol, interval, limit, end);
    if (recent.length >= limit) return recent;
    const readAt = this.clock.now();
    let older: StoredCandle[];
    try {
      older = await this.persistent.recent(symbol, interval, limit, end);
    } catch (err) {
      // The caller reports the outage to its client (and logs it once); a retry loop must not flood the log.
      this.logger.debug(
        { err, symbol, interval, limit, end },
        'store: history beyond memory could not be read',
      );
      throw new IncompleteHistoryError(recent, { cause: err });
    }
    if (this.extendMemory) this.memory.extendBack(symbol, interval, older, readAt - SETTLED_MS);
    const byTime = new Map<number, StoredCandle>();
    for (const s of older) byTime.set(s.bar.time, s);
    for (const s of recent) byTime.set(s.bar.time, s);
    const merged = [...byTime.values()].sort((a, b) => a.bar.time - b.bar.time);
    return merged.slice(Math.max(0, merged.length - limit));
  }

  /** Memory is written at once; the persistent store decides when the writes are stored. */
  flushed(): Promise<void> {
    return this.persistent.flushed();
  }

  /** Closes the persistent store (memory holds nothing to close). */
  async close(): Promise<void> {
    await this.memory.close();
    await this.persistent.close();
  }
}
