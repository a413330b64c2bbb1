/**
 * The human-readable form of Tickwire's log records, for a terminal: one line per event,
 *
 *   14:02:07.311 WARN  binance: still unreachable (12 attempts, next in 15 s)
 *   14:02:09.020 INFO  binance BTC/USDT: history 4000 of 10080 bars
 *   14:02:10.500 ERROR binance BTC/USDT: backfill failed; retrying — HTTP 500 (after 5 attempts)
 *
 * time (local), level, the venue and symbol the event concerns, the message, the error's message after a dash,
 * then the remaining fields as key=value. An error that carries a stack (a bug, not an ordinary network failure:
 * see logger.ts) is followed by its stack, indented. The JSON form (LOG_FORMAT=json) carries every field.
 */

/** Whether logs are written as JSON or as text lines; `auto`: text on a terminal, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The format actually written: `pretty` only when asked for, or `auto` on a terminal. */
export function resolveLogFormat(setting: LogFormat, isTerminal: boolean): 'json' | 'pretty' {
  if (setting === 'auto') return isTerminal ? 'pretty' : 'json';
  return setting;
}

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** ANSI colours of the level word when colour is on. */
const LEVEL_COLOURS: Readonly<Record<number, string>> = {
  10: '\x1b[90m',
  20: '\x1b[90m',
  30: '\x1b[32m',
  40: '\x1b[33m',
  50: '\x1b[31m',
  60: '\x1b[35m',
};
const RESET = '\x1b[0m';

/**
 * Fields shown in the fixed parts of the line, or pino's own: not repeated as key=value. `alert` is the alert
 * whose message is the line's message; `repeat` and `progress` hold counters that the message already states.
 */
const SHOWN_ELSEWHERE = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'name',
  'msg',
  'venue',
  'symbol',
  'err',
  'alert',
  'repeat',
  'progress',
]);

export interface FormatOptions {
  /** Colour the level word (ANSI). */
  readonly colour?: boolean;
}

/** One pino record (the parsed JSON object) as one text line, newline included. */
export function formatLogRecord(
  record: Readonly<Record<string, unknown>>,
  options: FormatOptions = {},
): string {
  const level = typeof record['level'] === 'number' ? record['level'] : 30;
  const name = (LEVEL_NAMES[level] ?? `L${level}`).padEnd(5);
  const levelText = options.colour ? `${LEVEL_COLOURS[level] ?? ''}${name}${RESET}` : name;
  const time = typeof record['time'] === 'number' ? clockTime(record['time']) : '--:--:--.---';

  let line = `${time} ${levelText} `;
  const subject = [record['venue'], record['symbol']].filter((v) => typeof v === 'string').join(' ');
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  if (subject !== '' && !msg.startsWith(subject)) line += `${subject}: `;
  line += msg;

  const err = record['err'];
  const cause = errorMessage(err);
  if (cause !== undefined && cause !== '') line += ` — ${oneLine(cause)}`;
  for (const [key, value] of Object.entries(record)) {
    if (SHOWN_ELSEWHERE.has(key) || value === undefined) continue;
    line += ` ${key}=${fieldValue(value)}`;
  }
  const stack = typeof err === 'object' && err !== null ? (err as { stack?: unknown }).stack : undefined;
  if (typeof stack === 'string') {
    // The first stack line repeats the message already shown.
    const frames = stack.split('\n').slice(1);
    if (frames.length > 0) line += '\n' + frames.map((f) => `    ${f.trim()}`).join('\n');
  }
  return line + '\n';
}

/** Formats one line of pino's JSON output; a line that is not a JSON object passes through unchanged. */
export function formatLogLine(jsonLine: string, options: FormatOptions = {}): string {
  let record: unknown;
  try {
    record = JSON.parse(jsonLine);
  } catch {
    return jsonLine.endsWith('\n') ? jsonLine : jsonLine + '\n';
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return jsonLine;
  return formatLogRecord(record as Record<string, unknown>, options);
}

function clockTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function errorMessage(err: unknown): string | undefined {
  if (err === undefined || err === null) return undefined;
  if (typeof err === 'string') return err;
  if (typeof err === 'object') {
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return JSON.stringify(err);
}

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
