import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { startWorker } from '../util/worker-thread.ts';
import { TickwireError } from '../domain/errors.ts';
import { createPgliteDatabase } from './pglite-create.ts';
import type { SqlClient, SqlQueryable } from './sql-client.ts';
import {
  receivedError,
  type PgliteWorkerData,
  type WorkerMessage,
  type WorkerRequest,
} from './pglite-worker-messages.ts';

/** Distributes the WorkerRequest union over its members, so that an object literal without `id` type-checks. */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface PgliteWorkerOptions {
  /**
   * Hears the worker's failure (it crashed or ended unasked). Every pending and later call rejects with a
   * TickwireError STORE_UNAVAILABLE naming the cause; the process itself goes on.
   */
  readonly onFailure?: (err: TickwireError) => void;
}

/** A SqlClient whose database runs in a worker thread; `threadId` is that thread's. */
export interface PgliteWorkerClient extends SqlClient {
  readonly threadId: number;
}

interface Pending {
  resolve(rows: unknown[]): void;
  reject(err: Error): void;
}

/** Starts the embedded database's thread (pglite-worker.ts); `pgliteWorkerClient` talks to it. */
export function startPgliteWorker(workerData: PgliteWorkerData): Worker {
  return startWorker(new URL('./pglite-worker.js', import.meta.url), workerData);
}

let compiled: Promise<Pick<PgliteWorkerData, 'pgliteWasmModule' | 'initdbWasmModule'>> | undefined;

/**
 * PGlite's WebAssembly, compiled once per process and handed to every worker (a compiled module is shared between
 * threads, not copied): a worker started later does not compile PostgreSQL again, which took seconds on a busy
 * machine. Compiling is not running: PGlite itself is never loaded in this thread.
 *
 * Compiled in a short-lived thread of its own (compileInThread): even WebAssembly.compile, asynchronous as it is,
 * decodes and validates the 10 MB module on the calling thread, which held the event loop about 70 ms at start-up
 * (docs/PERFORMANCE.md, "Start-up").
 *
 * Compiled by V8's baseline compiler (Liftoff) only. By default V8 recompiles the functions PostgreSQL runs often
 * with its optimizing compiler (TurboFan) on background threads; that second copy of the code and the memory those
 * threads allocated while compiling (glibc keeps a thread's arena once it grew) stayed resident: 95–125 MB more
 * after a few hundred reads, for no CPU saving the candle store's statements show (docs/PERFORMANCE.md, "Idle stack
 * memory"). V8's flags are the process's (every thread's): WebAssembly compiled later in this process (undici's
 * HTTP parser, for fetch) stays on Liftoff as well.
 */
function compiledWasm(): Promise<Pick<PgliteWorkerData, 'pgliteWasmModule' | 'initdbWasmModule'>> {
  compiled ??= (async () => {
    setFlagsFromString('--liftoff-only');
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [pgliteWasmModule, initdbWasmModule] = await compileInThread(
      ['pglite.wasm', 'initdb.wasm'].map((file) => join(dist, file)),
    );
    return { pgliteWasmModule, initdbWasmModule };
  })();
  return compiled;
}

/** The thread of compileInThread: reads and compiles each file, posts the modules back (CommonJS, no loader). */
const COMPILER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFile } = require('node:fs/promises');
Promise.all(workerData.map(async (file) => WebAssembly.compile(await readFile(file)))).then((modules) =>
  parentPort.postMessage(modules),
);
`;

/** Compiles the WebAssembly `files` in a worker thread; resolves with their modules, in the same order. */
function compileInThread(files: readonly string[]): Promise<WebAssembly.Module[]> {
  return new Promise((resolve, reject) => {
    // No execArgv: the process's own (a tsx loader, --cpu-prof) are not needed to compile.
    const worker = new Worker(COMPILER_SOURCE, { eval: true, workerData: files, execArgv: [] });
    worker.once('message', (modules: WebAssembly.Module[]) => {
      resolve(modules);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the WebAssembly compiler thread exited (${code})`)));
  });
}

/**
 * Starts PGlite in a worker thread (pglite-worker.ts) and resolves, once it is open, with a SqlClient that sends
 * it statements. `dataDir` is the folder of the database files (it must exist); absent: an in-memory database.
 * A folder without a database gets one first, created in a child process (pglite-create.ts).
 */
export async function openPgliteWorker(
  options: PgliteWorkerOptions & { readonly dataDir?: string } = {},
): Promise<PgliteWorkerClient> {
  // Before the compile: the child compiles PGlite for itself, and the two would only compete for the CPU.
  if (options.dataDir !== undefined) await createPgliteDatabase(options.dataDir);
  const wasm = await compiledWasm();
  const worker = startPgliteWorker(
    options.dataDir === undefined ? wasm : { ...wasm, dataDir: options.dataDir },
  );
  return pgliteWorkerClient(worker, options);
}

/**
 * The SqlClient of a started worker (startPgliteWorker), resolved once its database is open. Statements and results travel by structured clone; errors come back with their message and
 * fields (PostgreSQL's `code`, `detail`). A transaction's statements run in the worker inside one PGlite
 * transaction, which other statements wait for. Like PGlite in this thread, the open database holds the process
 * open until it is closed (the write-behind buffer's timers do not).
 * Rejects with the worker's error when the database cannot be opened.
 */
export function pgliteWorkerClient(
  worker: Worker,
  options: PgliteWorkerOptions = {},
): Promise<PgliteWorkerClient> {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let failure: TickwireError | undefined;
  let closing = false;
  let opened: ((threadId: number) => void) | undefined;
  let openFailed: ((err: Error) => void) | undefined;
  const ready = new Promise<number>((resolve, reject) => {
    opened = resolve;
    openFailed = reject;
  });

  function fail(why: string, cause?: unknown): void {
    if (failure || closing) return;
    failure = new TickwireError(
      'STORE_UNAVAILABLE',
      `embedded database worker ${why}`,
      cause === undefined ? undefined : { cause },
    );
    openFailed?.(failure);
    for (const call of pending.values()) call.reject(failure);
    pending.clear();
    options.onFailure?.(failure);
    void worker.terminate();
  }

  worker.on('message', (message: WorkerMessage) => {
    switch (message.op) {
      case 'ready':
        opened?.(message.threadId);
        return;
      case 'open-failed':
        closing = true;
        openFailed?.(receivedError(message.error));
        return;
      case 'reply':
      case 'fail': {
        const call = pending.get(message.id);
        if (!call) return;
        pending.delete(message.id);
        if (message.op === 'reply') call.resolve(message.rows);
        else call.reject(receivedError(message.error));
        return;
      }
    }
  });
  worker.on('error', (err) => fail(`crashed: ${err.message}`, err));
  worker.on('messageerror', (err) => fail(`sent a message that could not be read: ${err.message}`, err));
  worker.on('exit', (code) => fail(`ended unexpectedly (exit code ${code})`));

  function call(request: Unnumbered<WorkerRequest>): Promise<unknown[]> {
    if (failure) return Promise.reject(failure);
    if (closing) return Promise.reject(new Error('the embedded database is closed'));
    const id = nextId++;
    return new Promise<unknown[]>((resolve, reject) => {
      try {
        worker.postMessage({ ...request, id } as WorkerRequest);
      } catch (err) {
        // A parameter that structured clone cannot copy (a function, a symbol): this call fails, nothing else.
        reject(err as Error);
        return;
      }
      pending.set(id, { resolve, reject });
    });
  }

  async function query<T>(text: string, params: readonly unknown[] = [], tx?: number) {
    const rows = await call(
      tx === undefined ? { op: 'query', text, params } : { op: 'query', text, params, tx },
    );
    return { rows: rows as T[] };
  }

  const client = (threadId: number): PgliteWorkerClient => ({
    threadId,
    query: <T>(text: string, params?: readonly unknown[]) => query<T>(text, params),
    async transaction<R>(fn: (tx: SqlQueryable) => Promise<R>): Promise<R> {
      // The transaction's id is the id of its 'begin' request, which `call` takes from nextId.
      const tx = nextId;
      await call({ op: 'begin' });
      let result: R;
      try {
        result = await fn({
          query: <T>(text: string, params?: readonly unknown[]) => query<T>(text, params, tx),
        });
      } catch (err) {
        await call({ op: 'end', tx, commit: false }).catch(() => undefined);
        throw err;
      }
      await call({ op: 'end', tx, commit: true });
      return result;
    },
    async close() {
      if (failure || closing) return;
      const closed = call({ op: 'close' });
      // The worker ends once it has answered: that exit is expected from now on.
      closing = true;
      try {
        await closed;
      } finally {
        await worker.terminate();
      }
    },
  });

  return ready.then(client, async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
}
