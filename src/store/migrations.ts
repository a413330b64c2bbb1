import type { Logger } from '../telemetry/logger.ts';
import type { SqlClient, SqlQueryable } from './sql-client.ts';

/**
 * The database schema, as ordered migrations. At start every process runs `runMigrations`: in one transaction it
 * applies the migrations not yet recorded in `tickwire_migrations` and records them. A transaction-scoped
 * advisory lock makes processes that start at the same time take turns, so the second one finds the work done.
 * Each migration is also written to be harmless when repeated (IF NOT EXISTS), so a half-recorded state cannot
 * wedge a start.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(tx: SqlQueryable, logger: Logger): Promise<void>;
}

export interface MigrationResult {
  /** Names of the migrations this call applied, in order (empty when the schema was up to date). */
  readonly applied: readonly string[];
  /** Whether `candles` is a TimescaleDB hypertable. */
  readonly timescale: boolean;
}

/** Key of the advisory lock that serializes migrating processes; any constant that no other lock uses. */
const MIGRATION_LOCK_KEY = 7_316_421_905_118;

/**
 * Makes the TimescaleDB extension available in this database when the server has it. Returns false when it is
 * not installed on the server or cannot be created (for instance because it is not in shared_preload_libraries,
 * or the role may not create extensions); the statement runs under a savepoint so that such a failure leaves
 * the migration's transaction usable.
 */
async function timescaleReady(tx: SqlQueryable, logger: Logger): Promise<boolean> {
  const installed = await tx.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
  if (installed.rows.length > 0) return true;
  const available = await tx.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`);
  if (available.rows.length === 0) return false;
  await tx.query('SAVEPOINT tickwire_timescale');
  try {
    await tx.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    await tx.query('RELEASE SAVEPOINT tickwire_timescale');
    return true;
  } catch (err) {
    await tx.query('ROLLBACK TO SAVEPOINT tickwire_timescale');
    logger.warn({ err }, 'store: TimescaleDB is installed but could not be enabled; using plain tables');
    return false;
  }
}

async function makeHypertable(tx: SqlQueryable, table: string, logger: Logger): Promise<void> {
  if (!(await timescaleReady(tx, logger))) return;
  await tx.query(`SELECT create_hypertable('${table}', 'time', if_not_exists => TRUE, migrate_data => TRUE)`);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'candles',
    async up(tx, logger) {
      // `revision` orders the writes of all rows: for one (symbol, interval, time) the row written last is the
      // composite stream's bar, so after a failover the newer venue's bar wins.
      await tx.query('CREATE SEQUENCE IF NOT EXISTS candles_revision_seq');
      await tx.query(`
        CREATE TABLE IF NOT EXISTS candles (
          venue text NOT NULL,
          symbol text NOT NULL,
          "interval" text NOT NULL,
          "time" timestamptz NOT NULL,
          open numeric NOT NULL,
          high numeric NOT NULL,
          low numeric NOT NULL,
          close numeric NOT NULL,
          volume numeric NOT NULL,
          quote_volume numeric NOT NULL,
          taker_buy_volume numeric NOT NULL,
          taker_buy_quote_volume numeric NOT NULL,
          trades bigint NOT NULL,
          state text NOT NULL CHECK (state IN ('live', 'closed', 'revised')),
          sources text[] NOT NULL,
          backfilled boolean NOT NULL DEFAULT false,
          updated_at timestamptz NOT NULL DEFAULT now(),
          revision bigint NOT NULL DEFAULT nextval('candles_revision_seq'),
          PRIMARY KEY (venue, symbol, "interval", "time")
        )`);
      await tx.query('ALTER SEQUENCE candles_revision_seq OWNED BY candles.revision');
      await tx.query(
        `CREATE INDEX IF NOT EXISTS candles_series_idx ON candles (symbol, "interval", "time" DESC, revision DESC)`,
      );
      await makeHypertable(tx, 'candles', logger);
    },
  },
  {
    version: 2,
    name: 'trades',
    async up(tx, logger) {
      await tx.query(`
        CREATE TABLE IF NOT EXISTS trades (
          venue text NOT NULL,
          symbol text NOT NULL,
          id text NOT NULL,
          "time" timestamptz NOT NULL,
          price numeric NOT NULL,
          size numeric NOT NULL,
          side text NOT NULL CHECK (side IN ('buy', 'sell')),
          fills integer NOT NULL,
          received_at timestamptz NOT NULL,
          PRIMARY KEY (venue, symbol, id, "time")
        )`);
      await makeHypertable(tx, 'trades', logger);
    },
  },
  {
    version: 3,
    name: 'upstreams',
    async up(tx) {
      // Which endpoints each venue's rows were filled from (upstreams.ts), and where rows filled from another
      // upstream are kept aside: same columns as their table, plus the upstream they came from (null when it
      // was never recorded) and when they were moved.
      await tx.query(`
        CREATE TABLE IF NOT EXISTS upstreams (
          venue text PRIMARY KEY,
          rest_url text NOT NULL,
          ws_url text NOT NULL,
          recorded_at timestamptz NOT NULL DEFAULT now()
        )`);
      await tx.query(`
        CREATE TABLE IF NOT EXISTS candles_archive (
          venue text NOT NULL,
          symbol text NOT NULL,
          "interval" text NOT NULL,
          "time" timestamptz NOT NULL,
          open numeric NOT NULL,
          high numeric NOT NULL,
          low numeric NOT NULL,
          close numeric NOT NULL,
          volume numeric NOT NULL,
          quote_volume numeric NOT NULL,
          taker_buy_volume numeric NOT NULL,
          taker_buy_quote_volume numeric NOT NULL,
          trades bigint NOT NULL,
          state text NOT NULL,
          sources text[] NOT NULL,
          backfilled boolean NOT NULL,
          updated_at timestamptz NOT NULL,
          revision bigint NOT NULL,
          upstream_rest_url text,
          upstream_ws_url text,
          archived_at timestamptz NOT NULL DEFAULT now()
        )`);
      await tx.query(`
        CREATE TABLE IF NOT EXISTS trades_archive (
          venue text NOT NULL,
          symbol text NOT NULL,
          id text NOT NULL,
          "time" timestamptz NOT NULL,
          price numeric NOT NULL,
          size numeric NOT NULL,
          side text NOT NULL,
          fills integer NOT NULL,
          received_at timestamptz NOT NULL,
          upstream_rest_url text,
          upstream_ws_url text,
          archived_at timestamptz NOT NULL DEFAULT now()
        )`);
    },
  },
  {
    version: 4,
    name: 'accounts',
    async up(tx) {
      // A trader's fills, once per (account, fill_id), and the samples of each account's equity curve
      // (account-sql-store.ts, docs/ACCOUNTS.md). Decimals as exact numeric; the optional ones may be null.
      await tx.query(`
        CREATE TABLE IF NOT EXISTS account_fills (
          account text NOT NULL,
          fill_id text NOT NULL,
          order_id text NOT NULL,
          symbol text NOT NULL,
          market text NOT NULL CHECK (market IN ('spot', 'perpetual')),
          side text NOT NULL CHECK (side IN ('buy', 'sell')),
          price numeric NOT NULL,
          size numeric NOT NULL,
          fee numeric NOT NULL,
          fee_currency text NOT NULL,
          liquidity text NOT NULL CHECK (liquidity IN ('maker', 'taker')),
          realized_pnl numeric,
          liquidation boolean,
          "time" timestamptz NOT NULL,
          stored_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (account, fill_id)
        )`);
      await tx.query(
        `CREATE INDEX IF NOT EXISTS account_fills_time_idx ON account_fills (account, "time", fill_id)`,
      );
      await tx.query(`
        CREATE TABLE IF NOT EXISTS account_equity (
          account text NOT NULL,
          "time" timestamptz NOT NULL,
          equity numeric NOT NULL,
          unrealized_pnl numeric,
          PRIMARY KEY (account, "time")
        )`);
    },
  },
];

/** Brings the schema up to date (see the top of this file). Safe to call from several processes at once. */
export async function runMigrations(
  client: SqlClient,
  logger: Logger,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  const applied = await client.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS tickwire_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const done = await tx.query<{ version: number }>('SELECT version FROM tickwire_migrations');
    const versions = new Set(done.rows.map((r) => Number(r.version)));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...versions].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      logger.warn(
        { versions: unknown },
        'store: the database has migrations this version does not know (written by a newer Tickwire?)',
      );
    }
    const names: string[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (versions.has(m.version)) continue;
      await m.up(tx, logger);
      await tx.query('INSERT INTO tickwire_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      names.push(m.name);
    }
    return names;
  });
  return { applied, timescale: await isHypertable(client, 'candles') };
}

async function isHypertable(client: SqlQueryable, table: string): Promise<boolean> {
  const ext = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
  if (ext.rows.length === 0) return false;
  const found = await client.query(
    'SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1',
    [table],
  );
  return found.rows.length > 0;
}
