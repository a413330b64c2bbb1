import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { startSimulatorThread } from './threaded-simulator.ts';
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
