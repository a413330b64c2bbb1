/**
 * The views behind the React hooks, shared by request: every component that asks for the same candles (or
 * ticker, book, ...) of one client reads one `View`, so the gateway sees one subscription, and the view is closed
 * once the last of those components has unmounted.
 *
 * React reads a view's state while rendering, before any effect runs, so a view is opened on first read and
 * counted as used only when `useSyncExternalStore` subscribes to it. The close waits `releaseDelayMs` after the
 * last user leaves, which keeps it open through StrictMode's unmount-and-mount of every effect and through a
 * component that is swapped for another asking the same. A view read by a render that never commits (an
 * abandoned concurrent render, a server render) gets the same delay, then closes unused.
 */
import type { ClientClock, View } from './types.ts';

/** How long a view with no user stays open (ms): a remount within it keeps the subscription. */
export const DEFAULT_RELEASE_DELAY_MS = 1000;

type Timers = Pick<ClientClock, 'setTimeout' | 'clearTimeout'>;

const SYSTEM_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Entry {
  readonly view: View<unknown>;
  users: number;
  closeTimer: unknown;
}

export class SharedViews {
  private readonly entries = new Map<string, Entry>();
  private readonly releaseDelayMs: number;
  private readonly timers: Timers;

  constructor(options: { readonly releaseDelayMs?: number; readonly timers?: Timers } = {}) {
    this.releaseDelayMs = options.releaseDelayMs ?? DEFAULT_RELEASE_DELAY_MS;
    this.timers = options.timers ?? SYSTEM_TIMERS;
  }

  /**
   * The open view under `key`, opened with `open` when there is none. One key must always name the same kind of
   * view (the hooks put the channel in it), which is what makes the cast sound.
   */
  view<V extends View<unknown>>(key: string, open: () => V): V {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { view: open(), users: 0, closeTimer: undefined };
      this.entries.set(key, entry);
      this.closeLater(key, entry);
    }
    return entry.view as V;
  }

  /**
   * Counts one user of the view under `key` (opening it if needed) and calls `listener` on each change; the
   * returned function stops both, once, however often it is called.
   */
  use(key: string, open: () => View<unknown>, listener: () => void): () => void {
    this.view(key, open);
    const entry = this.entries.get(key) as Entry;
    entry.users += 1;
    this.cancelClose(entry);
    const stopListening = entry.view.subscribe(listener);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      stopListening();
      entry.users -= 1;
      if (entry.users === 0) this.closeLater(key, entry);
    };
  }

  /** Views open now (used, or waiting out their release delay). */
  get size(): number {
    return this.entries.size;
  }

  private closeLater(key: string, entry: Entry): void {
    this.cancelClose(entry);
    entry.closeTimer = this.timers.setTimeout(() => {
      entry.closeTimer = undefined;
      if (entry.users > 0 || this.entries.get(key) !== entry) return;
      this.entries.delete(key);
      entry.view.close();
    }, this.releaseDelayMs);
  }

  private cancelClose(entry: Entry): void {
    if (entry.closeTimer === undefined) return;
    this.timers.clearTimeout(entry.closeTimer);
    entry.closeTimer = undefined;
  }
}
