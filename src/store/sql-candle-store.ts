import { SqlAccountStore } from './account-sql-store.ts';
import type { AccountStore } from './account-store.ts';
import type { CandleUpdate } from '../domain/candle.ts';
import { toPlainString } from '../domain/decimal.ts';
import { isVenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import type { StoredCandle } from './candle-store.ts';
import {
  candleOfFields,
  candleRowKey,
  checkStorable,
  encodeCandleRow,
  type CandleRow,
  type CandleRowStore,
} from './candle-row.ts';
import type { Logger } from '../telemetry/logger.ts';
import { mainThreadTurns, type TurnBudget } from '../util/turn-budget.ts';
import type { SqlClient, SqlQueryable } from './sql-client.ts';
import { checkStorableTrade, type TradeStore } from './trade-store.ts';
import { adoptUpstreams, type MismatchedHistory, type UpstreamChange, type Upstreams } from './upstreams.ts';

/**
 * CandleStore (and TradeStore) over SQL, on PostgreSQL or PGlite, with the schema of migrations.ts.
 *
 * A bar is one row per venue that built it. `write` upserts; a row whose content does not change is left alone
 * (its revision too), so writing the same updates again changes nothing. `recent` reads the composite stream:
 * for each time the row written last (highest revision), so after a failover the newer venue's bar wins.
 * Decimals travel as exact text both ways; times are timestamptz in the database and ms in JavaScript.
 */

/**
 * Bars decoded in one task of the main thread's turn budget (src/util/turn-budget.ts). Decoding is exact decimal
 * parsing (BigInt): 5,000 bars at once took 17–37 ms of the server's thread on a loaded machine, 100 take about a
 * millisecond. Every read's slices share the budget with the others' and with the venues' frames, so a burst of
 * reads answered together is decoded over several turns with fan-out between them, not each read's first slice
 * in the same turn. (Decoding in the database's worker thread would not help: copying the decoded bars across
 * threads costs more than decoding them.)
 */
const DECODE_SLICE = 100;

/** PostgreSQL's wire protocol counts a statement's parameters in 16 bits. */
const MAX_PARAMS = 65_535;

const CANDLE_COLUMNS = [
  'venue',
  'symbol',
  '"interval"',
  '"time"',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quote_volume',
  'taker_buy_volume',
  'taker_buy_quote_volume',
  'trades',
  'state',
  'sources',
  'backfilled',
] as const;

const TRADE_COLUMNS = [
  'venue',
  'symbol',
  'id',
  '"time"',
  'price',
  'size',
  'side',
  'fills',
  'received_at',
] as const;
const TRADE_CASTS = [
  '::text',
  '::text',
  '::text',
  'time',
  '::numeric',
  '::numeric',
  '::text',
  '::integer',
  'time',
] as const;

/** Exact conversion of ms since the epoch (sent as int8 text) to timestamptz. */
function timeParam(n: number): string {
  return `('epoch'::timestamptz + $${n}::bigint * interval '1 millisecond')`;
}

/** The VALUES rows of a multi-row insert of `rows` rows with these casts. */
function valuesList(rows: number, casts: readonly string[]): string {
  const out: string[] = [];
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const cells = casts.map((cast) => {
      n++;
      return cast === 'time' ? timeParam(n) : `$${n}${cast}`;
    });
    out.push(`(${cells.join(', ')})`);
  }
  return out.join(',\n');
}

const UPDATED_COLUMNS = CANDLE_COLUMNS.slice(4);

const UPSERT_TAIL = `
ON CONFLICT (venue, symbol, "interval", "time") DO UPDATE SET
  ${UPDATED_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(',\n  ')},
  updated_at = now(),
  revision = nextval('candles_revision_seq')
WHERE (${UPDATED_COLUMNS.map((c) => `candles.${c}`).join(', ')})
  IS DISTINCT FROM (${UPDATED_COLUMNS.map((c) => `EXCLUDED.${c}`).join(', ')})`;

/**
 * Bars per upsert statement; a larger write runs as several in one transaction. The rows travel as one text
 * parameter (CandleRow lines), which the database splits itself: the statement's text and parameters are the same
 * whatever the number of rows, so the database parses and plans a short statement instead of a VALUES list of 16
 * parameters per row, and the driver sends one string instead of encoding sixteen arrays.
 */
const CANDLE_CHUNK = 5000;

/**
 * Upserts the CandleRows given as `$1`, one per line, in line order (a later row gets the higher revision).
 */
const UPSERT_CANDLES = `
INSERT INTO candles (${CANDLE_COLUMNS.join(', ')})
SELECT f[1], f[2], f[3], 'epoch'::timestamptz + f[4]::bigint * interval '1 millisecond', f[5]::numeric,
  f[6]::numeric, f[7]::numeric, f[8]::numeric, f[9]::numeric, f[10]::numeric, f[11]::numeric, f[12]::numeric,
  f[13]::bigint, f[14], string_to_array(f[16], ' '), f[15] = 't'
FROM unnest(string_to_array($1::text, E'\\n')) WITH ORDINALITY AS r(line, n)
  CROSS JOIN LATERAL string_to_array(r.line, ',') AS fields(f)
ORDER BY n${UPSERT_TAIL}`;

/**
 * The newest bars of a series (`$1` symbol, `$2` interval, `$3` how many; the condition `%END%` adds), for each
 * time the row written last, packed into one text value: a line per bar, oldest first, of
 * `time ms,open,high,low,close,volume,quote_volume,taker_buy_volume,taker_buy_quote_volume,trades,backfilled,
 * sources` (sources space-separated, last, as only they could hold a comma). One value instead of a row per bar
 * because a driver's per-row, per-field decoding is most of a read's cost: 1,000 bars took 60–76 ms in PGlite as
 * rows and 6 ms packed. Numbers travel as PostgreSQL's exact text of numeric and bigint.
 */
const SELECT_RECENT_PACKED = `
SELECT string_agg(
  concat_ws(',', (extract(epoch FROM "time") * 1000)::bigint, open, high, low, close, volume, quote_volume,
    taker_buy_volume, taker_buy_quote_volume, trades, backfilled, array_to_string(sources, ' ')),
  E'\\n' ORDER BY "time") AS bars
FROM (
  SELECT DISTINCT ON ("time") "time", open, high, low, close, volume, quote_volume, taker_buy_volume,
    taker_buy_quote_volume, trades, backfilled, sources
  FROM candles
  WHERE symbol = $1 AND "interval" = $2%END%
  ORDER BY "time" DESC, revision DESC
  LIMIT $3
) AS newest`;

export class SqlCandleStore implements CandleRowStore, TradeStore {
  private readonly tradeChunk = Math.floor(MAX_PARAMS / TRADE_COLUMNS.length);
  private closed: Promise<void> | undefined;
  /** The last `write` call's work; the next call runs after it (see `write`). */
  private writing: Promise<void> = Promise.resolve();

  /**
   * `client` must hold the schema of migrations.ts; the store closes it on `close()`. `turns`: the budget its
   * decoding and encoding of bars share (default the main thread's).
   */
  constructor(
    private readonly client: SqlClient,
    private readonly turns: TurnBudget = mainThreadTurns,
  ) {}

  private accountStore: SqlAccountStore | undefined;

  /**
   * The account history (fills, equity) in the same database: the embedded database has one opener per
   * directory, so the account side shares this store's connection, which this store still closes.
   */
  accounts(): AccountStore {
    return (this.accountStore ??= new SqlAccountStore(this.client));
  }

  /**
   * Upserts `updates`. Updates of the same row within the call are coalesced, the last one winning, as one
   * statement cannot update a row twice; rows go to the database in the order of their last update, so a later
   * update gets the higher revision. A call larger than one statement runs in one transaction. Calls run one
   * after the other, in call order: a call's rows are encoded over several turns of the event loop (encodeRows),
   * and a later, smaller call must not overtake it.
   */
  async write(updates: readonly CandleUpdate[]): Promise<void> {
    updates.forEach(checkStorable);
    return this.inTurn(async () => this.upsert(await encodeRows(updates, this.turns, this)));
  }

  /** Upserts CandleRows (the write buffer's form of bars) as `write` upserts their updates, in the same order. */
  writeRows(rows: readonly CandleRow[]): Promise<void> {
    return this.inTurn(() => this.upsert(rows));
  }

  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(`limit must be a whole number >= 0, got ${String(limit)}`);
    }
    if (end !== undefined && !Number.isFinite(end))
      throw new RangeError(`end must be finite, got ${String(end)}`);
    if (limit === 0) return [];
    const params: unknown[] = [symbol, interval, limit];
    let endCondition = '';
    if (end !== undefined) {
      // Bar times are whole ms, so time < end holds exactly when time < ceil(end).
      params.push(String(Math.ceil(end)));
      endCondition = ` AND "time" < ${timeParam(4)}`;
    }
    const { rows } = await this.client.query<{ bars: string | null }>(
      SELECT_RECENT_PACKED.replace('%END%', endCondition),
      params,
    );
    const packed = rows[0]?.bars;
    if (packed === null || packed === undefined) return [];
    const lines = packed.split('\n');
    const bars: StoredCandle[] = [];
    await this.turns.inSlices(this, lines.length, DECODE_SLICE, (start, end) => {
      for (let i = start; i < end; i++) bars.push(toStored(lines[i] as string));
    });
    return bars;
  }

  /** Inserts `trades`; one already stored (same venue, symbol, id and time) is skipped. */
  async writeTrades(trades: readonly Trade[]): Promise<void> {
    trades.forEach(checkStorableTrade);
    await this.inChunks(trades, this.tradeChunk, (tx, chunk) =>
      tx.query(
        `INSERT INTO trades (${TRADE_COLUMNS.join(', ')}) VALUES\n${valuesList(chunk.length, TRADE_CASTS)}
ON CONFLICT (venue, symbol, id, "time") DO NOTHING`,
        chunk.flatMap(tradeParams),
      ),
    );
  }

  /**
   * Records `current` as the upstream of every venue; rows of a venue filled from another upstream (or an
   * unrecorded one) are archived or discarded first, so they are never served. See upstreams.ts.
   */
  adoptUpstreams(
    current: Upstreams,
    options: { readonly mismatched: MismatchedHistory; readonly logger: Logger },
  ): Promise<UpstreamChange[]> {
    return adoptUpstreams(this.client, current, options);
  }

  /** `write` resolves once its transaction has committed: nothing is ever waiting. */
  async flushed(): Promise<void> {}

  /** Closes the client; later calls wait for the first (a second pool.end() would throw). */
  close(): Promise<void> {
    this.closed ??= this.client.close();
    return this.closed;
  }

  /** Runs `write` after every write called before it. */
  private inTurn(write: () => Promise<void>): Promise<void> {
    const written = this.writing.then(write);
    this.writing = written.catch(() => undefined);
    return written;
  }

  private upsert(rows: readonly CandleRow[]): Promise<void> {
    const byKey = new Map<string, CandleRow>();
    for (const row of rows) {
      const key = candleRowKey(row);
      byKey.delete(key);
      byKey.set(key, row);
    }
    return this.inChunks([...byKey.values()], CANDLE_CHUNK, (tx, chunk) =>
      tx.query(UPSERT_CANDLES, [chunk.join('\n')]),
    );
  }

  private async inChunks<T>(
    items: readonly T[],
    size: number,
    run: (tx: SqlQueryable, chunk: readonly T[]) => Promise<unknown>,
  ): Promise<void> {
    if (items.length === 0) return;
    if (items.length <= size) {
      await run(this.client, items);
      return;
    }
    await this.client.transaction(async (tx) => {
      for (let i = 0; i < items.length; i += size) await run(tx, items.slice(i, i + size));
    });
  }
}

/**
 * Rows encoded in one task of the turn budget. A batch of the write buffer is 1,000 bars, eight exact decimals
 * each printed as text: built in one go, it held the server's thread for tens of ms while history loaded at
 * start-up (docs/PERFORMANCE.md, "Start-up stalls").
 */
const ENCODE_SLICE = 250;

/** `updates` as CandleRows, encoded under `turns`. */
async function encodeRows(
  updates: readonly CandleUpdate[],
  turns: TurnBudget,
  owner: object,
): Promise<CandleRow[]> {
  const rows = new Array<CandleRow>(updates.length);
  await turns.inSlices(owner, updates.length, ENCODE_SLICE, (start, end) => {
    for (let i = start; i < end; i++) rows[i] = encodeCandleRow(updates[i] as CandleUpdate);
  });
  return rows;
}

function tradeParams(t: Trade): unknown[] {
  return [
    t.venue,
    t.symbol,
    t.id,
    String(t.time),
    toPlainString(t.price),
    toPlainString(t.size),
    t.side,
    String(t.fills),
    String(t.receivedAt),
  ];
}

/** A bar from its line of SELECT_RECENT_PACKED. */
function toStored(line: string): StoredCandle {
  const f = line.split(',');
  if (f.length < 12)
    throw new Error(`unreadable bar from the database: ${JSON.stringify(line.slice(0, 80))}`);
  const sources = f.slice(11).join(',').split(' ').filter(isVenueId);
  return { bar: candleOfFields(f, 0), sources, backfilled: f[10] === 't' };
}
