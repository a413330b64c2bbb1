/**
 * REST polling while the WebSocket cannot connect: every room is refreshed over HTTP in turn, a round at most
 * every `intervalMs`, each request paced by the gateway's RateLimit headers (HttpApi), until the socket connects
 * again and the client stops it.
 */
import { TickwireHttpError } from './http-api.ts';
import type { Room } from './room.ts';
import type { ClientClock } from './types.ts';

export interface PollerOptions {
  readonly clock: ClientClock;
  readonly intervalMs: number;
  /** The rooms to refresh, read at the start of each round. */
  readonly rooms: () => readonly Room[];
  /** After each request: whether it worked, and why not. */
  readonly onResult: (ok: boolean, error?: { readonly code: string; readonly message: string }) => void;
}

export class Poller {
  /** Bumped on each start and stop: a loop of an older generation ends at its next step. */
  private generation = 0;
  private pause: { timer: unknown; resolve: () => void } | undefined;
  running = false;

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop(++this.generation);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.generation++;
    this.wake();
  }

  /** Ends the pause between rounds now (a new view wants its data without waiting a whole interval). */
  wake(): void {
    const pause = this.pause;
    if (pause === undefined) return;
    this.pause = undefined;
    this.options.clock.clearTimeout(pause.timer);
    pause.resolve();
  }

  private async loop(generation: number): Promise<void> {
    const { clock, intervalMs } = this.options;
    while (generation === this.generation) {
      const started = clock.now();
      for (const room of this.options.rooms()) {
        if (generation !== this.generation) return;
        if (!room.pollable) continue;
        try {
          await room.poll();
          if (generation === this.generation) this.options.onResult(true);
        } catch (error) {
          if (generation !== this.generation) return;
          const info =
            error instanceof TickwireHttpError
              ? { code: error.code, message: error.message }
              : { code: 'POLL_FAILED', message: (error as Error).message };
          this.options.onResult(false, info);
        }
      }
      const wait = Math.max(0, started + intervalMs - clock.now());
      if (generation !== this.generation) return;
      await new Promise<void>((resolve) => {
        this.pause = { timer: clock.setTimeout(resolve, wait), resolve };
      });
    }
  }
}
