import type { SourceRow } from '../../src/client/types.ts';
import type { AlertJson } from '../../src/protocol/server-messages.ts';

/**
 * The sources panel's picture of the feed: the rows of the last GET /api/websocket/sources, corrected by the
 * `failover` and `source_*` alerts that arrived after that poll. Polling is slow on purpose (the /api/ rate
 * limit), and the alerts make a failover or a dropped venue show at once instead of up to a poll later.
 */

/** The alert kinds that change a source row. */
const SOURCE_KINDS = new Set([
  'failover',
  'failover_failed',
  'source_disconnected',
  'source_stale',
  'source_slow',
  'source_errors',
  'source_recovered',
]);

export function isSourceAlert(alert: Pick<AlertJson, 'kind'>): boolean {
  return SOURCE_KINDS.has(alert.kind);
}

type MutableRow = { -readonly [K in keyof SourceRow]: SourceRow[K] };

function withReason(row: MutableRow, reason: string | undefined): MutableRow {
  if (reason === undefined) delete row.reason;
  else row.reason = reason;
  return row;
}

/** One alert applied to the rows (a new array; rows it does not concern are the same objects). */
export function applySourceAlert(rows: readonly SourceRow[], alert: AlertJson): readonly SourceRow[] {
  if (!isSourceAlert(alert)) return rows;
  const details = alert.details ?? {};
  const concerns = (row: SourceRow): boolean =>
    (alert.symbol === undefined || row.symbol === alert.symbol) &&
    (alert.venue === undefined || row.exchange === alert.venue);
  if (alert.kind === 'failover' || alert.kind === 'failover_failed') {
    const active = alert.kind === 'failover' ? details['to'] : details['active'];
    if (typeof active !== 'string' || alert.symbol === undefined) return rows;
    return rows.map((row) =>
      row.symbol === alert.symbol && row.active !== (row.exchange === active)
        ? { ...row, active: row.exchange === active }
        : row,
    );
  }
  return rows.map((row) => {
    if (!concerns(row)) return row;
    const next: MutableRow = { ...row };
    switch (alert.kind) {
      case 'source_recovered':
        next.connected = true;
        next.healthy = true;
        return withReason(next, undefined);
      case 'source_disconnected':
        next.connected = false;
        next.healthy = false;
        return withReason(next, 'disconnected');
      case 'source_stale':
        next.healthy = false;
        return withReason(next, 'stale');
      case 'source_slow':
        next.healthy = false;
        if (typeof details['latency'] === 'number') next.latency = details['latency'];
        return withReason(next, 'high-latency');
      default:
        next.healthy = false;
        return withReason(next, 'error-rate');
    }
  });
}

/**
 * The alerts that arrived after the poll the rows came from, applied in order (the caller picks them by id, not
 * by time: the viewer's clock and the gateway's need not agree).
 */
export function applySourceAlerts(
  rows: readonly SourceRow[],
  alerts: readonly AlertJson[],
): readonly SourceRow[] {
  let out = rows;
  for (const alert of alerts) out = applySourceAlert(out, alert);
  return out;
}

export interface FailoverTally {
  readonly count: number;
  readonly lastTime: number;
  /** The last switch in words: `okx → binance (stale)`. */
  readonly last: string;
}

/** Failovers per instrument among the alerts the page holds (the gateway's recent ones and every live one). */
export function countFailovers(alerts: readonly AlertJson[]): ReadonlyMap<string, FailoverTally> {
  const tallies = new Map<string, FailoverTally>();
  for (const alert of alerts) {
    if (alert.kind !== 'failover' || alert.symbol === undefined) continue;
    const d = alert.details ?? {};
    const reason = typeof d['reason'] === 'string' ? ` (${d['reason']})` : '';
    const previous = tallies.get(alert.symbol);
    tallies.set(alert.symbol, {
      count: (previous?.count ?? 0) + 1,
      lastTime: alert.time,
      last: `${String(d['from'] ?? '?')} → ${String(d['to'] ?? '?')}${reason}`,
    });
  }
  return tallies;
}

/** The instrument's venues, in configured order. */
export function venuesOf(rows: readonly SourceRow[], symbol: string): string[] {
  return rows.filter((row) => row.symbol === symbol).map((row) => row.exchange);
}

/** The instrument's active venue, or undefined while none is chosen. */
export function activeVenueOf(rows: readonly SourceRow[], symbol: string): string | undefined {
  return rows.find((row) => row.symbol === symbol && row.active)?.exchange;
}
