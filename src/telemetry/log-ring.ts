/**
 * The recent warnings and errors of a process, kept in memory for GET /api/logs (troubleshooting without access
 * to the log files). The logger writes every record of level warn and above here too, after redaction, as the
 * JSON line it writes to its destination; the ring keeps the newest `size` of them.
 */

/** pino's level numbers by name. */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LogLevelName = keyof typeof LEVELS;

/** One kept record: level and time, the message, and every other field as logged. */
export interface RecentLogEntry {
  readonly level: LogLevelName;
  /** ms since the epoch (UTC). */
  readonly time: number;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export const DEFAULT_LOG_RING_SIZE = 500;

export function isLogLevelName(value: string): value is LogLevelName {
  return Object.hasOwn(LEVELS, value);
}

/** Fields of a pino record that the entry shows on its own or that are the same on every line. */
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

export class LogRing {
  /** The lowest level kept. */
  readonly minLevel = LEVELS.warn;
  private readonly entries: (RecentLogEntry | undefined)[];
  /** Where the next entry goes. */
  private next = 0;
  private count = 0;

  constructor(readonly size: number = DEFAULT_LOG_RING_SIZE) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`LogRing: size must be a non-negative integer, got ${size}`);
    }
    this.entries = new Array<RecentLogEntry | undefined>(size);
  }

  /** A pino destination: takes one JSON line per record; lines below `minLevel` or not JSON are ignored. */
  write(line: string): void {
    if (this.size === 0) return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const level = typeof record['level'] === 'number' ? record['level'] : 0;
    if (level < this.minLevel) return;
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) if (!OWN_FIELDS.has(key)) fields[key] = value;
    this.entries[this.next] = {
      level: levelName(level),
      time: typeof record['time'] === 'number' ? record['time'] : 0,
      msg: typeof record['msg'] === 'string' ? record['msg'] : '',
      fields,
    };
    this.next = (this.next + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  /** The kept entries at `minLevel` or above (default: all kept), oldest first. */
  recent(minLevel: LogLevelName = 'warn'): RecentLogEntry[] {
    const out: RecentLogEntry[] = [];
    const floor = LEVELS[minLevel];
    for (let i = 0; i < this.count; i++) {
      const entry = this.entries[(this.next - this.count + i + this.size) % this.size];
      if (entry !== undefined && LEVELS[entry.level] >= floor) out.push(entry);
    }
    return out;
  }
}

function levelName(level: number): LogLevelName {
  let name: LogLevelName = 'trace';
  for (const [n, value] of Object.entries(LEVELS) as [LogLevelName, number][]) if (level >= value) name = n;
  return name;
}
