import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDecimal, sub, toPlainString } from '../../domain/decimal.ts';
import { SimMarket } from '../market/market.ts';
import { symbolSpec } from '../market/symbol-specs.ts';
import { SIM_ACCOUNT_RETENTION, SimAccount, type SimAccountRetention, type SimOrder } from './engine.ts';
import { SimTrader } from './trader.ts';

// A simulated account keeps bounded history (src/sim/README.md, "Accounts"): the newest finished orders, fills
// and closed positions, and a window of PnL points; working orders are never dropped.
const START = Date.UTC(2026, 0, 5, 7, 0, 0);
const HOUR = 3_600_000;
const d = parseDecimal;

function setup(retention: Partial<SimAccountRetention>, trader = true) {
  const market = new SimMarket({
    spec: symbolSpec('BTC/USDT'),
    seed: 11,
    nowMs: START,
    historyDays: 0,
    tradeWindowMs: HOUR,
    tradesPerSecond: 5,
  });
  const account = new SimAccount(
    'a',
    {
      currency: 'USDT',
      initialBalance: d('10000'),
      makerFeeRate: d('0.0002'),
      takerFeeRate: d('0.0006'),
      maintenanceMarginRate: d('0.004'),
      fundingRate: d('0.0001'),
      fundingPeriodMs: 8 * HOUR,
      defaultLeverage: 10,
      defaultMarginMode: 'cross',
      retention,
    },
    [{ symbol: 'BTC/USDT', market }],
    START,
  );
  if (trader) account.schedule(new SimTrader(account, { seed: 99, meanIntervalMs: 20_000 }));
  let now = START;
  const step = (ms: number): void => {
    now += ms;
    market.advanceTo(now);
    account.advanceTo(now);
  };
  return { account, step };
}

describe('simulated account history is bounded', () => {
  test('defaults: about a day of the seeded trader, a month of PnL points', () => {
    assert.deepEqual(SIM_ACCOUNT_RETENTION, {
      finishedOrders: 2_000,
      fills: 2_000,
      closedPositions: 500,
      pnlWindowMs: 30 * 24 * HOUR,
    });
    assert.throws(() => setup({ fills: 0 }), /retention\.fills must be a positive integer/);
  });

  test('keeps the newest finished orders, fills and closed positions, every working order, a PnL window', () => {
    const keep = { finishedOrders: 15, fills: 12, closedPositions: 3, pnlWindowMs: 2 * HOUR };
    const bounded = setup(keep);
    const full = setup({});
    for (let t = 0; t < 6 * HOUR; t += 60_000) {
      bounded.step(60_000);
      full.step(60_000);
    }
    const b = bounded.account;
    const f = full.account;
    assert.ok(f.fills.length > keep.fills, `enough fills to trim (${f.fills.length})`);
    assert.ok(f.closedPositions.length > keep.closedPositions, 'enough closed positions to trim');
    // Fills: the newest ones, the same as the unbounded account's tail.
    assert.equal(b.fills.length, keep.fills);
    const key = (x: { seq: number; time: number; price: { coef: bigint; scale: number } }): string =>
      `${x.seq} ${x.time} ${toPlainString(x.price)}`;
    assert.deepEqual(b.fills.map(key), f.fills.slice(-keep.fills).map(key));
    // Orders: every working order, and the newest finished ones in placement order.
    const finished = (list: readonly SimOrder[]): SimOrder[] =>
      list.filter((o) => o.status !== 'open' && o.status !== 'partially_filled');
    assert.equal(finished(b.orders()).length, keep.finishedOrders);
    for (const o of b.openOrders()) assert.ok(b.orders().includes(o), 'working orders are kept');
    assert.deepEqual(
      b.openOrders().map((o) => o.seq),
      f.openOrders().map((o) => o.seq),
      'the same working orders as without trimming',
    );
    const seqs = (list: readonly { seq: number }[]) => list.map((o) => o.seq);
    assert.deepEqual(seqs(finished(b.orders())), seqs(finished(f.orders())).slice(-keep.finishedOrders));
    assert.deepEqual(
      seqs(b.orders()),
      [...seqs(b.orders())].sort((x, y) => x - y),
    );
    // Closed positions: the newest.
    assert.deepEqual(seqs(b.closedPositions), seqs(f.closedPositions).slice(-keep.closedPositions));
    // PnL points: those within the window of the newest one (hourly: 3 points over 2 h).
    const newest = b.pnlHistory.at(-1)?.time ?? 0;
    assert.ok(b.pnlHistory.every((p) => p.time >= newest - keep.pnlWindowMs));
    assert.equal(b.pnlHistory.length, 3);
    assert.ok(f.pnlHistory.length > 3);
    // Trimming changes nothing of the account's story: same balance as the unbounded account.
    assert.equal(toPlainString(b.balance), toPlainString(f.balance));
  });

  test('an old working order outlives every finished order trimmed after it', () => {
    const { account, step } = setup({ finishedOrders: 4, fills: 4, closedPositions: 2 }, false);
    const resting = account.placeOrder({
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      size: d('0.001'),
      price: sub(account.mark('BTC/USDT'), d('20000')),
    });
    for (let i = 0; i < 30; i++) {
      step(1_000);
      account.placeOrder({
        symbol: 'BTC/USDT',
        side: i % 2 === 0 ? 'buy' : 'sell',
        type: 'market',
        size: d('0.01'),
      });
    }
    assert.equal(resting.status, 'open');
    assert.equal(account.orders()[0], resting);
    assert.deepEqual(
      account.orders().map((o) => o.seq),
      [1, 28, 29, 30, 31],
    );
    assert.deepEqual(
      account.fills.map((f) => f.seq),
      [27, 28, 29, 30],
    );
    assert.deepEqual(
      account.closedPositions.map((p) => p.seq),
      [14, 15],
    );
  });
});
