import { pino, type DestinationStream, type Logger } from 'pino';
import { TickwireError } from '../domain/errors.ts';
import { formatLogLine, resolveLogFormat, type LogFormat } from './log-format.ts';
import type { LogRing } from './log-ring.ts';

export type { Logger };

/** pino's asynchronous file writer (sonic-boom). */
type AsyncWriter = ReturnType<typeof pino.destination>;

/** Where log lines go: stderr unless a test gives its own. `isTTY` decides the `auto` format. */
export interface LogDestination {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface LoggerOptions {
  readonly level?: string;
  readonly name?: string;
  /** LOG_FORMAT: `auto` (default) writes text lines on a terminal and JSON otherwise. */
  readonly format?: LogFormat;
  /** Default: stderr, so stdout stays free for command output (`tickwire aggregate`). */
  readonly destination?: LogDestination;
  /** Also keeps the warnings and errors here (GET /api/logs), redacted like every line. */
  readonly recent?: RecentLogSink;
}

/** Takes the JSON line of each warning and error (a LogRing, or a thread's way to its process's ring). */
export type RecentLogSink = Pick<LogRing, 'write'>;

/** Fields that hold credentials: their values are logged as [Redacted], at the top level and two levels down. */
const SECRET_FIELDS = [
  'apiKey',
  'api_key',
  'apiSecret',
  'secret',
  'secretKey',
  'passphrase',
  'password',
  'token',
  'accessToken',
  'authorization',
  'Authorization',
  'cookie',
  // Account credentials (issue 12): whole credential objects, the variables they come from, signatures, tokens.
  'credentials',
  'passPhrase',
  'sign',
  'signature',
  'jwt',
  'bearer',
  'AUTH_SECRET',
  'BITGET_API_KEY',
  'BITGET_API_SECRET',
  'BITGET_API_PASSPHRASE',
];
/** HTTP header names of the venues' signed REST requests (Bitget `ACCESS-*`), in either case. */
const SECRET_HEADERS = ['ACCESS-KEY', 'ACCESS-SIGN', 'ACCESS-PASSPHRASE'].flatMap((h) => [
  h,
  h.toLowerCase(),
]);
/** Fields that hold connection URLs: their password, if any, is logged as [Redacted]. */
const URL_FIELDS = ['url', 'redisUrl', 'databaseUrl', 'connectionString', 'DATABASE_URL', 'REDIS_URL'];

export const REDACTED = '[Redacted]';

const anyDepth = (field: string): string[] => [field, `*.${field}`, `*.*.${field}`];
const URL_FIELD_SET = new Set(URL_FIELDS);

/** The password of a URL such as `redis://user:pw@host` replaced; other text as it is. */
export function redactUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@/\s]*@/i, `$1${REDACTED}@`);
}

/** pino's `redact` setting: credential fields censored whole, URL fields only in their password. */
export const REDACTION = {
  paths: [
    ...[...SECRET_FIELDS, ...URL_FIELDS].flatMap(anyDepth),
    ...SECRET_HEADERS.flatMap((h) => anyDepth(`headers["${h}"]`)),
  ],
  censor: (value: unknown, path: string[]): unknown => {
    if (!URL_FIELD_SET.has(path.at(-1) ?? '')) return REDACTED;
    return typeof value === 'string' ? redactUrlPassword(value) : value;
  },
};

/**
 * Tickwire's logs (pino) on stderr: JSON for machines, or one readable line per event on a terminal
 * (log-format.ts). LOG_LEVEL picks the level; tests pass level "silent".
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination;
  const isTerminal = destination ? destination.isTTY === true : process.stderr.isTTY === true;
  const format = resolveLogFormat(options.format ?? 'auto', isTerminal);
  const settings = {
    name: options.name ?? 'tickwire',
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    serializers: { err: serializeError },
    redact: REDACTION,
  };
  let main: DestinationStream;
  let stderrWriter: AsyncWriter | undefined;
  if (format === 'json') {
    main = destination ?? (stderrWriter = pino.destination({ fd: 2, sync: false }));
  } else {
    // Text is for a person watching a terminal: written at once, in order, coloured unless NO_COLOR is set.
    const out = destination ?? pino.destination({ fd: 2, sync: true });
    const colour = destination === undefined && isTerminal && !process.env['NO_COLOR'];
    main = { write: (line: string) => void out.write(formatLogLine(line, { colour })) };
  }
  const ring = options.recent;
  const logger =
    ring === undefined
      ? pino(settings, main)
      : pino(
          settings,
          pino.multistream([
            // The logger's own level decides what is written; every record it lets through goes to the main stream.
            { level: 'trace', stream: main },
            { level: 'warn', stream: { write: (line: string) => ring.write(line) } },
          ]),
        );
  if (stderrWriter !== undefined) asyncWriters.set(streamOf(logger), stderrWriter);
  return logger;
}

/** The asynchronous stderr writer behind each JSON logger's stream, for `afterLogsWritten`. */
const asyncWriters = new WeakMap<object, AsyncWriter>();

/** The stream a logger writes to: its children's too. */
function streamOf(logger: Logger): object {
  return (logger as unknown as Record<symbol, object>)[pino.symbols.streamSym] as object;
}

/** How long `afterLogsWritten` waits: at most `maxMs` in all, and no longer than `stallMs` without a byte written. */
export interface LogWriteWait {
  readonly stallMs: number;
  readonly maxMs: number;
}

/**
 * Calls `then` once every line the logger has taken is written, or sooner when the wait runs out (`wait`); at once
 * for a logger that writes synchronously. A process must wait for this before `process.exit`: pino then writes the
 * lines it still buffers synchronously, but not the chunk an asynchronous write has in flight, which would be lost.
 * A reader that reads (a terminal, docker, journald) takes a few megabytes of lines in milliseconds, and one that
 * has stopped reading shows as a stall.
 */
export function afterLogsWritten(logger: Logger, wait: LogWriteWait, then: () => void): void {
  const writer = asyncWriters.get(streamOf(logger));
  if (writer === undefined) {
    then();
    return;
  }
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(stalled);
    clearTimeout(overall);
    writer.off('drain', finish);
    writer.off('error', finish);
    writer.off('write', progressed);
    then();
  };
  const stalled = setTimeout(finish, wait.stallMs);
  const overall = setTimeout(finish, wait.maxMs);
  const progressed = (): void => void stalled.refresh();
  writer.on('write', progressed);
  writer.once('drain', finish);
  writer.once('error', finish);
  // An empty write makes the writer emit 'drain' once all it holds is written, even when it is idle now.
  writer.write('');
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Error codes of ordinary network failures: worth their message, never a stack trace. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * True for an error that is an expected condition rather than a bug: a TickwireError (raised on purpose, with a
 * catalogue code), a network failure (ECONNREFUSED, ENOTFOUND, …), a timeout or an abort, at any depth of its
 * `cause` chain.
 */
export function isOrdinaryError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    if (e instanceof TickwireError) return true;
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** pino's error serializer, without the stack for ordinary errors: stacks are kept for bugs. */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  if (!isOrdinaryError(err)) return pino.stdSerializers.err(err);
  const code = (err as { code?: unknown }).code;
  return { type: err.name, message: err.message, ...(code === undefined ? {} : { code }) };
}
