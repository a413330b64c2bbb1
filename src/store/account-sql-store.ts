import type { Fill } from '../domain/account.ts';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import type { SqlClient, SqlQueryable } from './sql-client.ts';
import {
  checkRangeQuery,
  checkStorableFill,
  uniqueFills,
  type AccountRangeQuery,
  type AccountStore,
  type StoredEquityPoint,
} from './account-store.ts';

/**
 * AccountStore over SQL, on PostgreSQL or PGlite, in the tables `account_fills` and `account_equity` of
 * migrations.ts (version 4). It runs on a SqlClient the process already has (the candle store's database): it
 * does not open, migrate or close the database itself, as PGlite allows one opener per directory.
 *
 * Decimals travel as exact text both ways; times are timestamptz in the database and ms in JavaScript.
 */

/** Rows per INSERT: 14 parameters each, far below PostgreSQL's 65,535 per statement. */
const FILL_CHUNK = 1000;
const EQUITY_CHUNK = 5000;

const FILL_COLUMNS = `account, fill_id, order_id, symbol, market, side, price, size, fee, fee_currency, liquidity,
  realized_pnl, liquidation, "time"`;

/** Exact conversion of ms since the epoch (sent as int8 text) to timestamptz. */
function timeParam(n: number): string {
  return `('epoch'::timestamptz + $${n}::bigint * interval '1 millisecond')`;
}

const MS = `(extract(epoch FROM "time") * 1000)::bigint::text`;

interface FillRow {
  fill_id: string;
  order_id: string;
  symbol: string;
  market: Fill['market'];
  side: Fill['side'];
  price: string;
  size: string;
  fee: string;
  fee_currency: string;
  liquidity: Fill['liquidity'];
  realized_pnl: string | null;
  liquidation: boolean | null;
  ms: string;
}

interface EquityRow {
  ms: string;
  equity: string;
  unrealized_pnl: string | null;
}

export class SqlAccountStore implements AccountStore {
  /** `client` must hold the schema of migrations.ts; the store never closes it (its owner does). */
  constructor(private readonly client: SqlClient) {}

  async appendFills(account: string, fills: readonly Fill[]): Promise<number> {
    for (const f of fills) checkStorableFill(account, f);
    const unique = uniqueFills(fills);
    if (unique.length === 0) return 0;
    const insert = async (tx: SqlQueryable, chunk: readonly Fill[]): Promise<number> => {
      const values = chunk.map((_, r) => {
        const b = r * 14;
        const cells = Array.from({ length: 13 }, (_, c) => `$${b + c + 1}`);
        return `(${cells.join(', ')}, ${timeParam(b + 14)})`;
      });
      const { rows } = await tx.query<{ fill_id: string }>(
        `INSERT INTO account_fills (${FILL_COLUMNS}) VALUES ${values.join(',\n')}
         ON CONFLICT (account, fill_id) DO NOTHING RETURNING fill_id`,
        chunk.flatMap((f) => fillParams(account, f)),
      );
      return rows.length;
    };
    if (unique.length <= FILL_CHUNK) return insert(this.client, unique);
    return this.client.transaction(async (tx) => {
      let added = 0;
      for (let i = 0; i < unique.length; i += FILL_CHUNK)
        added += await insert(tx, unique.slice(i, i + FILL_CHUNK));
      return added;
    });
  }

  async appendEquity(account: string, points: readonly StoredEquityPoint[]): Promise<void> {
    for (const p of points) {
      if (!Number.isSafeInteger(p.time))
        throw new RangeError(`equity time is not whole ms: ${String(p.time)}`);
    }
    // One statement cannot update a row twice: the last point of a time wins, as in the memory store.
    const byTime = new Map<number, StoredEquityPoint>();
    for (const p of points) byTime.set(p.time, p);
    const unique = [...byTime.values()];
    if (unique.length === 0) return;
    const insert = async (tx: SqlQueryable, chunk: readonly StoredEquityPoint[]): Promise<void> => {
      const values = chunk.map(
        (_, r) => `($${r * 4 + 1}, ${timeParam(r * 4 + 2)}, $${r * 4 + 3}, $${r * 4 + 4})`,
      );
      await tx.query(
        `INSERT INTO account_equity (account, "time", equity, unrealized_pnl) VALUES ${values.join(',\n')}
         ON CONFLICT (account, "time") DO UPDATE SET equity = EXCLUDED.equity,
           unrealized_pnl = EXCLUDED.unrealized_pnl`,
        chunk.flatMap((p) => [
          account,
          String(p.time),
          toPlainString(p.equity),
          p.unrealizedPnl === undefined ? null : toPlainString(p.unrealizedPnl),
        ]),
      );
    };
    if (unique.length <= EQUITY_CHUNK) return insert(this.client, unique);
    await this.client.transaction(async (tx) => {
      for (let i = 0; i < unique.length; i += EQUITY_CHUNK)
        await insert(tx, unique.slice(i, i + EQUITY_CHUNK));
    });
  }

  async fills(account: string, query: AccountRangeQuery): Promise<Fill[]> {
    checkRangeQuery(query);
    const { where, params } = range(account, query);
    const { rows } = await this.client.query<FillRow>(
      `SELECT * FROM (
         SELECT fill_id, order_id, symbol, market, side, price::text AS price, size::text AS size,
           fee::text AS fee, fee_currency, liquidity, realized_pnl::text AS realized_pnl, liquidation,
           ${MS} AS ms, "time" AS t
         FROM account_fills WHERE ${where}
         ORDER BY "time" DESC, fill_id DESC${limitClause(query, params)}
       ) AS newest ORDER BY t, fill_id`,
      params,
    );
    return rows.map(toFill);
  }

  async equity(account: string, query: AccountRangeQuery): Promise<StoredEquityPoint[]> {
    checkRangeQuery(query);
    const { where, params } = range(account, query);
    const { rows } = await this.client.query<EquityRow>(
      `SELECT * FROM (
         SELECT ${MS} AS ms, equity::text AS equity, unrealized_pnl::text AS unrealized_pnl, "time" AS t
         FROM account_equity WHERE ${where}
         ORDER BY "time" DESC${limitClause(query, params)}
       ) AS newest ORDER BY t`,
      params,
    );
    return rows.map((r) => ({
      time: Number(r.ms),
      equity: parseDecimal(r.equity),
      ...(r.unrealized_pnl === null ? {} : { unrealizedPnl: parseDecimal(r.unrealized_pnl) }),
    }));
  }

  /** The client belongs to whoever opened the database. */
  async close(): Promise<void> {}
}

function range(account: string, query: AccountRangeQuery): { where: string; params: unknown[] } {
  const params: unknown[] = [account];
  let where = 'account = $1';
  if (query.from !== undefined) {
    params.push(String(query.from));
    where += ` AND "time" >= ${timeParam(params.length)}`;
  }
  if (query.to !== undefined) {
    params.push(String(query.to));
    where += ` AND "time" < ${timeParam(params.length)}`;
  }
  return { where, params };
}

function limitClause(query: AccountRangeQuery, params: unknown[]): string {
  if (query.limit === undefined) return '';
  params.push(query.limit);
  return ` LIMIT $${params.length}`;
}

function fillParams(account: string, f: Fill): unknown[] {
  return [
    account,
    f.fillId,
    f.orderId,
    f.symbol,
    f.market,
    f.side,
    toPlainString(f.price),
    toPlainString(f.size),
    toPlainString(f.fee),
    f.feeCurrency,
    f.liquidity,
    f.realizedPnl === undefined ? null : toPlainString(f.realizedPnl),
    f.liquidation ?? null,
    String(f.time),
  ];
}

function toFill(r: FillRow): Fill {
  return {
    fillId: r.fill_id,
    orderId: r.order_id,
    symbol: r.symbol,
    market: r.market,
    side: r.side,
    price: parseDecimal(r.price),
    size: parseDecimal(r.size),
    fee: parseDecimal(r.fee),
    feeCurrency: r.fee_currency,
    liquidity: r.liquidity,
    ...(r.realized_pnl === null ? {} : { realizedPnl: parseDecimal(r.realized_pnl) }),
    ...(r.liquidation === null ? {} : { liquidation: r.liquidation }),
    time: Number(r.ms),
  };
}
