/**
 * The embedded database's thread: PGlite (PostgreSQL compiled to WebAssembly) runs every statement synchronously
 * in the thread that calls it, so a large read in the server's thread would stop all fan-out until it is done.
 * Here it runs in a worker thread instead, started by pglite-worker-client.ts, which sends statements and
 * transactions as messages (pglite-worker-messages.ts) and gets the rows back.
 *
 * PGlite runs one statement or transaction at a time: a statement that arrives while a transaction is open waits
 * until it ends, so a transaction's statements never interleave with others.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pgliteClient } from './pglite-client.ts';
import { PGLITE_THREAD_NICE_STEPS, pgliteStartParams } from './pglite-settings.ts';
import type { SqlClient, SqlQueryable } from './sql-client.ts';
import { lowerThreadPriority } from '../util/thread-priority.ts';
import {
  sendError,
  type EndRequest,
  type PgliteWorkerData,
  type QueryRequest,
  type WorkerMessage,
  type WorkerRequest,
} from './pglite-worker-messages.ts';

const port = parentPort;
if (port === null) throw new Error('pglite-worker.ts runs as a worker thread (see pglite-worker-client.ts)');

function post(message: WorkerMessage): void {
  port?.postMessage(message);
}

/** Answers request `id` with the outcome of `work`. */
async function answer(id: number, work: () => Promise<unknown[]>): Promise<void> {
  try {
    post({ op: 'reply', id, rows: await work() });
  } catch (err) {
    post({ op: 'fail', id, error: sendError(err) });
  }
}

/** The steps (statements, then its end) of one open transaction, in the order they arrive. */
class TransactionSteps {
  private readonly queued: (QueryRequest | EndRequest)[] = [];
  private waiting: ((step: QueryRequest | EndRequest) => void) | undefined;

  push(step: QueryRequest | EndRequest): void {
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting(step);
    } else this.queued.push(step);
  }

  next(): Promise<QueryRequest | EndRequest> {
    const step = this.queued.shift();
    if (step) return Promise.resolve(step);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

/** Thrown inside PGlite's transaction to roll it back; not an error of the caller's. */
const ROLLBACK = Symbol('rollback');

async function serve(client: SqlClient): Promise<void> {
  const transactions = new Map<number, TransactionSteps>();

  async function runTransaction(id: number): Promise<void> {
    const steps = new TransactionSteps();
    transactions.set(id, steps);
    let end: EndRequest | undefined;
    try {
      await client.transaction(async (tx: SqlQueryable) => {
        post({ op: 'reply', id, rows: [] });
        for (;;) {
          const step = await steps.next();
          if (step.op === 'end') {
            end = step;
            if (!step.commit) throw ROLLBACK;
            return;
          }
          await answer(step.id, async () => (await tx.query(step.text, step.params)).rows);
        }
      });
      if (end) post({ op: 'reply', id: end.id, rows: [] });
    } catch (err) {
      if (end && err === ROLLBACK) post({ op: 'reply', id: end.id, rows: [] });
      else post({ op: 'fail', id: end?.id ?? id, error: sendError(err) });
    } finally {
      transactions.delete(id);
    }
  }

  port?.on('message', (request: WorkerRequest) => {
    switch (request.op) {
      case 'query': {
        if (request.tx === undefined) {
          void answer(request.id, async () => (await client.query(request.text, request.params)).rows);
          return;
        }
        const steps = transactions.get(request.tx);
        if (steps) steps.push(request);
        else post({ op: 'fail', id: request.id, error: sendError(new Error('Transaction is closed')) });
        return;
      }
      case 'begin':
        void runTransaction(request.id);
        return;
      case 'end': {
        const steps = transactions.get(request.tx);
        if (steps) steps.push(request);
        else post({ op: 'fail', id: request.id, error: sendError(new Error('Transaction is closed')) });
        return;
      }
      case 'close':
        void answer(request.id, async () => {
          await client.close();
          return [];
        }).then(() => port?.close());
        return;
    }
  });
}

// Background work: yields a core to the server's thread (pglite-settings.ts, PGLITE_THREAD_NICE_STEPS).
lowerThreadPriority(PGLITE_THREAD_NICE_STEPS);

const { dataDir, pgliteWasmModule, initdbWasmModule } = workerData as PgliteWorkerData;
try {
  const db = await PGlite.create({
    startParams: pgliteStartParams(PGlite),
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(pgliteWasmModule ? { pgliteWasmModule } : {}),
    ...(initdbWasmModule ? { initdbWasmModule } : {}),
  });
  await serve(pgliteClient(db));
  post({ op: 'ready', threadId });
} catch (err) {
  post({ op: 'open-failed', error: sendError(err) });
  port.close();
}
