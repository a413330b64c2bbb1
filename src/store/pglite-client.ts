import type { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlQueryable } from './sql-client.ts';

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
