import type { Pool, PoolClient } from 'pg';
import type { SqlClient, SqlQueryable } from './sql-client.ts';

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
