import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyMergePatch } from './merge-patch.ts';

describe('JSON Merge Patch (RFC 7386)', () => {
  it('replaces present fields, removes null ones and patches nested objects', () => {
    const target = {
      total_value: '10',
      win_rate: '0.5',
      balances: { USDT: { total: '1', locked: '0' }, BTC: { total: '2' } },
    };
    const patch = { total_value: '11', win_rate: null, balances: { USDT: { total: '3' }, BTC: null } };
    assert.deepEqual(applyMergePatch(target, patch), {
      total_value: '11',
      balances: { USDT: { total: '3', locked: '0' } },
    });
    assert.equal(target.total_value, '10', 'the target is not modified');
  });

  it('follows the RFC examples for arrays and non-object patches', () => {
    assert.deepEqual(applyMergePatch({ a: [1, 2] }, { a: [3] }), { a: [3] });
    assert.deepEqual(applyMergePatch({ a: 'b' }, ['c']), ['c']);
    assert.deepEqual(applyMergePatch({ a: 'b' }, null), null);
    assert.deepEqual(applyMergePatch('text', { a: { b: 'c' } }), { a: { b: 'c' } });
    assert.deepEqual(applyMergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
  });
});
