import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import { position } from './account.test-support.ts';
import { LiquidationWatch } from './liquidation-watch.ts';

describe('LiquidationWatch', () => {
  it('reports a position once as it comes near, again only after it went away, short positions too', () => {
    const watch = new LiquidationWatch(parseDecimal('0.1'));
    const short = (mark: string) => position('ETH/USDT', { side: 'short', mark, liquidation: '110' });
    const near = (mark: string) => watch.check([short(mark)]).map((n) => toPlainString(n.distance));
    assert.deepEqual(near('90'), []); // 20 / 90 ≈ 0.22
    assert.deepEqual(near('100'), ['0.1']);
    assert.deepEqual(near('105'), []);
    assert.deepEqual(near('95'), []); // 15 / 95 ≈ 0.158: away again
    assert.deepEqual(near('104'), ['0.05769231']);
  });

  it('forgets a position that ended, and never reports one without a mark or a liquidation price', () => {
    const watch = new LiquidationWatch(parseDecimal('0.1'));
    const p = position('BTC/USDT', { mark: '100', liquidation: '95' });
    assert.equal(watch.check([p]).length, 1);
    assert.equal(watch.check([]).length, 0);
    assert.equal(watch.check([p]).length, 1, 'a new position at the same key alerts again');
    assert.equal(watch.check([position('SOL/USDT', { liquidation: '95' })]).length, 0);
    assert.equal(watch.check([position('XRP/USDT', { mark: '1' })]).length, 0);
  });
});
