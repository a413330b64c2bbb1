import type { VenueId } from './instrument.ts';

/**
 * System alerts: what an operator or a trader must know about the feed itself (a venue dropped, a failover, a
 * rebuilt book), as opposed to market data. The ingest side raises them, logs them and publishes them on the bus;
 * gateways relay them on the `alerts` channel (docs/PROTOCOL.md, "Alerts").
 */

/** Severities, least to most severe. */
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * Kinds of alert. The list grows by appending (never renaming): add the kind here and to the table in
 * docs/PROTOCOL.md. Clients must ignore kinds they do not know.
 */
export const ALERT_KINDS = [
  /** A source (venue) of an instrument lost its connection. */
  'source_disconnected',
  /** A connected source stopped delivering data for an instrument (no update within the staleness limit). */
  'source_stale',
  /** A source's latency passed the limit (`maxSourceLatency`). */
  'source_slow',
  /** A source that was disconnected, stale or slow is healthy again. */
  'source_recovered',
  /** The active source of an instrument changed (failover, or back to the primary); details: from, to, reason. */
  'failover',
  /** The active source became unhealthy and no healthy alternative exists. */
  'failover_failed',
  /** An order book failed its sequence or checksum rule and is being rebuilt. */
  'book_resync',
  /** Missed trades after a gap were fetched from the venue's history and merged. */
  'backfill_done',
  /** A backfill could not complete; candles of the range may be incomplete. */
  'backfill_failed',
  /** The Redis bus or lock is unreachable. */
  'redis_down',
  /** The Redis bus or lock is reachable again. */
  'redis_recovered',
  /** Candle writes to the database are failing; they are buffered and retried. */
  'storage_down',
  /** The database accepts writes again; the buffered bars were written. */
  'storage_recovered',
  /** The write buffer overflowed during a database outage: the oldest waiting bars were dropped. */
  'storage_overflow',
  /** An `ingest` process took the lock and became the active one (start, or takeover from a standby). */
  'ingest_active',
  /** A source passed the error limit (`failover.maxErrors` within `errorWindowMs`): malformed frames, refusals. */
  'source_errors',
  /** An account's login or credentials were refused by its venue; retried with backoff. Account alert. */
  'account_login_failed',
  /** An account's private stream failed repeatedly; its state is polled over REST. Account alert. */
  'account_polling',
  /** An account's private stream is live again after polling or a login failure. Account alert. */
  'account_stream_recovered',
  /** The venue rejected one of the account's orders. Account alert. */
  'order_rejected',
  /** A position of the account was closed. Account alert. */
  'position_closed',
  /** A position of the account was liquidated. Account alert. */
  'position_liquidated',
  /** A position's liquidation price came within the configured distance of the mark price. Account alert. */
  'liquidation_near',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Flat details of an alert: JSON scalars only, so that every client can show them as key/value pairs. */
export type AlertDetails = Readonly<Record<string, string | number | boolean | null>>;

export interface Alert {
  /** Unique id (publishers use a UUID); lets a client and the gateway recognize a repeated delivery. */
  readonly id: string;
  /** When the condition was observed, ms since the epoch (UTC). */
  readonly time: number;
  readonly severity: AlertSeverity;
  readonly kind: AlertKind;
  /** The venue concerned, when the alert is about one venue. */
  readonly venue?: VenueId;
  /** The instrument concerned (canonical BASE/QUOTE), when the alert is about one instrument. */
  readonly symbol?: string;
  /**
   * The account concerned (its configured id), for account alerts: they reach only connections authenticated
   * for that account. Absent on feed alerts, which every subscriber of the channel receives.
   */
  readonly account?: string;
  /** One line for humans. */
  readonly message: string;
  readonly details?: AlertDetails;
}

/** Longest `message`, in characters, and most `details` keys an alert may carry. */
export const MAX_ALERT_MESSAGE_LENGTH = 1000;
export const MAX_ALERT_DETAILS = 32;

export function isAlertSeverity(value: unknown): value is AlertSeverity {
  return typeof value === 'string' && (ALERT_SEVERITIES as readonly string[]).includes(value);
}

export function isAlertKind(value: unknown): value is AlertKind {
  return typeof value === 'string' && (ALERT_KINDS as readonly string[]).includes(value);
}

/** 0 for info, 1 for warning, 2 for critical: `severityRank(a) >= severityRank(min)` is "at least min". */
export function severityRank(severity: AlertSeverity): number {
  return ALERT_SEVERITIES.indexOf(severity);
}

/** The log level an alert is logged at by the side that raises it (pino level names). */
export const ALERT_LOG_LEVEL: Readonly<Record<AlertSeverity, 'info' | 'warn' | 'error'>> = {
  info: 'info',
  warning: 'warn',
  critical: 'error',
};

/** What a publisher fills in; `newAlert` adds the id and, when missing, the time. */
export type AlertInput = Omit<Alert, 'id' | 'time'> & { readonly time?: number };

/** A new alert with a fresh UUID id; `time` defaults to `now()`. */
export function newAlert(input: AlertInput, now: () => number = Date.now): Alert {
  return { id: crypto.randomUUID(), ...input, time: input.time ?? now() };
}
