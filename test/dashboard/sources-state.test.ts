import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SourceRow } from '../../src/client/types.ts';
import type { AlertJson } from '../../src/protocol/server-messages.ts';
import {
  activeVenueOf,
  applySourceAlert,
  applySourceAlerts,
  countFailovers,
  venuesOf,
} from '../../dashboard/src/sources-state.ts';

function row(exchange: 'binance' | 'okx' | 'bitget', symbol: string, active: boolean): SourceRow {
  return {
    exchange,
    connected: true,
    latency: 40,
    lastUpdate: 1000,
    messagesReceived: 10,
    errors: 0,
    healthy: true,
    symbol,
    active,
    primary: exchange === 'binance',
  };
}

function alert(kind: AlertJson['kind'], fields: Partial<AlertJson> = {}): AlertJson {
  return { id: `${kind}-${Math.random()}`, time: 2000, severity: 'warning', kind, message: kind, ...fields };
}

const rows = [
  row('binance', 'BTC/USDT', true),
  row('okx', 'BTC/USDT', false),
  row('binance', 'ETH/USDT', true),
];

describe('sources state', () => {
  it('moves the active flag on a failover of that instrument only', () => {
    const next = applySourceAlert(
      rows,
      alert('failover', { symbol: 'BTC/USDT', details: { from: 'binance', to: 'okx', reason: 'stale' } }),
    );
    assert.equal(activeVenueOf(next, 'BTC/USDT'), 'okx');
    assert.equal(activeVenueOf(next, 'ETH/USDT'), 'binance');
    assert.equal(next[2], rows[2], 'rows of other instruments are untouched');
  });

  it('marks a dropped venue unhealthy and a recovered one healthy again', () => {
    const down = applySourceAlert(
      rows,
      alert('source_disconnected', { venue: 'binance', symbol: 'BTC/USDT' }),
    );
    assert.equal(down[0]?.healthy, false);
    assert.equal(down[0]?.connected, false);
    assert.equal(down[0]?.reason, 'disconnected');
    assert.equal(down[2]?.healthy, true, 'another instrument of the same venue is not concerned');
    const slow = applySourceAlert(
      down,
      alert('source_slow', { venue: 'okx', symbol: 'BTC/USDT', details: { latency: 6200 } }),
    );
    assert.equal(slow[1]?.reason, 'high-latency');
    assert.equal(slow[1]?.latency, 6200);
    const back = applySourceAlerts(slow, [
      alert('source_recovered', { venue: 'binance', symbol: 'BTC/USDT' }),
      alert('source_recovered', { venue: 'okx', symbol: 'BTC/USDT' }),
    ]);
    assert.equal(back[0]?.healthy, true);
    assert.equal(back[0]?.connected, true);
    assert.equal(back[0]?.reason, undefined);
    assert.equal(back[1]?.healthy, true);
  });

  it('leaves the rows alone for alerts about other things', () => {
    assert.equal(applySourceAlert(rows, alert('book_resync', { venue: 'okx', symbol: 'BTC/USDT' })), rows);
    assert.equal(applySourceAlert(rows, alert('storage_down')), rows);
  });

  it('counts failovers per instrument with the last switch', () => {
    const tallies = countFailovers([
      alert('failover', {
        symbol: 'BTC/USDT',
        time: 1,
        details: { from: 'binance', to: 'okx', reason: 'stale' },
      }),
      alert('source_stale', { symbol: 'BTC/USDT', venue: 'okx' }),
      alert('failover', {
        symbol: 'BTC/USDT',
        time: 5,
        details: { from: 'okx', to: 'binance', reason: 'primary' },
      }),
    ]);
    assert.deepEqual(tallies.get('BTC/USDT'), { count: 2, lastTime: 5, last: 'okx → binance (primary)' });
    assert.equal(tallies.get('ETH/USDT'), undefined);
  });

  it('lists the venues of an instrument in configured order', () => {
    assert.deepEqual(venuesOf(rows, 'BTC/USDT'), ['binance', 'okx']);
    assert.deepEqual(venuesOf(rows, 'SOL/USDT'), []);
  });
});
