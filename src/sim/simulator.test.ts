import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simulatorBanner, startSimulator } from './simulator.ts';
import { getJson, RecordingClient } from './test-kit.ts';

const live = (): string[] =>
  process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'FSReqCallback');

describe('startSimulator', () => {
  it('serves each venue under its prefix and names the URLs in the banner', async () => {
    const sim = await startSimulator({ symbols: ['BTC/USDT'], historyDays: 0 });
    try {
      assert.equal(sim.urls.binance.wsUrl, `ws://127.0.0.1:${sim.port}/binance`);
      assert.equal(sim.urls.binance.restUrl, `http://127.0.0.1:${sim.port}/binance`);
      const banner = simulatorBanner(sim, ['BTC/USDT']);
      assert.match(banner, new RegExp(`BINANCE_WS_URL=ws://127\\.0\\.0\\.1:${sim.port}/binance`));
      assert.match(banner, new RegExp(`BINANCE_REST_URL=http://127\\.0\\.0\\.1:${sim.port}/binance`));
      assert.match(banner, /SYMBOLS=BTC\/USDT/);
      assert.equal((await getJson(`http://127.0.0.1:${sim.port}/kraken/api`)).status, 404);
    } finally {
      await sim.close();
    }
  });

  it('rejects invalid options with a message naming the option', async () => {
    await assert.rejects(startSimulator({ symbols: [] }), /symbols/);
    await assert.rejects(startSimulator({ symbols: ['btcusdt'] }), /canonical/);
    await assert.rejects(startSimulator({ symbols: ['BTC/USDT'], historyDays: -1 }), /historyDays/);
    await assert.rejects(
      startSimulator({ symbols: ['BTC/USDT'], tradesPerSecond: Number.NaN }),
      /tradesPerSecond/,
    );
    await assert.rejects(startSimulator({ symbols: ['BTC/USDT'], tradeWindowMs: 10 }), /tradeWindowMs/);
  });

  it('leaves no handle behind after close, even with clients connected', async () => {
    const baseline = live().length;
    const sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      historyDays: 0.05,
      tradesPerSecond: 20,
    });
    const client = new RecordingClient(
      `${sim.urls.binance.wsUrl}/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m`,
    );
    await client.waitFor((f): f is object => typeof f === 'object' && f !== null && 'stream' in f);
    assert.equal((await getJson(`${sim.urls.binance.restUrl}/api/v3/ping`)).status, 200);
    sim.faults.pauseStream(undefined, 60_000);
    assert.ok(live().length > baseline);
    await sim.close();
    await client.closed;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(live().slice(baseline), [], `still active: ${live().join(', ')}`);
    // close is idempotent.
    await sim.close();
  });
});
