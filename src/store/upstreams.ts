import { VENUES, type VenueId } from '../domain/instrument.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SqlClient, SqlQueryable } from './sql-client.ts';

/**
 * Where a store's history came from. A database keeps, per venue, the endpoints its rows were filled from (table
 * `upstreams`, migrations.ts). A process that writes history first adopts its own endpoints: a venue whose rows
 * came from other endpoints (the exchange simulator, a test venue, a mirror) or from endpoints never recorded (a
 * store written before the record existed) has those rows taken out of `candles` and `trades`, so that they are
 * never served as this upstream's history, and the venue's history is loaded again from the new upstream at
 * start. By default the rows are kept aside in `candles_archive` / `trades_archive`, tagged with the upstream
 * they came from; `discard` deletes them instead (the demo's own store, whose simulated market is new each run).
 */

/** The endpoints of one venue. */
export interface Upstream {
  readonly restUrl: string;
  readonly wsUrl: string;
}

export type Upstreams = Readonly<Record<VenueId, Upstream>>;

/** What to do with rows filled from another upstream. */
export type MismatchedHistory = 'archive' | 'discard';

/** Rows of one venue taken out of the served tables because they came from another upstream. */
export interface UpstreamChange {
  /** The venue whose rows moved ('' for rows that name no venue). */
  readonly venue: string;
  /** Where the rows came from; null when it was never recorded. */
  readonly previous: Upstream | null;
  /** Where this run gets the venue's data; null for rows that name no venue. */
  readonly current: Upstream | null;
  readonly candles: number;
  readonly trades: number;
  readonly action: MismatchedHistory;
}

/** Key of the advisory lock that makes two adopting processes take turns; any constant no other lock uses. */
const ADOPT_LOCK_KEY = 7_316_421_905_119;

const CANDLE_COLUMNS = `venue, symbol, "interval", "time", open, high, low, close, volume, quote_volume,
  taker_buy_volume, taker_buy_quote_volume, trades, state, sources, backfilled, updated_at, revision`;
const TRADE_COLUMNS = `venue, symbol, id, "time", price, size, side, fills, received_at`;

/**
 * Makes `current` the recorded upstream of every venue, first taking out of `candles` and `trades` the rows of
 * each venue whose recorded upstream differs or is unknown (see the top of this file). Returns what moved; logs a
 * line per venue naming the old and the new upstream (a warning when archived). One transaction: a failure moves
 * nothing.
 */
export async function adoptUpstreams(
  client: SqlClient,
  current: Upstreams,
  options: { readonly mismatched: MismatchedHistory; readonly logger: Logger },
): Promise<UpstreamChange[]> {
  const changes = await client.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${ADOPT_LOCK_KEY})`);
    const { rows } = await tx.query<{ venue: string; rest_url: string; ws_url: string }>(
      'SELECT venue, rest_url, ws_url FROM upstreams',
    );
    const recorded = new Map(rows.map((r) => [r.venue, { restUrl: r.rest_url, wsUrl: r.ws_url }]));
    const out: UpstreamChange[] = [];
    // '' holds rows written without a source: nothing says where they came from.
    for (const venue of [...VENUES, '']) {
      const now = venue === '' ? null : current[venue as VenueId];
      const before = recorded.get(venue) ?? null;
      if (now !== null && before !== null && sameUpstream(before, now)) continue;
      const change = await takeOut(tx, venue, before, options.mismatched);
      if (change.candles > 0 || change.trades > 0) out.push({ ...change, current: now });
    }
    for (const venue of VENUES) {
      const { restUrl, wsUrl } = current[venue];
      await tx.query(
        `INSERT INTO upstreams (venue, rest_url, ws_url) VALUES ($1, $2, $3)
         ON CONFLICT (venue) DO UPDATE SET rest_url = EXCLUDED.rest_url, ws_url = EXCLUDED.ws_url,
           recorded_at = now()
         WHERE (upstreams.rest_url, upstreams.ws_url) IS DISTINCT FROM (EXCLUDED.rest_url, EXCLUDED.ws_url)`,
        [venue, restUrl, wsUrl],
      );
    }
    return out;
  });
  for (const c of changes) {
    const archived = options.mismatched === 'archive';
    const where = archived ? 'moved to candles_archive/trades_archive' : 'deleted';
    // Archiving is news to an operator; discarding is what the demo expects at every start.
    options.logger[archived ? 'warn' : 'info'](
      {
        venue: c.venue,
        previous: c.previous ?? 'unknown',
        current: c.current,
        candles: c.candles,
        trades: c.trades,
      },
      `store: ${c.venue || 'unattributed'} history was filled from ${describe(c.previous)}, ` +
        `not from this run's ${c.current ? describe(c.current) : 'venues'}: ` +
        `its ${c.candles} bars and ${c.trades} trades were ${where} and are not served; ` +
        'history is loaded from the venue again',
    );
  }
  return changes;
}

/** Moves (or deletes) the rows of `venue` out of the served tables. */
async function takeOut(
  tx: SqlQueryable,
  venue: string,
  previous: Upstream | null,
  mismatched: MismatchedHistory,
): Promise<Omit<UpstreamChange, 'current'>> {
  const counted = async (table: string, columns: string): Promise<number> => {
    // The primary keys start with venue: probing for one row is cheap where there is nothing to move.
    const any = await tx.query(`SELECT 1 FROM ${table} WHERE venue = $1 LIMIT 1`, [venue]);
    if (any.rows.length === 0) return 0;
    const { rows } =
      mismatched === 'archive'
        ? await tx.query<{ n: number }>(
            `WITH moved AS (
               INSERT INTO ${table}_archive (${columns}, upstream_rest_url, upstream_ws_url)
               SELECT ${columns}, $2::text, $3::text FROM ${table} WHERE venue = $1
               RETURNING 1)
             SELECT count(*)::float8 AS n FROM moved`,
            [venue, previous?.restUrl ?? null, previous?.wsUrl ?? null],
          )
        : await tx.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${table} WHERE venue = $1`, [
            venue,
          ]);
    await tx.query(`DELETE FROM ${table} WHERE venue = $1`, [venue]);
    return rows[0]?.n ?? 0;
  };
  return {
    venue,
    previous,
    candles: await counted('candles', CANDLE_COLUMNS),
    trades: await counted('trades', TRADE_COLUMNS),
    action: mismatched,
  };
}

function sameUpstream(a: Upstream, b: Upstream): boolean {
  return a.restUrl === b.restUrl && a.wsUrl === b.wsUrl;
}

function describe(u: Upstream | null): string {
  return u === null ? 'an unrecorded upstream (an earlier Tickwire version)' : `${u.restUrl} + ${u.wsUrl}`;
}
