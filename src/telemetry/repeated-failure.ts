import type { Logger } from 'pino';

export interface RepeatedFailureOptions {
  readonly logger: Logger;
  /** Fields of every line: what failed (`venue`, `symbol`, …). */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Message of the first failure (and of a failure with a new cause), e.g. "stream unreachable". */
  readonly failing: string;
  /** Message of a summary of the repeats, e.g. "still unreachable". */
  readonly stillFailing: string;
  /** Message logged (info) when it works again after failing, e.g. "stream connected again". */
  readonly recovered?: string;
  readonly level?: 'warn' | 'error';
  /** Wall clock. Default Date.now. */
  readonly now?: () => number;
  /** The first summary comes this long after the first failure; each later one twice as late. Default 10 s. */
  readonly firstSummaryAfterMs?: number;
  /** Longest time between two summaries. Default 5 min. */
  readonly maxSummaryEveryMs?: number;
}

/**
 * Logs a failing operation that is retried (a venue connection, a history load, a poll) without a line per
 * attempt: the first failure with its cause, a failure whose cause differs from the last one's at once, the
 * repeats of an identical failure as a summary with the count ("still unreachable (12 attempts, next in 15 s)")
 * 10 s after the first, then at most every 20 s, 40 s, 80 s… up to every 5 minutes, and the recovery with the
 * number of failed attempts.
 */
export class RepeatedFailure {
  private readonly now: () => number;
  private readonly firstSummaryAfterMs: number;
  private readonly maxSummaryEveryMs: number;
  private failures = 0;
  private firstAt = 0;
  private lastLineAt = 0;
  private summaryGapMs = 0;
  private lastSignature: string | undefined;

  constructor(private readonly options: RepeatedFailureOptions) {
    this.now = options.now ?? Date.now;
    this.firstSummaryAfterMs = options.firstSummaryAfterMs ?? 10_000;
    this.maxSummaryEveryMs = Math.max(this.firstSummaryAfterMs, options.maxSummaryEveryMs ?? 300_000);
  }

  /** Consecutive failed attempts since the last success. */
  get attempts(): number {
    return this.failures;
  }

  /** One more failed attempt; `nextInMs`: when the next attempt is made, when known. */
  failed(err: unknown, nextInMs?: number): void {
    const now = this.now();
    this.failures++;
    const signature = causeSignature(err);
    const { logger, fields, level = 'warn' } = this.options;
    const next = nextInMs === undefined ? undefined : Math.max(0, Math.round(nextInMs));
    const repeat = { attempts: this.failures, ...(next === undefined ? {} : { nextInMs: next }) };
    if (this.failures === 1 || signature !== this.lastSignature) {
      if (this.failures === 1) this.firstAt = now;
      this.lastSignature = signature;
      this.lastLineAt = now;
      this.summaryGapMs = this.firstSummaryAfterMs;
      const attempt = this.failures === 1 ? '' : ` (attempt ${this.failures})`;
      const retry = next === undefined ? '' : `; retrying in ${formatDelay(next)}`;
      logger[level]({ ...fields, err, repeat }, `${this.options.failing}${attempt}${retry}`);
      return;
    }
    if (now - this.lastLineAt < this.summaryGapMs) return;
    this.lastLineAt = now;
    this.summaryGapMs = Math.min(this.maxSummaryEveryMs, this.summaryGapMs * 2);
    const counts = `${this.failures} attempts${next === undefined ? '' : `, next in ${formatDelay(next)}`}`;
    logger[level](
      { ...fields, repeat: { ...repeat, failingForMs: now - this.firstAt, lastError: errorText(err) } },
      `${this.options.stillFailing} (${counts})`,
    );
  }

  /** The operation worked: logs the recovery when it had failed, and starts counting afresh. */
  succeeded(): void {
    if (this.failures === 0) return;
    const failures = this.failures;
    const downMs = this.now() - this.firstAt;
    this.failures = 0;
    this.lastSignature = undefined;
    const { logger, fields, recovered } = this.options;
    if (recovered === undefined) return;
    logger.info(
      { ...fields, repeat: { attempts: failures, failingForMs: downMs } },
      `${recovered} after ${failures} failed attempt${failures === 1 ? '' : 's'} (${formatDelay(downMs)})`,
    );
  }
}

/** "300 ms", "15 s", "4 min". */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/**
 * What makes two failures "the same": the innermost cause's type, code and message with its numbers masked (a
 * URL's timestamps or a port change between attempts without changing what went wrong).
 */
function causeSignature(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5; depth++) {
    const cause = e !== null && typeof e === 'object' ? (e as { cause?: unknown }).cause : undefined;
    if (cause === undefined || cause === null) break;
    e = cause;
  }
  const { name, code } = (e !== null && typeof e === 'object' ? e : {}) as { name?: unknown; code?: unknown };
  return `${String(name)}|${String(code)}|${errorText(e).replace(/\d+/g, '#')}`;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return String(err);
}
