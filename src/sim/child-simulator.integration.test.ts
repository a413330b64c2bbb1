import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LogRing } from '../telemetry/log-ring.ts';
import { mainThreadNice, threadNices } from '../util/thread-nice.test-support.ts';
import { processRunning } from '../util/process-running.ts';
import { SIMULATOR_NICE_STEPS, startChildSimulator } from './child-simulator.ts';
import { getJson } from './test-kit.ts';

const LOG = { level: 'silent', format: 'json' } as const;
const failOnError = (err: Error): never => assert.fail(err);

/** Resolves once process `pid` is gone; rejects after `ms`. */
async function gone(pid: number, ms = 30_000): Promise<void> {
  for (const start = Date.now(); processRunning(pid);) {
    if (Date.now() - start > ms) throw new Error(`process ${pid} still runs after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('startChildSimulator', () => {
  it('serves the venues from its process until closed, then the process has exited', async () => {
    const sim = await startChildSimulator(
      { symbols: ['BTC/USDT'], historyDays: 1, seed: 3 },
      LOG,
      failOnError,
    );
    let closed = false;
    try {
      assert.notEqual(sim.pid, process.pid);
      assert.equal(sim.urls.binance.restUrl, `http://127.0.0.1:${sim.port}/binance`);
      const klines = await getJson(
        `${sim.urls.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=30`,
      );
      assert.equal(klines.status, 200);
      assert.equal((klines.body as unknown[]).length, 25, 'a day of hours and the one in progress');
      // Resolves once the process has exited.
      await sim.close();
      closed = true;
      assert.equal(processRunning(sim.pid), false);
      await assert.rejects(getJson(`${sim.urls.binance.restUrl}/api/v3/ping`), 'nothing listens any more');
    } finally {
      if (!closed) await sim.close();
    }
  });

  it('runs every thread of its process SIMULATOR_NICE_STEPS nice levels below the server (Linux)', async (t) => {
    if (process.platform !== 'linux') return t.skip('per-thread nice values are Linux');
    const main = mainThreadNice();
    if (main + SIMULATOR_NICE_STEPS > 19) return t.skip(`the process already runs at nice ${main}`);
    assert.equal(SIMULATOR_NICE_STEPS, 10);
    const sim = await startChildSimulator(
      { symbols: ['BTC/USDT'], historyDays: 0, seed: 3 },
      LOG,
      failOnError,
    );
    try {
      // The main thread and the helper threads that collect its garbage and compile its code, all of them.
      const nices = threadNices(sim.pid);
      assert.ok(nices.size >= 5, `threads: ${[...nices.keys()].join(', ')}`);
      assert.deepEqual(new Set(nices.values()), new Set([main + SIMULATOR_NICE_STEPS]));
      assert.equal(mainThreadNice(), main, "the server's own level is left as it was");
    } finally {
      await sim.close();
    }
  });

  it('outlives a stop signal meant for the demo, and ends with the process that started it', async () => {
    const script = fileURLToPath(new URL('./child-simulator.test-support.ts', import.meta.url));
    const parent = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      parent.stdout.setEncoding('utf8');
      const listening = new Promise<{ pid: number; port: number }>((resolve, reject) => {
        parent.stdout.on('data', (chunk: string) => {
          out += chunk;
          const match = /^pid (\d+) port (\d+)$/m.exec(out);
          if (match !== null) resolve({ pid: Number(match[1]), port: Number(match[2]) });
        });
        parent.once('exit', (code) =>
          reject(new Error(`the starting process exited (${code}) before its simulator listened`)),
        );
      });
      const { pid, port } = await listening;
      // A terminal's Ctrl-C reaches every process of the group: the demo, not its simulator, decides what follows.
      process.kill(pid, 'SIGINT');
      process.kill(pid, 'SIGTERM');
      const ping = await getJson(`http://127.0.0.1:${port}/binance/api/v3/ping`);
      assert.equal(ping.status, 200, 'still serving after the signals');
      assert.equal(processRunning(pid), true);
      // The demo's process gone at once (a second SIGTERM, a crash, SIGKILL): its simulator follows.
      parent.kill('SIGKILL');
      await once(parent, 'exit');
      await gone(pid);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it("hands its warnings to the process's recent-logs ring, and answers a target that is no URL with 400", async () => {
    const ring = new LogRing(10);
    const sim = await startChildSimulator(
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
    // The process has exited: what it sent before has been delivered.
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
        startChildSimulator({ symbols: ['BTC/USDT'], historyDays: 0, port }, LOG, failOnError),
        /EADDRINUSE/,
      );
      await assert.rejects(
        startChildSimulator({ symbols: ['btc'], historyDays: 0 }, LOG, failOnError),
        /symbol "btc" is not canonical/,
      );
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
