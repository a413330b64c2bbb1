/**
 * The connection runner's REST-polling fallback (runner.ts): while a venue's socket cannot be kept up, each poll kind
 * of the schedule runs at its own period, at most one of a kind at a time, and every poll is aborted when the socket
 * is healthy again or the runner closes. A kind that keeps failing is logged as one repeated failure.
 */
import { RepeatedFailure } from '../../telemetry/repeated-failure.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import { waitAtMost } from '../../util/wait-at-most.ts';
import type { ConnectionProtocol, PollKind } from './connection-protocol.ts';

/** A poll kind of the fallback, its period and whether it also runs at the switch to polling. */
export interface PollEntry {
  readonly kind: PollKind;
  readonly periodMs: number;
  readonly atSwitch: boolean;
}

export interface RestPollingOptions {
  readonly protocol: Pick<ConnectionProtocol, 'venue' | 'poll'>;
  readonly schedule: readonly PollEntry[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Hears each failed poll (not an aborted one), as a message for the runner's status. */
  readonly onError: (message: string) => void;
}

export class RestPolling {
  /** Polls started, and those that failed (aborted ones not counted). */
  polls = 0;
  errors = 0;
  private timers: Timer[] = [];
  private abort: AbortController | undefined;
  private readonly inFlight = new Map<PollKind, Promise<void>>();
  private readonly failures = new Map<PollKind, RepeatedFailure>();

  constructor(private readonly options: RestPollingOptions) {
    const { protocol, schedule, clock, logger } = options;
    for (const { kind } of schedule)
      this.failures.set(
        kind,
        new RepeatedFailure({
          logger,
          now: () => clock.now(),
          fields: { venue: protocol.venue, kind },
          failing: 'REST poll failed',
          stillFailing: 'REST poll still failing',
          recovered: 'REST poll answers again',
        }),
      );
  }

  /** Runs the kinds marked `atSwitch` now and every kind at its period until `stop`. */
  start(): void {
    const { schedule, clock } = this.options;
    this.abort = new AbortController();
    for (const { kind, atSwitch } of schedule) if (atSwitch) this.run(kind);
    for (const { kind, periodMs } of schedule)
      this.timers.push(clock.setInterval(() => this.run(kind), periodMs));
  }

  /** Clears the timers and aborts the polls in flight. */
  stop(): void {
    for (const t of this.timers) this.options.clock.clearTimer(t);
    this.timers = [];
    this.abort?.abort();
    this.abort = undefined;
  }

  /** Resolves when no poll is in flight, or after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    await waitAtMost(Promise.all(this.inFlight.values()), timeoutMs, this.options.clock);
  }

  private run(kind: PollKind): void {
    const { protocol, schedule, onError } = this.options;
    const signal = this.abort?.signal;
    if (protocol.poll === undefined || signal === undefined || this.inFlight.has(kind)) return;
    this.polls++;
    const entry = schedule.find((e) => e.kind === kind);
    const failures = this.failures.get(kind);
    const running = protocol
      .poll(kind, signal)
      .then(
        () => failures?.succeeded(),
        (err: unknown) => {
          if (signal.aborted) return;
          this.errors++;
          onError(`poll ${kind} failed: ${(err as Error).message}`);
          failures?.failed(err, entry?.periodMs);
        },
      )
      .finally(() => this.inFlight.delete(kind));
    this.inFlight.set(kind, running);
  }
}
