import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs (pino) on stderr, so stdout stays free for command output (`tickwire aggregate`).
 * LOG_LEVEL picks the level; tests pass level "silent".
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    { name: options.name ?? 'tickwire', level: options.level ?? process.env['LOG_LEVEL'] ?? 'info' },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
