/**
 * Generates the markets' history before their trade windows in slices, one slice per turn of the event loop, so
 * that a month of minutes per market (some 50 ms each, a few seconds for the demo's 40 markets) never holds the
 * simulator's loop for long. That matters most in `tickwire demo`, where the simulator shares its event loop with
 * Tickwire: generated on a venue's first requests, one market at a time, it made turns of 50–66 ms there.
 *
 * Markets wanted now (`whenComplete`: a request to their venue waits) go before the rest (`all`: `tickwire sim`'s
 * warm-up before its `# history ready` line, the demo's in the background).
 */
import type { SimMarket } from './market/market.ts';

/** Minutes of one market generated per turn (docs/PERFORMANCE.md, "Start-up stalls": the slice's time). */
export const HISTORY_SLICE_MINUTES = 2048;

interface Wanted {
  readonly markets: readonly SimMarket[];
  readonly resolve: () => void;
}

export class HistoryWarmUp {
  /** Waiters first in, first served; then every market (`all`) in the order given. */
  private readonly wanted: Wanted[] = [];
  /** The markets of `all` and its callers, waiting for the last of them. */
  private everything:
    { readonly markets: readonly SimMarket[]; readonly resolvers: (() => void)[] } | undefined;
  private running = false;
  private stopped = false;

  /** `onError`: a market's generation threw; the warm-up stops (a request then generates on use, and fails). */
  constructor(private readonly onError: (err: unknown) => void) {}

  /** True when every one of `markets` has its whole history. */
  static complete(markets: readonly SimMarket[]): boolean {
    return markets.every((m) => m.historyComplete);
  }

  /** Resolves once every one of `markets` has its whole history, generated in slices before any other's. */
  whenComplete(markets: readonly SimMarket[]): Promise<void> {
    if (HistoryWarmUp.complete(markets) || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wanted.push({ markets, resolve });
      this.run();
    });
  }

  /**
   * Generates every one of `markets`' history, behind the markets a waiter wants; resolves with how many had any
   * history left to generate when it began.
   */
  all(markets: readonly SimMarket[]): Promise<number> {
    const pending = markets.filter((m) => !m.historyComplete).length;
    if (pending === 0 || this.stopped) return Promise.resolve(pending);
    return new Promise((resolve) => {
      this.everything ??= { markets, resolvers: [] };
      this.everything.resolvers.push(() => resolve(pending));
      this.run();
    });
  }

  /** Stops at the end of the current slice and releases every waiter (the simulator is closing, or failed). */
  stop(): void {
    this.stopped = true;
    for (const w of this.wanted.splice(0)) w.resolve();
    for (const resolve of this.everything?.resolvers ?? []) resolve();
    this.everything = undefined;
  }

  /** The market whose history is generated next: the first incomplete one a waiter wants, else of `all`'s. */
  private next(): SimMarket | undefined {
    while (this.wanted.length > 0) {
      const first = this.wanted[0] as Wanted;
      const market = first.markets.find((m) => !m.historyComplete);
      if (market !== undefined) return market;
      this.wanted.shift();
      first.resolve();
    }
    const everything = this.everything;
    if (everything === undefined) return undefined;
    const market = everything.markets.find((m) => !m.historyComplete);
    if (market === undefined) {
      this.everything = undefined;
      for (const resolve of everything.resolvers) resolve();
    }
    return market;
  }

  private run(): void {
    if (this.running) return;
    this.running = true;
    const step = (): void => {
      const market = this.stopped ? undefined : this.next();
      if (market === undefined) {
        this.running = false;
        return;
      }
      try {
        market.generateHistory(HISTORY_SLICE_MINUTES);
      } catch (err) {
        this.running = false;
        this.stop();
        this.onError(err);
        return;
      }
      setImmediate(step);
    };
    setImmediate(step);
  }
}
