import type { CandleUpdate } from '../domain/candle.ts';
import type { Interval } from '../domain/interval.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';

/**
 * A CandleStore whose database is still opening (a first embedded database takes seconds to create), so that a
 * process can answer its clients before then. Reads and writes wait for the store and then go to it, in the order
 * they were made: nothing is answered from a store that is not there yet, and nothing written early is lost. When
 * the store fails to open, every waiting and later call rejects with that error.
 */
export class OpeningCandleStore implements CandleStore {
  private opened: CandleStore | undefined;

  constructor(private readonly opening: Promise<CandleStore>) {
    opening.then(
      (store) => {
        this.opened = store;
      },
      // The owner of `opening` handles its failure; calls made here reject with it.
      () => undefined,
    );
  }

  /** True once the store has opened. */
  get ready(): boolean {
    return this.opened !== undefined;
  }

  async write(updates: readonly CandleUpdate[]): Promise<void> {
    await (this.opened ?? (await this.opening)).write(updates);
  }

  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
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
