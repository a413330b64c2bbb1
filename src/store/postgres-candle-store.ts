import pg from 'pg';
import { TickwireError } from '../domain/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { runMigrations } from './migrations.ts';
import { SqlCandleStore } from './sql-candle-store.ts';
import { pgPoolClient } from './pg-pool-client.ts';

export interface PostgresCandleStoreOptions {
  /** postgres:// or postgresql:// URL. */
  readonly url: string;
  readonly logger: Logger;
  /** Connections in the pool. Default 4: writes come in batches, one at a time; reads are short. */
  readonly poolSize?: number;
  /**
   * A statement unanswered this long fails and its connection is dropped, ms. Default 60,000. Without it a
   * connection that died silently (no reset from the network) would hold a write forever.
   */
  readonly queryTimeoutMs?: number;
  /** Opening a connection fails after this long, ms. Default 10,000. */
  readonly connectTimeoutMs?: number;
}

/** The URL with its password hidden, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * Opens the PostgreSQL candle store: a connection pool, the schema migrated (TimescaleDB hypertables when the
 * server has the extension). Throws a TickwireError STORE_UNAVAILABLE when the database cannot be reached or
 * migrated. Errors of idle pooled connections (a restarted server, a cut network) are logged, never thrown: the
 * pool replaces those connections and the next statement reports the outage to its caller.
 */
export async function openPostgresCandleStore(options: PostgresCandleStoreOptions): Promise<SqlCandleStore> {
  const { url, logger } = options;
  const where = redactUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 4,
    query_timeout: options.queryTimeoutMs ?? 60_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    keepAlive: true,
  });
  pool.on('error', (err) => logger.error({ err, url: where }, 'store: idle PostgreSQL connection failed'));
  const client = pgPoolClient(pool, (err) =>
    logger.warn({ err, url: where }, 'store: PostgreSQL connection failed during a transaction'),
  );
  try {
    const migrated = await runMigrations(client, logger);
    logger.info(
      { url: where, applied: migrated.applied, timescale: migrated.timescale },
      migrated.timescale
        ? 'store: PostgreSQL ready, candles in a TimescaleDB hypertable'
        : 'store: PostgreSQL ready, plain tables (TimescaleDB not used)',
    );
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new TickwireError(
      'STORE_UNAVAILABLE',
      `PostgreSQL at ${where} could not be opened: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return new SqlCandleStore(client);
}
