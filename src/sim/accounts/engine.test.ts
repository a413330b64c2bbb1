import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { add, compare, eq, mul, parseDecimal, sub, toPlainString } from '../../domain/decimal.ts';
import { SimMarket } from '../market/market.ts';
import { symbolSpec } from '../market/symbol-specs.ts';
import { SimAccount, type SimAccountEvent, type SimAccountSettings } from './engine.ts';
import { SimTrader } from './trader.ts';

const START = Date.UTC(2026, 0, 5, 7, 0, 0);
const d = parseDecimal;

const SETTINGS: SimAccountSettings = {
  currency: 'USDT',
  initialBalance: d('10000'),
  makerFeeRate: d('0.0002'),
  takerFeeRate: d('0.0006'),
  maintenanceMarginRate: d('0.004'),
  fundingRate: d('0.0001'),
  fundingPeriodMs: 8 * 3_600_000,
  defaultLeverage: 10,
  defaultMarginMode: 'cross',
};

function setup(settings: Partial<SimAccountSettings> = {}, seed = 3) {
  const market = new SimMarket({
    spec: symbolSpec('BTC/USDT'),
    seed,
    nowMs: START,
    historyDays: 0,
    tradeWindowMs: 3_600_000,
    tradesPerSecond: 5,
  });
  const account = new SimAccount('a', { ...SETTINGS, ...settings }, [{ symbol: 'BTC/USDT', market }], START);
  const events: SimAccountEvent[] = [];
  account.subscribe((e) => events.push(e));
  let now = START;
  const step = (ms: number): void => {
    now += ms;
    market.advanceTo(now);
    account.advanceTo(now);
  };
  return { market, account, events, step, now: () => now };
}

describe('simulated account engine', () => {
  test('a resting limit order fills as a maker when trades reach it, partially first', () => {
    const { account, events, step } = setup();
    const mark = account.mark('BTC/USDT');
    const price = sub(mark, d('20'));
    const order = account.placeOrder({
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      size: d('0.5'),
      price,
    });
    assert.deepEqual(account.openOrders(), [order]);
    for (let i = 0; i < 24 * 60 && order.status !== 'filled'; i++) step(60_000);
    assert.equal(order.status, 'filled');
    const fills = account.fills.filter((f) => f.order === order);
    assert.ok(fills.length > 1, 'a 0.5 BTC order fills against several trades');
    assert.ok(
      events.some((e) => e.kind === 'order' && e.order === order),
      'order events',
    );
    for (const f of fills) {
      assert.ok(eq(f.price, price));
      assert.equal(f.liquidity, 'maker');
      assert.ok(eq(f.fee, mul(mul(f.price, f.size), d('0.0002'))));
    }
    const position = account.position('BTC/USDT');
    assert.ok(position !== undefined && eq(position.size, d('0.5')) && eq(position.entryPrice, price));
  });

  test('open and close: realized PnL and fees move the balance exactly', () => {
    const { account, step } = setup();
    account.placeOrder({ symbol: 'BTC/USDT', side: 'buy', type: 'market', size: d('0.1') });
    const entry = account.position('BTC/USDT')?.entryPrice;
    assert.ok(entry !== undefined);
    step(600_000);
    const exit = account.mark('BTC/USDT');
    account.placeOrder({
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'market',
      size: d('0.1'),
      reduceOnly: true,
    });
    assert.equal(account.position('BTC/USDT'), undefined);
    const fees = mul(add(mul(entry, d('0.1')), mul(exit, d('0.1'))), d('0.0006'));
    const expected = sub(add(d('10000'), mul(sub(exit, entry), d('0.1'))), fees);
    assert.ok(eq(account.balance, expected), toPlainString(account.balance));
    assert.equal(account.closedPositions[0]?.status, 'closed');
  });

  test('an order beyond the margin is rejected', () => {
    const { account } = setup();
    const order = account.placeOrder({ symbol: 'BTC/USDT', side: 'buy', type: 'market', size: d('5') });
    assert.equal(order.status, 'rejected');
    assert.equal(order.reason, 'insufficient_margin');
    assert.equal(account.position('BTC/USDT'), undefined);
  });

  test('a position is liquidated when the mark crosses its liquidation price', () => {
    const { account, events, step } = setup({ maintenanceMarginRate: d('0.0099') });
    account.placeOrder({
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      size: d('0.1'),
      leverage: 100,
      marginMode: 'isolated',
    });
    const position = account.position('BTC/USDT');
    assert.ok(position !== undefined);
    const liq = account.liquidationPrice(position);
    assert.ok(liq !== undefined && compare(liq, position.entryPrice) < 0);
    for (let i = 0; i < 24 * 60 && position.status === 'open'; i++) step(60_000);
    assert.equal(position.status, 'liquidated');
    const fill = account.fills.at(-1);
    assert.ok(fill?.liquidation === true && compare(fill.price, liq) <= 0);
    assert.ok(events.some((e) => e.kind === 'liquidation'));
  });

  test('funding is paid at each period boundary: size × mark × rate', () => {
    const { account, events, step } = setup({ fundingPeriodMs: 3_600_000 });
    account.placeOrder({ symbol: 'BTC/USDT', side: 'buy', type: 'market', size: d('0.01') });
    const before = account.balance;
    step(3_600_000);
    const funding = events.find((e) => e.kind === 'funding');
    assert.ok(funding?.kind === 'funding');
    assert.ok(compare(funding.amount, d('0')) < 0, 'a long pays a positive rate');
    assert.ok(eq(account.balance, add(before, funding.amount)));
    assert.ok(eq(funding.position.netFunding, funding.amount));
  });

  test('the trader tells the same story for the same seed, however the clock is stepped', () => {
    const story = (stepMs: number): string[] => {
      const { account, step } = setup({}, 11);
      account.schedule(new SimTrader(account, { seed: 99, meanIntervalMs: 20_000 }));
      for (let t = 0; t < 3_600_000; t += stepMs) step(stepMs);
      return account.orders().map((o) => `${o.seq} ${o.side} ${o.type} ${o.status} ${toPlainString(o.size)}`);
    };
    const a = story(1_000);
    const b = story(60_000);
    assert.deepEqual(a, b);
    assert.ok(a.length > 20, `the trader acted (${a.length} orders)`);
    assert.ok(
      a.some((s) => s.includes(' filled')),
      'orders filled',
    );
    assert.ok(
      a.some((s) => s.includes('rejected')),
      'some orders were rejected',
    );
  });
});
