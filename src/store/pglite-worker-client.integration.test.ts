import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { threadId as mainThreadId, Worker } from 'node:worker_threads';
import { TickwireError } from '../domain/errors.ts';
import {
  openPgliteWorker,
  pgliteWorkerClient,
  startPgliteWorker,
  type PgliteWorkerClient,
} from './pglite-worker-client.ts';
import { freshPgliteDir, removePgliteDirs } from './pglite-dirs.test-support.ts';
import { mainThreadNice, threadsAtNice } from '../util/thread-nice.test-support.ts';
import { PGLITE_SETTINGS, PGLITE_THREAD_NICE_STEPS } from './pglite-settings.ts';

after(() => removePgliteDirs());

// The candle store's own suites (contract, migrations, SqlCandleStore) run on this client too; these tests look
// at what the client itself promises: transactions, errors, shutdown and a crashed worker.
describe('the PGlite worker client', () => {
  let client: PgliteWorkerClient;
  before(async () => {
    // A copy of the shared empty database rather than seconds of initdb (the V8-options test opens an in-memory one).
    client = await openPgliteWorker({ dataDir: await freshPgliteDir() });
    await client.query('CREATE TABLE t (n int)');
  });
  after(() => client.close());

  it('runs the database in a thread of its own', async () => {
    assert.notEqual(client.threadId, mainThreadId);
    assert.deepEqual((await client.query<{ one: number }>('SELECT $1::int AS one', [1])).rows, [{ one: 1 }]);
  });

  it('runs the database thread PGLITE_THREAD_NICE_STEPS nice levels below the server thread (Linux)', (t) => {
    if (process.platform !== 'linux') return t.skip('per-thread nice values are Linux');
    const main = mainThreadNice();
    if (main + PGLITE_THREAD_NICE_STEPS > 19) return t.skip(`the process already runs at nice ${main}`);
    const expected = main + PGLITE_THREAD_NICE_STEPS;
    const lowered = threadsAtNice(expected);
    assert.equal(PGLITE_THREAD_NICE_STEPS, 10);
    // This file's one open database: its thread, and no other of the process, runs at the lowered level.
    assert.equal(lowered.length, 1, `threads at nice ${expected}: ${lowered.join(', ')}`);
    assert.notEqual(lowered[0], String(process.pid));
  });

  it('starts the database with the settings of pglite-settings.ts (a small page cache)', async () => {
    for (const [name, value] of Object.entries(PGLITE_SETTINGS)) {
      const rows = (await client.query<Record<string, string>>(`SHOW ${name}`)).rows;
      assert.deepEqual(rows, [{ [name]: value }]);
    }
    assert.equal(PGLITE_SETTINGS['shared_buffers'], '16MB');
  });

  it('makes other statements wait until a transaction ends: they never run inside it', async () => {
    await client.query('DELETE FROM t');
    const order: string[] = [];
    let outside: Promise<number> | undefined;
    await client.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (1)');
      // Sent while the transaction is open: run inside it, it would count one row.
      outside = client.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((r) => {
        order.push('outside');
        return r.rows[0]?.n ?? -1;
      });
      await tx.query('INSERT INTO t VALUES (2)');
      order.push('transaction');
    });
    assert.equal(await outside, 2);
    assert.deepEqual(order, ['transaction', 'outside']);
  });

  it('rolls a transaction back when its function throws, and passes the error on', async () => {
    await client.query('DELETE FROM t');
    const mistake = new Error('changed my mind');
    await assert.rejects(
      client.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (1)');
        throw mistake;
      }),
      (err) => err === mistake,
    );
    assert.deepEqual((await client.query('SELECT n FROM t')).rows, []);
  });

  it("returns the database's errors with their message and PostgreSQL code", async () => {
    await assert.rejects(client.query('SELECT no_such_function()'), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /no_such_function/);
      assert.equal((err as Error & { code?: string }).code, '42883');
      return true;
    });
    await assert.rejects(
      client.transaction((tx) => tx.query('SELECT 1/0')),
      (err: unknown) => (err as { code?: string }).code === '22012',
    );
    assert.deepEqual((await client.query<{ n: number }>('SELECT 2 AS n')).rows, [{ n: 2 }]);
  });

  it('refuses a parameter that cannot be sent, and goes on', async () => {
    await assert.rejects(client.query('SELECT $1', [() => 1]), /could not be cloned/);
    assert.deepEqual((await client.query<{ n: number }>('SELECT 3 AS n')).rows, [{ n: 3 }]);
  });
});

describe('the PGlite worker', () => {
  it('closes the database and ends its thread on close', async () => {
    const worker = startPgliteWorker({ dataDir: await freshPgliteDir() });
    const exited = once(worker, 'exit');
    const client = await pgliteWorkerClient(worker);
    await client.query('SELECT 1');
    await client.close();
    await exited;
    await assert.rejects(client.query('SELECT 1'), /closed/);
  });

  it('rejects the pending calls and reports it when the worker crashes', async () => {
    // Stands in for the worker: opens, then throws on the first request.
    const crashing = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage({ op: 'ready', threadId: 0 });
       parentPort.on('message', () => { throw new Error('wasm trap'); });`,
      { eval: true },
    );
    const reported: TickwireError[] = [];
    const client = await pgliteWorkerClient(crashing, { onFailure: (err) => reported.push(err) });
    const isCrash = (err: unknown): boolean => {
      assert.ok(err instanceof TickwireError);
      assert.equal(err.code, 'STORE_UNAVAILABLE');
      assert.match(err.message, /embedded database worker crashed: wasm trap/);
      return true;
    };
    await Promise.all([
      assert.rejects(client.query('SELECT 1'), isCrash),
      assert.rejects(client.query('SELECT 2'), isCrash),
    ]);
    await assert.rejects(client.query('SELECT 3'), isCrash);
    assert.equal(reported.length, 1);
    await client.close();
  });

  it('rejects the pending calls when the worker ends unasked', async () => {
    const ending = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage({ op: 'ready', threadId: 0 });
       parentPort.on('message', () => process.exit(3));`,
      { eval: true },
    );
    const client = await pgliteWorkerClient(ending);
    await assert.rejects(
      client.query('SELECT 1'),
      /embedded database worker ended unexpectedly \(exit code 3\)/,
    );
  });

  it("opens in a process started with V8's options, which a worker refuses in its own execArgv", async () => {
    // `node --max-old-space-size=… bin/tickwire.js all` is how an operator bounds the heap; the worker must start.
    const client = JSON.stringify(new URL('./pglite-worker-client.ts', import.meta.url).href);
    // A copy of the empty template rather than an in-memory database, whose initdb takes seconds of CPU.
    const dir = JSON.stringify(await freshPgliteDir());
    const script = `const { openPgliteWorker } = await import(${client});
      const db = await openPgliteWorker({ dataDir: ${dir} });
      console.log(JSON.stringify((await db.query('SELECT 41 + 1 AS answer')).rows));
      await db.close();`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--max-old-space-size=512',
      '--max-semi-space-size=4',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ]);
    assert.deepEqual(JSON.parse(stdout), [{ answer: 42 }]);
  });

  it('rejects the open when the database cannot be opened', async () => {
    await assert.rejects(
      openPgliteWorker({ dataDir: '/proc/self/no-such-dir/pglite' }),
      (err: unknown) => err instanceof Error && err.message !== '',
    );
  });
});
