import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccountChannelState } from './account-deltas.ts';

describe('account channel state', () => {
  it('applies merge patches in seq order and reports a gap without applying it', () => {
    const dashboard = new AccountChannelState('dashboard');
    assert.equal(
      dashboard.apply({ channel: 'dashboard', seq: 4, snapshot: false, data: { a: '1' } }),
      'ignored',
    );
    assert.equal(
      dashboard.apply({ channel: 'dashboard', seq: 5, snapshot: true, data: { a: '1', b: '2' } }),
      'applied',
    );
    assert.equal(
      dashboard.apply({ channel: 'dashboard', seq: 6, snapshot: false, data: { b: null } }),
      'applied',
    );
    assert.deepEqual(dashboard.object, { a: '1' });
    assert.equal(
      dashboard.apply({ channel: 'dashboard', seq: 6, snapshot: false, data: { a: 'dup' } }),
      'ignored',
    );
    assert.equal(dashboard.apply({ channel: 'dashboard', seq: 8, snapshot: false, data: { a: '9' } }), 'gap');
    assert.deepEqual(dashboard.object, { a: '1' }, 'a change after a gap is not applied');
    assert.equal(dashboard.awaitingSnapshot, true);
    assert.equal(
      dashboard.apply({ channel: 'dashboard', seq: 9, snapshot: false, data: { a: '10' } }),
      'ignored',
    );
    assert.equal(
      dashboard.apply({ channel: 'dashboard', seq: 9, snapshot: true, data: { a: '10' } }),
      'applied',
    );
    assert.equal(
      dashboard.apply({ channel: 'dashboard', seq: 10, snapshot: false, data: { c: 3 } }),
      'applied',
    );
    assert.deepEqual(dashboard.object, { a: '10', c: 3 });
  });

  it('upserts and removes list items by key; a positions snapshot replaces, a fills snapshot adds', () => {
    const positions = new AccountChannelState('positions');
    positions.apply({
      channel: 'positions',
      seq: 1,
      snapshot: true,
      data: { upsert: [{ key: 'A:long' }, { key: 'B:short' }], remove: [] },
    });
    positions.apply({
      channel: 'positions',
      seq: 2,
      snapshot: false,
      data: { upsert: [{ key: 'A:long', size: '2' }], remove: ['B:short'] },
    });
    assert.deepEqual([...positions.items.values()], [{ key: 'A:long', size: '2' }]);
    positions.apply({
      channel: 'positions',
      seq: 7,
      snapshot: true,
      data: { upsert: [{ key: 'C:long' }], remove: [] },
    });
    assert.deepEqual([...positions.items.keys()], ['C:long']);

    const fills = new AccountChannelState('trades');
    fills.apply({
      channel: 'trades',
      seq: 1,
      snapshot: true,
      data: { upsert: [{ key: 'f1' }, { key: 'f2' }], remove: [] },
    });
    fills.apply({
      channel: 'trades',
      seq: 5,
      snapshot: true,
      data: { upsert: [{ key: 'f2' }, { key: 'f3' }], remove: [] },
    });
    assert.deepEqual(
      [...fills.items.keys()],
      ['f1', 'f2', 'f3'],
      'fills older than the snapshot stay, each once',
    );
  });
});
