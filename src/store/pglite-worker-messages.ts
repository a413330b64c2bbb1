/**
 * What the main thread and the embedded database's worker thread (pglite-worker.ts) say to each other. Messages
 * travel by structured clone: statement parameters and result rows are plain data (strings, numbers, booleans,
 * arrays, Date, bigint); errors are sent as their fields and made into Errors again on the other side.
 */

/** What the worker is started with (`workerData`). */
export interface PgliteWorkerData {
  /** Folder of the database files; absent: an in-memory database. */
  readonly dataDir?: string;
  /** PGlite's WebAssembly, compiled by the main thread once for every worker; absent: the worker compiles it. */
  readonly pgliteWasmModule?: WebAssembly.Module;
  readonly initdbWasmModule?: WebAssembly.Module;
}

/** A statement, outside a transaction or (with `tx`) inside the open transaction of that id. */
export interface QueryRequest {
  readonly op: 'query';
  readonly id: number;
  readonly text: string;
  readonly params: readonly unknown[];
  readonly tx?: number;
}

/** Opens a transaction; its id is this request's id. Answered once the transaction has begun. */
export interface BeginRequest {
  readonly op: 'begin';
  readonly id: number;
}

/** Ends the transaction `tx`: commits it, or rolls it back. */
export interface EndRequest {
  readonly op: 'end';
  readonly id: number;
  readonly tx: number;
  readonly commit: boolean;
}

/** Closes the database; the worker ends after answering. */
export interface CloseRequest {
  readonly op: 'close';
  readonly id: number;
}

export type WorkerRequest = QueryRequest | BeginRequest | EndRequest | CloseRequest;

/** The answer to the request of the same id. */
export type WorkerReply =
  | { readonly op: 'reply'; readonly id: number; readonly rows: unknown[] }
  | { readonly op: 'fail'; readonly id: number; readonly error: SentError };

/** Posted once, unasked, when the database is open (or could not be opened). */
export type WorkerStarted =
  | { readonly op: 'ready'; readonly threadId: number }
  | { readonly op: 'open-failed'; readonly error: SentError };

export type WorkerMessage = WorkerReply | WorkerStarted;

/** An error as sent between threads: its message and its primitive fields (PostgreSQL's code, detail, …). */
export interface SentError {
  readonly message: string;
  readonly fields: Readonly<Record<string, string | number | boolean>>;
}

/** Structured clone keeps an Error's message but not the fields drivers add (`code`, `severity`, `detail`). */
export function sendError(err: unknown): SentError {
  const fields: Record<string, string | number | boolean> = {};
  if (typeof err === 'object' && err !== null) {
    for (const [key, value] of Object.entries(err)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        fields[key] = value;
      }
    }
    if (err instanceof Error && err.name !== 'Error') fields.name = err.name;
  }
  delete fields.message;
  delete fields.stack;
  return { message: describeError(err), fields };
}

/** The Error a SentError was made from, as near as can be: the same message, name and fields. */
export function receivedError(sent: SentError): Error {
  const err = new Error(sent.message);
  Object.assign(err, sent.fields);
  return err;
}

/** A readable message for anything thrown; PGlite's file system errors are not always Error instances. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) {
    const { message, errno } = err as { message?: unknown; errno?: unknown };
    if (typeof message === 'string' && message !== '') return message;
    if (errno !== undefined) return `file system error (errno ${String(errno)})`;
  }
  return String(err);
}
