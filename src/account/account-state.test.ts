import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccountRef, Fill } from '../domain/account.ts';
import type { Alert } from '../domain/alert.ts';
import { add, parseDecimal, toPlainString, ZERO } from '../domain/decimal.ts';
import { MemoryAccountStore } from '../store/account-memory-store.ts';
import type { AccountStore } from '../store/account-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { AccountState, type AccountStateOptions } from './account-state.ts';
import {
  fill,
  fillsEvent,
  order,
  plainPerformance,
  position,
  snapshotEvent,
  summary,
} from './account.test-support.ts';
import type { AccountChange } from './contract.ts';

const ACCOUNT: AccountRef = { id: 'demo-bitget', venue: 'bitget' };
const MIN = 60_000;
/** 2024-03-01T23:50:00Z: ten minutes before a UTC midnight. */
const T0 = Date.UTC(2024, 2, 1, 23, 50);
const MIDNIGHT = Date.UTC(2024, 2, 2);

interface Harness {
  state: AccountState;
  clock: ManualClock;
  store: AccountStore;
  changes: AccountChange[];
  alerts: Alert[];
}

async function harness(
  options: Partial<AccountStateOptions> & { time?: number; store?: AccountStore } = {},
): Promise<Harness> {
  const clock = new ManualClock(options.time ?? T0);
  const store = options.store ?? new MemoryAccountStore();
  const alerts: Alert[] = [];
  const state = new AccountState({
    account: ACCOUNT,
    clock,
    store,
    logger: silentLogger(),
    onAlert: (a) => alerts.push(a),
    ...options,
  });
  await state.restore();
  state.start();
  const changes: AccountChange[] = [];
  state.subscribe((c) => changes.push(c));
  return { state, clock, store, changes, alerts };
}

const figures = (h: Harness): ReturnType<typeof plainPerformance> =>
  plainPerformance(h.state.view().performance);

describe('AccountState', () => {
  it('holds positions and derives equity, unrealized PnL, exposure and open positions', async () => {
    const h = await harness();
    h.state.apply(
      snapshotEvent(
        '10000',
        [
          position('BTC/USDT', { size: '0.5', entry: '60000', mark: '62000', unrealized: '1000' }),
          position('ETH/USDT', { side: 'short', size: '2', entry: '3000', mark: '3100', unrealized: '-200' }),
        ],
        T0,
      ),
    );
    const p = figures(h);
    assert.equal(p['totalValue'], '10000');
    assert.equal(p['unrealizedPnl'], '800');
    // (0.5 × 62000 + 2 × 3100) / 10000 = 37200 / 10000
    assert.equal(p['exposure'], '3.72');
    assert.equal(p['openPositions'], 2);
    assert.equal(h.state.view().sequence, 1);
    assert.deepEqual([...(h.changes[0]?.parts ?? [])].sort(), [
      'balances',
      'orders',
      'performance',
      'positions',
      'summary',
    ]);
  });

  it('replaces a complete position list (a missing position has ended) and upserts a partial one', async () => {
    const h = await harness();
    h.state.apply(snapshotEvent('1000', [position('BTC/USDT'), position('ETH/USDT')], T0));
    h.state.apply({
      kind: 'positions',
      complete: true,
      positions: [position('ETH/USDT', { size: '2' })],
      time: T0,
    });
    assert.deepEqual(
      h.state.view().positions.map((p) => [p.symbol, toPlainString(p.size)]),
      [['ETH/USDT', '2']],
    );
    h.state.apply({ kind: 'positions', complete: false, positions: [position('SOL/USDT')], time: T0 });
    assert.deepEqual(
      h.state.view().positions.map((p) => p.symbol),
      ['ETH/USDT', 'SOL/USDT'],
    );
    h.state.apply({
      kind: 'positionEnded',
      symbol: 'SOL/USDT',
      side: 'long',
      end: 'liquidated',
      time: T0 + 1,
    });
    assert.deepEqual(
      h.state.view().positions.map((p) => p.symbol),
      ['ETH/USDT'],
    );
    assert.deepEqual(
      h.alerts.map((a) => [a.kind, a.symbol, a.account, a.severity]),
      [
        ['position_closed', 'BTC/USDT', 'demo-bitget', 'info'],
        ['position_liquidated', 'SOL/USDT', 'demo-bitget', 'critical'],
      ],
    );
  });

  it('keeps open orders only: a final status removes the order; a rejection alerts once', async () => {
    const h = await harness();
    h.state.apply({ kind: 'order', order: order('a', 'open') });
    h.state.apply({ kind: 'order', order: order('b', 'partially_filled') });
    h.state.apply({ kind: 'order', order: order('a', 'filled') });
    h.state.apply({ kind: 'order', order: order('c', 'rejected', T0, 'insufficient margin') });
    h.state.apply({ kind: 'order', order: order('c', 'rejected', T0, 'insufficient margin') });
    assert.deepEqual(
      h.state.view().openOrders.map((o) => o.orderId),
      ['b'],
    );
    assert.deepEqual(
      h.alerts.map((a) => [a.kind, a.details?.['orderId'], a.details?.['reason']]),
      [['order_rejected', 'c', 'insufficient margin']],
    );
  });

  it('counts a fill once when a REST reconcile repeats it, and changes nothing for a pure repeat', async () => {
    const h = await harness();
    const f1 = fill('1', { side: 'buy', price: '100', size: '1', fee: '0.1', time: T0 });
    const f2 = fill('2', { side: 'buy', price: '101', size: '1', fee: '0.2', time: T0 + 1 });
    const f3 = fill('3', { side: 'sell', price: '102', size: '2', fee: '0.3', time: T0 + 2 });
    h.state.apply(fillsEvent([f1, f2]));
    h.state.apply(fillsEvent([f3, f2, f1, f3], 'rest'));
    const sequence = h.state.view().sequence;
    h.state.apply(fillsEvent([f1, f2, f3], 'rest'));
    assert.equal(h.state.view().sequence, sequence, 'nothing new: no change, no sequence bump');
    assert.deepEqual(
      h.changes.map((c) => c.newFills.map((f) => f.fillId)),
      [['1', '2'], ['3']],
    );
    assert.equal(figures(h)['feesPaid'], '0.6');
    // (102 − 100.5) × 2 = 3; the trip's PnL 3 − 0.6 > 0
    assert.equal(figures(h)['realizedPnl'], '3');
    assert.equal(figures(h)['wins'], 1);
    await h.state.flushed();
    assert.deepEqual(
      (await h.store.fills(ACCOUNT.id, {})).map((f) => f.fillId),
      ['1', '2', '3'],
    );
  });

  it("accumulates Bitget's fees as paid (its negative numbers already negated), a rebate reducing them", async () => {
    const h = await harness();
    // Bitget sends fee "-0.39" (paid) and "0.01" (rebate); its adapter hands over 0.39 and -0.01.
    h.state.apply(
      fillsEvent([
        fill('t', { side: 'buy', price: '65000', size: '0.01', fee: '0.39' }),
        fill('m', { side: 'buy', price: '65000', size: '0.01', fee: '-0.01', time: 1 }),
      ]),
    );
    assert.equal(figures(h)['feesPaid'], '0.38');
  });

  it('computes the win rate over closed round trips, a break-even trip counting for neither side', async () => {
    const h = await harness();
    let t = T0;
    const f = (id: string, spec: Omit<Parameters<typeof fill>[1], 'time'>): Fill =>
      fill(id, { ...spec, time: t++ });
    h.state.apply(
      fillsEvent([
        // A: long 1 @ 100 → 110: realized 10, fees 2 → +8, a win.
        f('a1', { side: 'buy', price: '100', size: '1', fee: '1' }),
        f('a2', { side: 'sell', price: '110', size: '1', fee: '1' }),
        // B: long 2 @ 100 → 100.5: realized 1, fees 1 → 0, break-even.
        f('b1', { side: 'buy', price: '100', size: '2', fee: '0.5' }),
        f('b2', { side: 'sell', price: '100.5', size: '2', fee: '0.5' }),
        // C: short 1 on ETH @ 50 → 52: realized −2, fees 0.2 → −2.2, a loss.
        f('c1', { side: 'sell', price: '50', size: '1', fee: '0.1', symbol: 'ETH/USDT' }),
        f('c2', { side: 'buy', price: '52', size: '1', fee: '0.1', symbol: 'ETH/USDT' }),
        // D: long 1 @ 100 + 1 @ 110 (entry 105), out 0.5 @ 120 (+7.5) and 1.5 @ 104 (−1.5): +6, a win.
        f('d1', { side: 'buy', price: '100', size: '1' }),
        f('d2', { side: 'buy', price: '110', size: '1' }),
        f('d3', { side: 'sell', price: '120', size: '0.5' }),
        f('d4', { side: 'sell', price: '104', size: '1.5' }),
      ]),
    );
    const p = figures(h);
    assert.equal(p['wins'], 2);
    assert.equal(p['losses'], 1);
    assert.equal(p['winRate'], '0.66666667');
    assert.equal(p['realizedPnl'], '15');
    assert.equal(p['feesPaid'], '3.2');
  });

  it('uses the realized PnL the venue reports, and closes a trip on a flip, opening the opposite one', async () => {
    const h = await harness();
    h.state.apply(
      fillsEvent([
        fill('1', { side: 'buy', price: '100', size: '1', time: T0 }),
        // Sells 3: closes the long 1 (venue says −9.5) and opens a short 2 @ 90.
        fill('2', { side: 'sell', price: '90', size: '3', realizedPnl: '-9.5', time: T0 + 1 }),
        // Buys back 2 @ 80: +20, a win.
        fill('3', { side: 'buy', price: '80', size: '2', time: T0 + 2 }),
        // A close of a position opened before tracking: its PnL counts, it makes no trip.
        fill('4', {
          side: 'sell',
          price: '10',
          size: '5',
          realizedPnl: '4',
          symbol: 'XRP/USDT',
          time: T0 + 3,
        }),
      ]),
    );
    const p = figures(h);
    assert.deepEqual([p['wins'], p['losses'], p['realizedPnl']], [1, 1, '14.5']);
  });

  it('measures daily PnL over the UTC day, fees included, across midnight', async () => {
    const h = await harness();
    h.state.apply(snapshotEvent('10000', [position('BTC/USDT', { unrealized: '100' })], T0));
    assert.equal(figures(h)['dailyPnl'], '0', 'the day starts at the first unrealized PnL seen');
    h.clock.advanceTo(T0 + 5 * MIN);
    h.state.apply(
      fillsEvent([fill('1', { side: 'buy', price: '60000', size: '1', fee: '6', time: T0 + 5 * MIN })]),
    );
    assert.equal(figures(h)['dailyPnl'], '-6');
    h.clock.advanceTo(T0 + 8 * MIN);
    h.state.apply({
      kind: 'positions',
      complete: true,
      positions: [position('BTC/USDT', { unrealized: '300' })],
      time: h.clock.now(),
    });
    assert.equal(figures(h)['dailyPnl'], '194', '−6 + (300 − 100)');
    const before = h.changes.length;
    h.clock.advanceTo(MIDNIGHT);
    assert.equal(h.changes.length, before + 1, 'subscribers hear the new day at midnight');
    assert.equal(figures(h)['dailyPnl'], '0', 'a new day: 300 is its starting unrealized PnL');
    h.clock.advanceTo(MIDNIGHT + MIN);
    h.state.apply(
      fillsEvent([
        fill('2', {
          side: 'sell',
          price: '60500',
          size: '0.5',
          fee: '3.025',
          realizedPnl: '250',
          time: MIDNIGHT + MIN,
        }),
      ]),
    );
    assert.equal(figures(h)['dailyPnl'], '246.975');
    h.state.apply({
      kind: 'positions',
      complete: true,
      positions: [position('BTC/USDT', { size: '0.5', unrealized: '150' })],
      time: h.clock.now(),
    });
    assert.equal(figures(h)['dailyPnl'], '96.975', '246.975 + (150 − 300)');
    // A fill of yesterday arriving late counts for yesterday, not today (but its fee is paid all the same).
    h.state.apply(
      fillsEvent(
        [fill('3', { side: 'buy', price: '60000', size: '0.01', fee: '1', time: MIDNIGHT - 30_000 })],
        'rest',
      ),
    );
    assert.equal(figures(h)['dailyPnl'], '96.975');
    assert.equal(figures(h)['feesPaid'], '10.025');
    await h.state.flushed();
    const midnightPoint = (await h.store.equity(ACCOUNT.id, {})).find((p) => p.time === MIDNIGHT);
    assert.equal(midnightPoint?.unrealizedPnl && toPlainString(midnightPoint.unrealizedPnl), '300');
  });

  it('rolls to the new day on the first event after midnight even without its timer', async () => {
    const clock = new ManualClock(T0);
    const state = new AccountState({
      account: ACCOUNT,
      clock,
      store: new MemoryAccountStore(),
      logger: silentLogger(),
    });
    state.apply(snapshotEvent('100', [position('BTC/USDT', { unrealized: '5' })], T0));
    state.apply(fillsEvent([fill('1', { side: 'buy', price: '1', size: '1', fee: '1', time: T0 })]));
    assert.equal(toPlainString(state.view().performance.dailyPnl), '-1');
    clock.advanceTo(MIDNIGHT + 1);
    assert.equal(toPlainString(state.view().performance.dailyPnl), '0');
  });

  it('measures the max drawdown of the sampled equity curve, sampled each period when it moved', async () => {
    const h = await harness({ time: T0 - 12 * 60 * MIN });
    for (const equity of ['100', '120', '90', '130', '104']) {
      h.state.apply({ kind: 'summary', summary: summary(equity, h.clock.now()) });
      h.clock.advance(MIN);
    }
    // Peak 120, trough 90: 30 / 120 = 0.25; later 130 → 104 is only 0.2.
    assert.equal(figures(h)['maxDrawdown'], '0.25');
    await h.state.flushed();
    const curve = await h.store.equity(ACCOUNT.id, {});
    assert.deepEqual(
      curve.map((p) => toPlainString(p.equity)),
      ['100', '120', '90', '130', '104'],
    );
    h.clock.advance(10 * MIN);
    await h.state.flushed();
    assert.equal((await h.store.equity(ACCOUNT.id, {})).length, 5, 'no sample while the equity stands still');
  });

  it('alerts once when a liquidation price comes near the mark, and again only after it moved away', async () => {
    const h = await harness({ liquidationAlertDistance: parseDecimal('0.05') });
    const at = (mark: string): void =>
      h.state.apply({
        kind: 'positions',
        complete: true,
        positions: [position('BTC/USDT', { mark, liquidation: '95' })],
        time: h.clock.now(),
      });
    at('120'); // (120 − 95) / 120 ≈ 0.21: far
    at('100'); // 5 / 100 = 0.05: near
    at('99'); // still near: no second alert
    at('110'); // far again
    at('98'); // near again
    const near = h.alerts.filter((a) => a.kind === 'liquidation_near');
    assert.deepEqual(
      near.map((a) => a.details?.['distance']),
      ['0.05', '0.03061224'],
    );
    assert.ok(near.every((a) => a.account === 'demo-bitget'));
  });

  it("passes a source's alert through with the account and venue set", async () => {
    const h = await harness();
    h.state.alert({ severity: 'warning', kind: 'account_login_failed', message: 'login refused (30005)' });
    assert.deepEqual(
      h.alerts.map((a) => [a.kind, a.account, a.venue, a.time]),
      [['account_login_failed', 'demo-bitget', 'bitget', T0]],
    );
  });

  it('keeps its invariants over thousands of random events, and a restart gives the same performance', async () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const store = new MemoryAccountStore();
    const h = await harness({ store });
    const symbols = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
    const allFills: Fill[] = [];
    const unique = new Map<string, Fill>();
    let lastSequence = 0;
    h.state.subscribe((c) => {
      assert.ok(c.view.sequence > lastSequence, 'sequence grows with every change');
      lastSequence = c.view.sequence;
    });
    for (let i = 0; i < 4000; i++) {
      h.clock.advance(Math.floor(random() * 20_000));
      const now = h.clock.now();
      const r = random();
      if (r < 0.35) {
        const batch: Fill[] = [];
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
          if (allFills.length > 0 && random() < 0.4) batch.push(pick(allFills));
          else {
            const f = fill(`f${allFills.length}`, {
              side: pick(['buy', 'sell'] as const),
              price: String(90 + Math.floor(random() * 20)),
              size: pick(['0.5', '1', '1.5']),
              fee: pick(['0.1', '0.05', '-0.01']),
              symbol: pick(symbols),
              time: now,
            });
            allFills.push(f);
            batch.push(f);
          }
        }
        for (const f of batch) unique.set(f.fillId, f);
        h.state.apply(fillsEvent(batch, pick(['stream', 'rest'] as const)));
      } else if (r < 0.55) {
        h.state.apply({
          kind: 'order',
          order: order(
            `o${Math.floor(random() * 30)}`,
            pick(['open', 'partially_filled', 'filled', 'canceled', 'rejected'] as const),
            now,
          ),
        });
      } else if (r < 0.75) {
        const positions = symbols
          .filter(() => random() < 0.5)
          .map((s) =>
            position(s, {
              size: pick(['0', '1', '2']),
              unrealized: String(Math.floor(random() * 200) - 100),
              mark: '100',
              liquidation: pick(['50', '97']),
            }),
          );
        h.state.apply({ kind: 'positions', complete: random() < 0.5, positions, time: now });
      } else if (r < 0.85) {
        h.state.apply({
          kind: 'positionEnded',
          symbol: pick(symbols),
          side: 'long',
          end: pick(['closed', 'liquidated'] as const),
          time: now,
        });
      } else {
        h.state.apply({ kind: 'summary', summary: summary(String(900 + Math.floor(random() * 300)), now) });
      }
      const view = h.state.view();
      assert.ok(view.openOrders.every((o) => o.status === 'open' || o.status === 'partially_filled'));
      assert.equal(new Set(view.openOrders.map((o) => o.orderId)).size, view.openOrders.length);
      assert.equal(new Set(view.positions.map((p) => `${p.symbol}|${p.side}`)).size, view.positions.length);
      assert.ok(view.positions.every((p) => p.size.coef !== 0n));
      assert.equal(view.performance.openPositions, view.positions.length);
    }
    const fees = [...unique.values()].reduce((sum, f) => add(sum, f.fee), ZERO);
    const before = h.state.view().performance;
    assert.equal(toPlainString(before.feesPaid), toPlainString(fees));
    await h.state.close();
    assert.equal((await store.fills(ACCOUNT.id, {})).length, unique.size);

    const restarted = new AccountState({ account: ACCOUNT, clock: h.clock, store, logger: silentLogger() });
    await restarted.restore();
    const after = restarted.view().performance;
    for (const key of ['realizedPnl', 'feesPaid', 'winRate', 'maxDrawdown'] as const) {
      assert.equal(after[key] && toPlainString(after[key]), before[key] && toPlainString(before[key]), key);
    }
    assert.deepEqual([after.wins, after.losses], [before.wins, before.losses]);
  });

  it('keeps what the store could not take and writes it once the store works again', async () => {
    const memory = new MemoryAccountStore();
    let down = true;
    const flaky: AccountStore = {
      appendFills: (a, f) =>
        down ? Promise.reject(new Error('connection refused')) : memory.appendFills(a, f),
      appendEquity: (a, p) =>
        down ? Promise.reject(new Error('connection refused')) : memory.appendEquity(a, p),
      fills: (a, q) => memory.fills(a, q),
      equity: (a, q) => memory.equity(a, q),
      close: () => memory.close(),
    };
    const h = await harness({ store: flaky, storeRetryMs: 5000 });
    h.state.apply(snapshotEvent('100', [], T0));
    h.state.apply(fillsEvent([fill('1', { side: 'buy', price: '1', size: '1', time: T0 })]));
    await h.state.flushed();
    assert.equal((await memory.fills(ACCOUNT.id, {})).length, 0);
    down = false;
    h.clock.advance(5000);
    await h.state.flushed();
    assert.deepEqual(
      (await memory.fills(ACCOUNT.id, {})).map((f) => f.fillId),
      ['1'],
    );
    assert.equal((await memory.equity(ACCOUNT.id, {})).length, 1);
  });
});
