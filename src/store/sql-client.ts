import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

/**
 * The little of a SQL driver that the stores use, so that one store runs on PostgreSQL (node-postgres) and on
 * the embedded PGlite alike. Both speak PostgreSQL's SQL with `$1` parameters; the drivers differ in how they
 * decode some types (int8, numeric), so queries that must agree cast their results to text or float8.
 */
export interface SqlQueryable {
  query<T>(text: string, params?: readonly unknown[]): Promise<{ rows: T[] }>;
}

export interface SqlClient extends SqlQueryable {
  /** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<R>(fn: (tx: SqlQueryable) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}

/**
 * A SqlClient over a node-postgres pool. Statements outside a transaction take any pooled connection.
 * `onClientError` hears errors of a connection held by a transaction (the pool only listens on idle ones, and
 * an unheard 'error' event would end the process); the failing statement rejects with the same error.
 */
export function pgPoolClient(pool: Pool, onClientError: (err: Error) => void): SqlClient {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      const result = await pool.query(text, params as unknown[]);
      return { rows: result.rows as T[] };
    },
    async transaction<R>(fn: (tx: SqlQueryable) => Promise<R>): Promise<R> {
      const client: PoolClient = await pool.connect();
      client.on('error', onClientError);
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query<T>(text: string, params: readonly unknown[] = []) {
            const r = await client.query(text, params as unknown[]);
            return { rows: r.rows as T[] };
          },
        });
        await client.query('COMMIT');
        client.removeListener('error', onClientError);
        client.release();
        return result;
      } catch (err) {
        // The connection is discarded rather than rolled back: after a timeout or a broken socket a ROLLBACK could
        // hang too, and the server rolls back a transaction whose connection ends.
        client.removeListener('error', onClientError);
        client.release(true);
        throw err;
      }
    },
    close: () => pool.end(),
  };
}

/** A SqlClient over an embedded PGlite database (one connection; PGlite runs one statement at a time). */
export function pgliteClient(db: PGlite): SqlClient {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      const result = await db.query<T>(text, params as unknown[]);
      return { rows: result.rows };
    },
    transaction<R>(fn: (tx: SqlQueryable) => Promise<R>): Promise<R> {
      return db.transaction((tx) =>
        fn({
          async query<T>(text: string, params: readonly unknown[] = []) {
            const result = await tx.query<T>(text, params as unknown[]);
            return { rows: result.rows };
          },
        }),
      );
    },
    close: () => db.close(),
  };
}
