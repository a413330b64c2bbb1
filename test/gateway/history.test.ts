import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { makeBar, startTestGateway } from './helpers.ts';

const T0 = Date.UTC(2024, 9, 24, 10, 0);
const M = 60_000;

async function get(url: string): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

describe('GET /api/candles', () => {
  it('pages history backwards by end, oldest first, with exact decimals and provenance', async (t) => {
    const store = new MemoryCandleStore();
    for (let i = 0; i < 10; i++)
      store.put('BTC/USDT', '1m', makeBar(T0 + i * M, `${100 + i}.00000001`, 3), ['okx'], i < 5);
    const g = await startTestGateway({ maxInitialBars: 1000 }, { store });
    t.after(() => g.close());
    const base = g.gateway.url.replace('ws://', 'http://') + '/api/candles';

    const newest = await get(`${base}?symbol=BTC/USDT&interval=1m&limit=4`);
    assert.equal(newest.status, 200);
    assert.equal(newest.body['symbol'], 'BTC/USDT');
    assert.equal(newest.body['interval'], '1m');
    const bars = newest.body['bars'] as Record<string, unknown>[];
    assert.deepEqual(
      bars.map((b) => b['time']),
      [6, 7, 8, 9].map((i) => new Date(T0 + i * M).toISOString()),
    );
    assert.ok(newest.text.includes('"close":109.00000001'), 'decimals are exact literals');
    assert.deepEqual(bars[0]?.['sources'], ['okx']);
    assert.equal(bars[0]?.['backfilled'], false);
    assert.equal(bars[0]?.['closed'], true, 'bars of 2024 are long closed');

    // The next page ends where this one began (ISO or ms): no bar twice, none skipped.
    const first = bars[0]?.['time'] as string;
    const older = await get(`${base}?symbol=BTC/USDT&interval=1m&limit=4&end=${encodeURIComponent(first)}`);
    assert.deepEqual(
      (older.body['bars'] as Record<string, unknown>[]).map((b) => b['time']),
      [2, 3, 4, 5].map((i) => new Date(T0 + i * M).toISOString()),
    );
    assert.equal((older.body['bars'] as Record<string, unknown>[])[0]?.['backfilled'], true);
    const byMs = await get(`${base}?symbol=BTC/USDT&interval=1m&limit=100&end=${Date.parse(first)}`);
    assert.equal((byMs.body['bars'] as unknown[]).length, 6);
    const empty = await get(`${base}?symbol=BTC/USDT&interval=5m`);
    assert.deepEqual(empty.body['bars'], []);
  });

  it('rejects a bad symbol, interval, limit or end with a documented code', async (t) => {
    const g = await startTestGateway({ maxInitialBars: 500 });
    t.after(() => g.close());
    const base = g.gateway.url.replace('ws://', 'http://') + '/api/candles';
    const cases: [string, string][] = [
      ['interval=1m', 'INVALID_SYMBOL'],
      ['symbol=DOGE/USDT&interval=1m', 'INVALID_SYMBOL'],
      ['symbol=BTC/USDT&interval=10m', 'INVALID_INTERVAL'],
      ['symbol=BTC/USDT&interval=1m&limit=0', 'INVALID_LIMIT'],
      ['symbol=BTC/USDT&interval=1m&limit=501', 'INVALID_LIMIT'],
      ['symbol=BTC/USDT&interval=1m&limit=2.5', 'INVALID_LIMIT'],
      ['symbol=BTC/USDT&interval=1m&end=yesterday', 'INVALID_END'],
    ];
    for (const [query, code] of cases) {
      const r = await get(`${base}?${query}`);
      assert.equal(r.status, 400, query);
      assert.equal((r.body['error'] as Record<string, unknown>)['code'], code, query);
      assert.equal(typeof (r.body['error'] as Record<string, unknown>)['message'], 'string');
    }
    const post = await fetch(`${base}?symbol=BTC/USDT&interval=1m`, { method: 'POST' });
    assert.equal(post.status, 405);
  });
});
