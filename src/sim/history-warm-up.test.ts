import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MINUTE_MS } from '../domain/interval.ts';
import { HISTORY_SLICE_MINUTES, HistoryWarmUp } from './history-warm-up.ts';
import { SimMarket } from './market/market.ts';
import { symbolSpec } from './market/symbol-specs.ts';

const NOW = Date.UTC(2026, 11, 5, 6, 0, 0);

/** A market with three days of history before a 30-minute window: more than two slices. */
function market(symbol: string): SimMarket {
  return new SimMarket({
    spec: symbolSpec(symbol),
    seed: 3,
    nowMs: NOW,
    historyDays: 3,
    tradeWindowMs: 30 * MINUTE_MS,
    tradesPerSecond: 1,
  });
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const failOnError = (err: unknown): never => assert.fail(String(err));

describe('HistoryWarmUp', () => {
  it('generates every market in slices of HISTORY_SLICE_MINUTES, one slice per turn', async () => {
    assert.ok(3 * 1440 > 2 * HISTORY_SLICE_MINUTES, 'three days are more than two slices');
    const markets = [market('BTC/USDT'), market('ETH/USDT')];
    const warmUp = new HistoryWarmUp(failOnError);
    const done = warmUp.all(markets);
    await nextTurn();
    await nextTurn();
    assert.equal(markets[0]?.historyComplete, false, 'two turns are not enough for one market');
    assert.deepEqual(await done, 2);
    assert.ok(HistoryWarmUp.complete(markets));
    assert.equal(await warmUp.all(markets), 0, 'nothing is generated twice');
  });

  it('generates the markets a waiter wants before the rest', async () => {
    const [a, b, c] = [market('BTC/USDT'), market('ETH/USDT'), market('SOL/USDT')];
    const warmUp = new HistoryWarmUp(failOnError);
    const all = warmUp.all([a, b, c]);
    await nextTurn();
    await warmUp.whenComplete([c]);
    assert.equal(c.historyComplete, true);
    assert.equal(b.historyComplete, false, 'the market wanted went first');
    assert.equal(await all, 3);
    assert.ok(HistoryWarmUp.complete([a, b, c]));
  });

  it('releases every waiter when stopped, and generates nothing more', async () => {
    const markets = [market('BTC/USDT'), market('ETH/USDT')];
    const warmUp = new HistoryWarmUp(failOnError);
    const wanted = warmUp.whenComplete(markets);
    const all = warmUp.all(markets);
    warmUp.stop();
    await Promise.all([wanted, all]);
    await nextTurn();
    await nextTurn();
    assert.equal(HistoryWarmUp.complete(markets), false);
    await warmUp.whenComplete(markets); // resolves at once once stopped
  });

  it('stops and reports when a generation throws, releasing the waiters', async () => {
    const broken = market('BTC/USDT');
    broken.generateHistory = () => {
      throw new Error('broken market');
    };
    const errors: unknown[] = [];
    const warmUp = new HistoryWarmUp((err) => errors.push(err));
    await warmUp.whenComplete([broken]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /broken market/);
    assert.equal(broken.historyComplete, false);
  });
});
