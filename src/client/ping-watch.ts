/**
 * The app-level ping that finds a dead path: every `intervalMs` a `{"type":"ping"}`, and when nothing at all
 * arrives within `timeoutMs` after it (the gateway answers `pong`, and any other message proves the path as
 * well), the path is declared dead. A TCP connection through a proxy or NAT that dropped it can stay "open" for
 * minutes without this.
 */
import type { ClientClock } from './types.ts';

export interface PingWatchOptions {
  readonly clock: ClientClock;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly sendPing: () => void;
  /** Called once when a ping went unanswered; the watch is stopped by then. */
  readonly dead: () => void;
}

export class PingWatch {
  private pingTimer: unknown;
  /** Set while a ping waits for any message. */
  private deadline: unknown;

  constructor(private readonly options: PingWatchOptions) {}

  start(): void {
    this.stop();
    this.schedule();
  }

  stop(): void {
    this.options.clock.clearTimeout(this.pingTimer);
    this.options.clock.clearTimeout(this.deadline);
    this.pingTimer = undefined;
    this.deadline = undefined;
  }

  /** A message arrived: the path is alive. */
  heard(): void {
    if (this.deadline === undefined) return;
    this.options.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  private schedule(): void {
    const { clock, intervalMs, timeoutMs } = this.options;
    this.pingTimer = clock.setTimeout(() => {
      this.schedule();
      this.options.sendPing();
      // One deadline at a time: it runs from the first ping nothing has answered yet.
      if (this.deadline !== undefined) return;
      this.deadline = clock.setTimeout(() => {
        this.stop();
        this.options.dead();
      }, timeoutMs);
    }, intervalMs);
  }
}
