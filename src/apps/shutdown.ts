import { afterLogsWritten, type Logger, type LogWriteWait } from '../telemetry/logger.ts';
import { systemClock, type Clock } from '../util/clock.ts';

/** The signals that stop a role. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/** Exit code of a second signal, as a shell reports a process killed by it (128 + its number). */
const SIGNAL_EXIT_CODES: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Exit code of a stop that outlived its time. */
export const SHUTDOWN_TIMED_OUT_EXIT_CODE = 1;

/**
 * How long an exit that cuts the stop short waits for the log lines already taken to be written: while stderr's
 * reader takes them (a second without progress ends the wait), and at most five seconds in all.
 */
const EXIT_LOG_WAIT: LogWriteWait = { stallMs: 1000, maxMs: 5000 };

export interface ShutdownOptions {
  /** From the first signal, the time the stop may take before the process exits anyway (`shutdownTimeoutMs`). */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Where signals come from (default: this process). */
  readonly signals?: Pick<NodeJS.Process, 'once' | 'off'>;
  /** Ends the process (default: process.exit). */
  readonly exit?: (code: number) => void;
  readonly clock?: Clock;
}

/**
 * Resolves on the first SIGINT or SIGTERM, and from then bounds the stop that follows: a second signal exits at
 * once (130 or 143), and a stop still under way after `timeoutMs` (a database that does not answer the last
 * writes, a handle left open) exits with code 1; either exit first lets the log lines already taken be written
 * (EXIT_LOG_WAIT). The deadline does not keep the process alive: a stop that ends in time ends the
 * process the normal way.
 */
export function untilStopSignal(o: ShutdownOptions): Promise<StopSignal> {
  const signals = o.signals ?? process;
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const clock = o.clock ?? systemClock;
  return new Promise((resolve) => {
    const onFirst = (signal: StopSignal): void => {
      for (const s of STOP_SIGNALS) signals.off(s, onFirst);
      o.logger.info({ signal, timeoutMs: o.timeoutMs }, 'stopping');
      for (const s of STOP_SIGNALS)
        signals.once(s, () => {
          o.logger.warn({ signal: s }, 'second signal: exiting at once');
          afterLogsWritten(o.logger, EXIT_LOG_WAIT, () => exit(SIGNAL_EXIT_CODES[s]));
        });
      clock
        .setTimeout(() => {
          o.logger.error({ timeoutMs: o.timeoutMs }, 'the stop took longer than shutdownTimeoutMs; exiting');
          afterLogsWritten(o.logger, EXIT_LOG_WAIT, () => exit(SHUTDOWN_TIMED_OUT_EXIT_CODE));
        }, o.timeoutMs)
        .unref();
      resolve(signal);
    };
    for (const s of STOP_SIGNALS) signals.once(s, onFirst);
  });
}
