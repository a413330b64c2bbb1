import type { TurnBudget } from '../util/turn-budget.ts';

/** A client whose writes a tick holds until it is released (ClientSink, MarketSink). */
export interface Corked {
  uncork(): void;
}

/** Clients released per task of the budget: about half a millisecond of socket writes. */
const RELEASE_SLICE = 32;

/**
 * Releases the clients a tick corked, RELEASE_SLICE at a time as tasks of `turns`: each client's messages of the tick
 * still leave in one socket write, at once while the turn has budget left, in the next turns otherwise. When every
 * room of every symbol is due together (an ingest publishes all symbols' bars in one message batch), one tick
 * writes to every client: 5,000 of them held `tickwire all`'s event loop 128 ms in one turn. A client waiting for
 * its slice stays corked, so what it is sent meanwhile joins the same write, after the tick's messages.
 */
export function releaseCorked(owner: object, corked: readonly Corked[], turns: TurnBudget): void {
  for (let start = 0; start < corked.length; start += RELEASE_SLICE) {
    const end = Math.min(start + RELEASE_SLICE, corked.length);
    turns.run(owner, () => {
      for (let i = start; i < end; i++) (corked[i] as Corked).uncork();
    });
  }
}
