/**
 * The state container behind every view: one current state, replaced (never mutated) on each change, and the
 * listeners told after it. Handles give several views of one shared room (two charts of one series) their own
 * listeners and their own `close`, and optionally a selection of the room's state (a book view of fewer levels).
 */
import type { View } from './types.ts';

export class Store<T> {
  private readonly listeners = new Set<(state: T) => void>();

  constructor(private state: T) {}

  get(): T {
    return this.state;
  }

  set(state: T): void {
    this.state = state;
    for (const listener of [...this.listeners]) {
      // A listener that throws must not keep the others (or the client's message loop) from running.
      try {
        listener(state);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  subscribe(listener: (state: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * A view of `store`: `select` derives the view's state from the store's (cached per store state, so `get()`
 * returns the same object until the store changes); `release` runs once, on the first `close()`.
 */
export function viewOf<S, T>(store: Store<S>, select: (state: S) => T, release: () => void): View<T> {
  let seen: S | undefined;
  let selected: T | undefined;
  let closed = false;
  const stops = new Set<() => void>();
  const current = (state: S): T => {
    if (seen !== state || selected === undefined) {
      seen = state;
      selected = select(state);
    }
    return selected;
  };
  return {
    get: () => current(store.get()),
    subscribe(listener) {
      if (closed) return () => {};
      const stop = store.subscribe((state) => listener(current(state)));
      stops.add(stop);
      return () => {
        stop();
        stops.delete(stop);
      };
    },
    close() {
      if (closed) return;
      closed = true;
      for (const stop of stops) stop();
      stops.clear();
      release();
    },
  };
}
