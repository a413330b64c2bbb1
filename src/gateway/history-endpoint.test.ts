import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeBar } from '../../test/gateway/helpers.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { checkPhasesDuring, SlicingTurns } from '../util/turn-budget.test-support.ts';
import { answerHistoryRequest, type HistoryRules } from './history-endpoint.ts';

const T0 = Date.UTC(2024, 9, 24, 10, 0);
const M = 60_000;
const RULES: HistoryRules = { symbols: ['BTC/USDT'], maxBars: 500, defaultBars: 100, closeGraceMs: 2000 };

function store(): MemoryCandleStore {
  const s = new MemoryCandleStore();
  for (let i = 0; i < 20; i++) s.put('BTC/USDT', '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
  return s;
}

async function ask(query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await answerHistoryRequest(new URLSearchParams(query), store(), RULES, T0 + 30 * M);
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
}

function errorOf(body: Record<string, unknown>): { code: string; message: string } {
  return body['error'] as { code: string; message: string };
}

describe('answerHistoryRequest', () => {
  it('takes a limit of plain decimal digits only', async () => {
    const good = await ask('symbol=BTC/USDT&interval=1m&limit=10');
    assert.equal(good.status, 200);
    assert.equal((good.body['bars'] as unknown[]).length, 10);
    for (const limit of ['0x10', ' 10', '10 ', '1e2', '+5', '-5', '10.0', '', '0b11', '1_0', '٣']) {
      const r = await ask(`symbol=BTC/USDT&interval=1m&limit=${encodeURIComponent(limit)}`);
      assert.equal(r.status, 400, `limit=${JSON.stringify(limit)}`);
      assert.equal(errorOf(r.body).code, 'INVALID_LIMIT', `limit=${JSON.stringify(limit)}`);
      assert.equal(
        errorOf(r.body).message,
        `Invalid limit: ${limit}. Must be an integer from 1 to 500`,
        `limit=${JSON.stringify(limit)}`,
      );
    }
  });

  it('refuses an end outside the date range with a clear INVALID_END, never taking it as now', async () => {
    const last = await ask('symbol=BTC/USDT&interval=1m&limit=5&end=8640000000000000');
    assert.equal(last.status, 200, 'the last representable time is a valid end');
    assert.equal((last.body['bars'] as unknown[]).length, 5);
    for (const end of ['8640000000000001', '99999999999999999999', '9'.repeat(400)]) {
      const r = await ask(`symbol=BTC/USDT&interval=1m&end=${end}`);
      assert.equal(r.status, 400, end);
      assert.deepEqual(errorOf(r.body), {
        code: 'INVALID_END',
        message:
          `Invalid end: ${end.slice(0, 40)}. Out of the date range: at most 8640000000000000 ms ` +
          '(+275760-09-13T00:00:00.000Z)',
      });
    }
    for (const end of ['275760-09-13T00:00:00.001Z', '+275760-09-13T00:00:00.001Z', '2024-13-45', ' 1000']) {
      const r = await ask(`symbol=BTC/USDT&interval=1m&end=${encodeURIComponent(end)}`);
      assert.equal(r.status, 400, end);
      assert.equal(errorOf(r.body).code, 'INVALID_END', end);
    }
  });

  it("encodes a long answer a slice at a time under the turn budget, the loop's other work between", async () => {
    const many = new MemoryCandleStore(2000);
    for (let i = 0; i < 1000; i++) many.put('BTC/USDT', '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    const turns = new SlicingTurns();
    const rules = { ...RULES, maxBars: 1000 };
    const query = new URLSearchParams('symbol=BTC/USDT&interval=1m&limit=1000');
    const { result, phases } = await checkPhasesDuring(() =>
      answerHistoryRequest(query, many, rules, T0 + 1001 * M, undefined, undefined, turns),
    );
    assert.equal(result.status, 200);
    const bars = (JSON.parse(result.body) as { bars: { close: number }[] }).bars;
    assert.deepEqual(
      bars.map((b) => b.close),
      Array.from({ length: 1000 }, (_, i) => 100 + i),
    );
    assert.equal(turns.turns, 10, '100 bars a slice');
    assert.ok(phases >= 9, `the loop ran ${phases} check phases while the answer was encoded`);
  });
});
