import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../util/clock.ts';
import { HistoryBudget, type HistoryBudgetLimits } from './history-budget.ts';

const LIMITS: HistoryBudgetLimits = {
  historyBarsPerSecond: 1000,
  historyBurstBars: 3000,
  historyBarsPerSecondPerIp: 2000,
  historyBurstBarsPerIp: 5000,
};

describe('HistoryBudget', () => {
  it('lets a connection spend its burst at once, then its rate per second', () => {
    const clock = new ManualClock(0);
    const connection = new HistoryBudget(LIMITS, clock).forConnection('198.51.100.7');
    for (let i = 0; i < 3; i++) assert.deepEqual(connection.charge(1000), { ok: true }, `request ${i}`);
    const refused = connection.charge(1000);
    assert.deepEqual(refused, {
      ok: false,
      retryAfterMs: 1000,
      message:
        'History budget exceeded: 1000 bars asked; this connection may read 1000 bars per second (burst 3000). ' +
        'Retry in 1 s.',
    });
    clock.advance(999);
    assert.equal(connection.charge(1000).ok, false, 'one millisecond early');
    clock.advance(1);
    assert.deepEqual(connection.charge(1000), { ok: true });
  });

  it('shares the address budget between its connections and its REST requests, charging nothing when refused', () => {
    const clock = new ManualClock(0);
    const budget = new HistoryBudget(LIMITS, clock);
    const a = budget.forConnection('198.51.100.7');
    const b = budget.forConnection('198.51.100.7');
    assert.ok(a.charge(3000).ok);
    assert.ok(b.charge(2000).ok);
    // The address has spent its 5000; b still has 1000 of its own, but not the address.
    const refused = b.charge(1000);
    assert.equal(refused.ok, false);
    assert.match(
      refused.ok ? '' : refused.message,
      /this address may read 2000 bars per second \(burst 5000\)/,
    );
    assert.equal(budget.chargeAddress('198.51.100.7', 1).ok, false);
    assert.ok(budget.chargeAddress('203.0.113.9', 5000).ok, 'another address has its own budget');
    clock.advance(500);
    // 1000 bars back for the address; b's own 1000 was not taken by the refused request.
    assert.ok(b.charge(1000).ok);
  });

  it('forgets addresses whose budget has refilled', () => {
    const clock = new ManualClock(0);
    const budget = new HistoryBudget(LIMITS, clock);
    for (let i = 0; i < 100; i++) budget.chargeAddress(`10.0.0.${i}`, 10);
    assert.equal(budget.addresses, 100);
    clock.advance(60_000);
    budget.chargeAddress('10.1.0.1', 5000);
    assert.equal(budget.addresses, 1);
  });
});
