import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { LogRing } from '../telemetry/log-ring.ts';
import { mainThreadNice, threadsAtNice } from '../util/thread-nice.test-support.ts';
import { SIMULATOR_THREAD_NICE_STEPS, startSimulatorThread } from './threaded-simulator.ts';
import { getJson } from './test-kit.ts';

const LOG = { level: 'silent', format: 'json' } as const;
const failOnError = (err: Error): never => assert.fail(err);

describe('startSimulatorThread', () => {
  it('serves the venues from its thread until closed, then ends the thread', async () => {
    const sim = await startSimulatorThread(
      { symbols: ['BTC/USDT'], historyDays: 1, seed: 3 },
      LOG,
      failOnError,
    );
    let closed = false;
    try {
      assert.equal(sim.urls.binance.restUrl, `http://127.0.0.1:${sim.port}/binance`);
      const klines = await getJson(
        `${sim.urls.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=30`,
      );
      assert.equal(klines.status, 200);
      assert.equal((klines.body as unknown[]).length, 25, 'a day of hours and the one in progress');
      // Resolves once the thread has exited.
      await sim.close();
      closed = true;
      await assert.rejects(getJson(`${sim.urls.binance.restUrl}/api/v3/ping`), 'nothing listens any more');
    } finally {
      if (!closed) await sim.close();
    }
  });

  it('runs its thread SIMULATOR_THREAD_NICE_STEPS nice levels below the server thread (Linux)', async (t) => {
    if (process.platform !== 'linux') return t.skip('per-thread nice values are Linux');
    const main = mainThreadNice();
    if (main + SIMULATOR_THREAD_NICE_STEPS > 19) return t.skip(`the process already runs at nice ${main}`);
    const expected = main + SIMULATOR_THREAD_NICE_STEPS;
    const lowered = (): string[] => threadsAtNice(expected);
    assert.equal(SIMULATOR_THREAD_NICE_STEPS, 10);
    assert.deepEqual(lowered(), [], 'no thread of this process at the lowered level before');
    const sim = await startSimulatorThread(
      { symbols: ['BTC/USDT'], historyDays: 0, seed: 3 },
      LOG,
      failOnError,
    );
    try {
      // The simulator's thread, and no other of the process, runs at the lowered level.
      const threads = lowered();
      assert.equal(threads.length, 1, `threads at nice ${expected}: ${threads.join(', ')}`);
      assert.notEqual(threads[0], String(process.pid));
    } finally {
      await sim.close();
    }
  });

  it("hands its warnings to the process's recent-logs ring, and answers a target that is no URL with 400", async () => {
    const ring = new LogRing(10);
    const sim = await startSimulatorThread(
      { symbols: ['BTC/USDT'], historyDays: 0, seed: 3 },
      // Warnings also reach stderr, as in the process; the test's output shows this one.
      { level: 'warn', format: 'json', recent: ring },
      failOnError,
    );
    /** The status line of the answer to a raw request. */
    const statusOf = (request: string): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(sim.port, '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('error', reject);
        socket.on('close', () => resolve(answer.split('\r\n', 1)[0] ?? ''));
        socket.end(request);
      });
    try {
      // An absolute-form target that Node's HTTP parser lets through and the URL parser refuses.
      const target = 'http://[';
      assert.equal(
        await statusOf(`GET ${target} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n`),
        'HTTP/1.1 400 Bad Request',
      );
      // As a WebSocket upgrade it threw in the upgrade handler, which ended the simulator.
      const upgrade =
        'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
      assert.equal(
        await statusOf(`GET ${target} HTTP/1.1\r\nHost: sim\r\n${upgrade}\r\n`),
        'HTTP/1.1 400 Bad Request',
      );
      assert.equal((await getJson(`${sim.urls.binance.restUrl}/api/v3/ping`)).status, 200, 'still serving');
    } finally {
      await sim.close();
    }
    // The thread has ended: what it posted before has been delivered.
    const entries = ring.recent();
    assert.equal(entries.length, 2);
    for (const entry of entries) {
      assert.equal(entry.level, 'warn');
      assert.equal(entry.msg, 'sim: bad request target');
      assert.deepEqual([entry.fields['role'], entry.fields['target']], ['sim', 'http://[']);
    }
  });

  it("rejects with the simulator's own error when it cannot listen", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      await assert.rejects(
        startSimulatorThread({ symbols: ['BTC/USDT'], historyDays: 0, port }, LOG, failOnError),
        /EADDRINUSE/,
      );
      await assert.rejects(
        startSimulatorThread({ symbols: ['btc'], historyDays: 0 }, LOG, failOnError),
        /symbol "btc" is not canonical/,
      );
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
