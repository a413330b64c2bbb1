import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type Simulator } from '../simulator.ts';

describe('Bitget simulator REST', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT'],
      historyDays: 2,
      tradesPerSecond: 5,
      bitget: { restRequestsPerSecond: 5 },
    });
  });
  after(async () => {
    await sim.close();
  });

  const get = async (
    path: string,
  ): Promise<{ status: number; body: { code: string; msg: string; data: unknown } }> => {
    const res = await fetch(`${sim.urls.bitget.restUrl}${path}`);
    return { status: res.status, body: (await res.json()) as { code: string; msg: string; data: unknown } };
  };

  test('envelopes, Bitget error codes, row widths, idLessThan paging and the request limit', async () => {
    const spot = await get('/api/v2/spot/market/candles?symbol=BTCUSDT&granularity=1min&limit=2');
    assert.equal(spot.body.code, '00000');
    assert.equal((spot.body.data as string[][])[0]?.length, 8);
    const mix = await get(
      '/api/v2/mix/market/candles?symbol=BTCUSDT&productType=USDT-FUTURES&granularity=1H&limit=2',
    );
    assert.equal((mix.body.data as string[][])[0]?.length, 7);
    const bad = await get('/api/v2/spot/market/candles?symbol=BTCUSDT&granularity=1m');
    assert.deepEqual([bad.status, bad.body.code], [400, '40020']);
    await new Promise((r) => setTimeout(r, 1_000));
    const page1 = await get('/api/v2/spot/market/fills-history?symbol=BTCUSDT&limit=5');
    const ids = (page1.body.data as { tradeId: string; side: string }[]).map((t) => t.tradeId);
    assert.equal(ids.length, 5);
    assert.ok((page1.body.data as { side: string }[]).every((t) => t.side === 'Buy' || t.side === 'Sell'));
    const page2 = await get(
      `/api/v2/spot/market/fills-history?symbol=BTCUSDT&limit=5&idLessThan=${ids.at(-1)}`,
    );
    const ids2 = (page2.body.data as { tradeId: string }[]).map((t) => t.tradeId);
    assert.ok(ids2.every((id) => BigInt(id) < BigInt(ids.at(-1) as string)));
    const missing = await get('/api/v2/spot/market/fills-history?limit=5');
    assert.deepEqual([missing.status, missing.body.code], [400, '40019']);
    const burst = await Promise.all(Array.from({ length: 12 }, () => get('/api/v2/public/time')));
    const limited = burst.find((r) => r.status === 429);
    assert.equal(limited?.body.code, '429');
    await new Promise((r) => setTimeout(r, 1_000));
    const unknown = await get('/api/v2/spot/market/nothing');
    assert.deepEqual([unknown.status, unknown.body.code], [404, '40404']);
  });
});
