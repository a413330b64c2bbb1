import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simTradeRate } from './trade-rate.ts';

describe('simulator trade rate (--trade-rate, TICKWIRE_SIM_TRADE_RATE)', () => {
  it("leaves the simulator's default when unset or empty", () => {
    assert.equal(simTradeRate(undefined), undefined);
    assert.equal(simTradeRate(''), undefined);
  });

  it('takes a number of trades per second from 0 to 1000, fractions included', () => {
    assert.equal(simTradeRate('0'), 0);
    assert.equal(simTradeRate('0.5'), 0.5);
    assert.equal(simTradeRate(' 20 '), 20);
    assert.equal(simTradeRate('1000'), 1000);
  });

  it('refuses anything else with a message naming the option and its range', () => {
    for (const bad of ['-1', '1001', 'fast', '1e3', '0x10', 'NaN', 'Infinity', '5/s']) {
      assert.match(
        String(simTradeRate(bad)),
        /^--trade-rate \(TICKWIRE_SIM_TRADE_RATE\) must be a number 0\.\.1000/,
      );
    }
  });
});
