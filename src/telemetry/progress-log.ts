import type { Logger } from 'pino';

export interface ProgressLogOptions {
  readonly logger: Logger;
  /** Fields of every line: what is loading (`venue`, `symbol`). */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Bars expected in all; the lines say "loaded N of M bars". */
  readonly expected: number;
  /** Wall clock. Default Date.now. */
  readonly now?: () => number;
  /** At most one line this often. Default 3 s. */
  readonly everyMs?: number;
  /** Log the start ("loading history: up to M bars"); false for a retry of a load already announced. */
  readonly announce?: boolean;
}

/**
 * The progress of a long load (a venue's history at start) in a handful of lines: one when it starts, then at
 * most one every few seconds ("loaded 4000 of 10080 bars"); the caller logs the end.
 */
export class ProgressLog {
  private readonly now: () => number;
  private readonly everyMs: number;
  private lastLineAt: number;
  private done = 0;

  constructor(private readonly options: ProgressLogOptions) {
    this.now = options.now ?? Date.now;
    this.everyMs = options.everyMs ?? 3000;
    this.lastLineAt = this.now();
    if (options.announce === false) return;
    options.logger.info(
      { ...options.fields, progress: { loaded: 0, expected: options.expected } },
      `loading history: up to ${options.expected} bars`,
    );
  }

  /** Bars loaded so far. */
  get loaded(): number {
    return this.done;
  }

  /** `loaded` bars so far (never goes back); logs a line when the last one is `everyMs` old. */
  update(loaded: number): void {
    if (loaded <= this.done) return;
    this.done = loaded;
    const now = this.now();
    if (now - this.lastLineAt < this.everyMs) return;
    this.lastLineAt = now;
    const { expected } = this.options;
    this.options.logger.info(
      { ...this.options.fields, progress: { loaded, expected } },
      `loaded ${loaded} of ${expected} bars`,
    );
  }
}
