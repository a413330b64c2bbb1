import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toPlainString } from '../domain/decimal.ts';
import { fill } from './account.test-support.ts';
import { RoundTrips } from './round-trips.ts';

describe('RoundTrips', () => {
  it('realizes against the average entry cost of a long, and counts the trip when it is flat', () => {
    const trips = new RoundTrips();
    trips.apply(fill('1', { side: 'buy', price: '100', size: '1', fee: '0.1' }));
    trips.apply(fill('2', { side: 'buy', price: '103', size: '2', fee: '0.2' }));
    // Entry cost 306 for 3: closing 1 @ 110 realizes 110 − 102 = 8.
    const partial = trips.apply(fill('3', { side: 'sell', price: '110', size: '1', fee: '0.1' }));
    assert.equal(toPlainString(partial.realizedPnl), '8');
    assert.equal(partial.closedTripPnl, undefined);
    const last = trips.apply(fill('4', { side: 'sell', price: '101', size: '2', fee: '0.2' }));
    // 2 × (101 − 102) = −2; trip: 8 − 2 − 0.6 = 5.4
    assert.equal(toPlainString(last.realizedPnl), '-2');
    assert.equal(last.closedTripPnl && toPlainString(last.closedTripPnl), '5.4');
    assert.deepEqual([trips.wins, trips.losses, trips.breakEven, trips.openTrips()], [1, 0, 0, 0]);
  });

  it('realizes a short the other way round, and splits an entry cost that does not divide evenly', () => {
    const trips = new RoundTrips();
    trips.apply(fill('1', { side: 'sell', price: '10', size: '3' }));
    trips.apply(fill('2', { side: 'sell', price: '11', size: '0' }));
    const part = trips.apply(fill('3', { side: 'buy', price: '9', size: '1' }));
    assert.equal(toPlainString(part.realizedPnl), '1');
    const rest = trips.apply(fill('4', { side: 'buy', price: '12', size: '2' }));
    assert.equal(toPlainString(rest.realizedPnl), '-4');
    assert.deepEqual([trips.wins, trips.losses], [0, 1]);
  });

  it('counts a trip of exactly zero as break-even, and ignores spot fills', () => {
    const trips = new RoundTrips();
    trips.apply(fill('1', { side: 'buy', price: '100', size: '1', fee: '1' }));
    trips.apply(fill('2', { side: 'sell', price: '102', size: '1', fee: '1' }));
    const spot = {
      ...fill('3', { side: 'buy', price: '1', size: '1', realizedPnl: '5' }),
      market: 'spot' as const,
    };
    assert.equal(toPlainString(trips.apply(spot).realizedPnl), '5');
    assert.deepEqual([trips.wins, trips.losses, trips.breakEven, trips.openTrips()], [0, 0, 1, 0]);
  });
});
