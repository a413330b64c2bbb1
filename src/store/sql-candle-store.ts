import { SqlAccountStore } from './account-sql-store.ts';
import type { AccountStore } from './account-store.ts';
import type { Candle, CandleUpdate } from '../domain/candle.ts';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import { isVenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';
import { checkStorable, rowKey, rowVenue } from './candle-row.ts';
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
 * Bars per upsert statement; a larger write runs as several in one transaction. The rows travel as one array
 * per column, so the statement's text and parameters are the same whatever the number of rows: the database
 * parses and plans a short statement instead of a VALUES list of 16 parameters per row (2,240 for a checkpoint
 * of 140 live bars), and no SQL text is built per write.
 */
const CANDLE_CHUNK = 5000;

/**
 * Upserts the rows given as column arrays (candleColumns), in array order (a later row gets the higher
 * revision). `time` is ms since the epoch; `sources` the venues joined by spaces (a venue id holds none).
 */
const UPSERT_CANDLES = `
INSERT INTO candles (${CANDLE_COLUMNS.join(', ')})
SELECT venue, symbol, "interval", 'epoch'::timestamptz + ms * interval '1 millisecond', open, high, low, close,
  volume, quote_volume, taker_buy_volume, taker_buy_quote_volume, trades, state, string_to_array(sources, ' '),
  backfilled
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::numeric[], $6::numeric[], $7::numeric[],
  $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[], $12::numeric[], $13::bigint[], $14::text[],
  $15::text[], $16::boolean[]) WITH ORDINALITY
  AS r(venue, symbol, "interval", ms, open, high, low, close, volume, quote_volume, taker_buy_volume,
    taker_buy_quote_volume, trades, state, sources, backfilled, n)
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

export class SqlCandleStore implements CandleStore, TradeStore {
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
   * update gets the higher revision. A call larger than one statement's parameters runs in one transaction.
   * Calls run one after the other, in call order: a call's parameters are built over several turns of the event
   * loop (candleColumns), and a later, smaller call must not overtake it.
   */
  async write(updates: readonly CandleUpdate[]): Promise<void> {
    const rows = new Map<string, CandleUpdate>();
    for (const u of updates) {
      checkStorable(u);
      const key = rowKey(u);
      rows.delete(key);
      rows.set(key, u);
    }
    const written = this.writing.then(() =>
      this.inChunks([...rows.values()], CANDLE_CHUNK, async (tx, chunk) =>
        tx.query(UPSERT_CANDLES, await candleColumns(chunk, this.turns, this)),
      ),
    );
    this.writing = written.catch(() => undefined);
    await written;
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
 * Rows of UPSERT_CANDLES' parameters built in one task of the turn budget. A batch of the write buffer is 1,000
 * bars, eight exact decimals each printed as text: built in one go, it held the server's thread for tens of ms
 * while history loaded at start-up (docs/PERFORMANCE.md, "Start-up stalls").
 */
const ENCODE_SLICE = 250;

/** The parameters of UPSERT_CANDLES: one array per column, a row per update, built under `turns`. */
async function candleColumns(
  updates: readonly CandleUpdate[],
  turns: TurnBudget,
  owner: object,
): Promise<unknown[][]> {
  const columns: unknown[][] = Array.from({ length: 16 }, () => new Array<unknown>(updates.length));
  await turns.inSlices(owner, updates.length, ENCODE_SLICE, (start, end) => {
    for (let i = start; i < end; i++) writeRow(columns, i, updates[i] as CandleUpdate);
  });
  return columns;
}

/** Row `i` of UPSERT_CANDLES' parameter columns: `u` as the database takes it. */
function writeRow(columns: unknown[][], i: number, u: CandleUpdate): void {
  const b = u.bar;
  const row = [
    rowVenue(u),
    u.symbol,
    u.interval,
    String(b.time),
    toPlainString(b.open),
    toPlainString(b.high),
    toPlainString(b.low),
    toPlainString(b.close),
    toPlainString(b.volume),
    toPlainString(b.quoteVolume),
    toPlainString(b.takerBuyVolume),
    toPlainString(b.takerBuyQuoteVolume),
    String(b.trades),
    u.state,
    u.sources.join(' '),
    u.backfilled === true,
  ];
  for (let c = 0; c < row.length; c++) (columns[c] as unknown[])[i] = row[c];
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
  const field = (i: number): string => f[i] as string;
  const bar: Candle = {
    time: Number(field(0)),
    open: parseDecimal(field(1)),
    high: parseDecimal(field(2)),
    low: parseDecimal(field(3)),
    close: parseDecimal(field(4)),
    volume: parseDecimal(field(5)),
    quoteVolume: parseDecimal(field(6)),
    takerBuyVolume: parseDecimal(field(7)),
    takerBuyQuoteVolume: parseDecimal(field(8)),
    trades: Number(field(9)),
  };
  const sources = f.slice(11).join(',').split(' ').filter(isVenueId);
  return { bar, sources, backfilled: field(10) === 't' };
}
