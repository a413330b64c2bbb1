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
