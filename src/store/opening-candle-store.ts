import type { CandleUpdate } from '../domain/candle.ts';
import type { Interval } from '../domain/interval.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';
import type { CandleRow, CandleRowStore } from './candle-row.ts';

export interface OpeningCandleStoreOptions {
  /**
   * What a read made before the store has opened gets:
   * - 'wait' (default): the store's answer, once it has opened.
   * - 'nothing-yet': at once, no bars: the history in the store cannot be read yet. Only for a store behind a
   *   faster tier (TieredCandleStore's memory) whose caller takes every answer made meanwhile as partial. The
   *   `tickwire all` process is such a caller: an instrument's start-up history counts as loading until the
   *   writes of it are flushed(), which needs the store open, so its gateway marks every `initial` read before
   *   then HISTORY_LOADING and sends the whole one once the history is stored (docs/PROTOCOL.md).
   */
  readonly readsWhileOpening?: 'wait' | 'nothing-yet';
}

/**
 * A CandleStore whose database is still opening (a first embedded database takes seconds to create), so that a
 * process can answer its clients before then. Writes wait for the store and then go to it, in the order they were
 * made: nothing written early is lost. Reads wait for it too, or answer that nothing can be read yet (see
 * OpeningCandleStoreOptions). When the store fails to open, every waiting and later call rejects with that error.
 */
export class OpeningCandleStore<S extends CandleStore = CandleStore> implements CandleStore {
  private opened: S | undefined;
  private failed = false;
  private readonly readsWhileOpening: 'wait' | 'nothing-yet';

  constructor(
    private readonly opening: Promise<S>,
    options: OpeningCandleStoreOptions = {},
  ) {
    this.readsWhileOpening = options.readsWhileOpening ?? 'wait';
    opening.then(
      (store) => {
        this.opened = store;
      },
      // The owner of `opening` handles its failure; calls made here reject with it.
      () => {
        this.failed = true;
      },
    );
  }

  /** True once the store has opened. */
  get ready(): boolean {
    return this.opened !== undefined;
  }

  async write(updates: readonly CandleUpdate[]): Promise<void> {
    await (this.opened ?? (await this.opening)).write(updates);
  }

  /** As `write`, for a store that takes CandleRows (the write buffer's target). */
  async writeRows(this: OpeningCandleStore<CandleRowStore>, rows: readonly CandleRow[]): Promise<void> {
    await (this.opened ?? (await this.opening)).writeRows(rows);
  }

  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    if (this.opened === undefined && !this.failed && this.readsWhileOpening === 'nothing-yet') return [];
    return (this.opened ?? (await this.opening)).recent(symbol, interval, limit, end);
  }

  /** Waits for the store, then for its flushed(): writes made before this call reach the store first. */
  async flushed(): Promise<void> {
    await (this.opened ?? (await this.opening)).flushed();
  }

  /** Closes the store once it has opened; a store that failed to open has nothing to close. */
  async close(): Promise<void> {
    const store = await this.opening.catch(() => undefined);
    await store?.close();
  }
}
