import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toFixedString, type Decimal } from '../../domain/decimal.ts';
import { Rng } from '../random.ts';
import { formatUnits } from './format.ts';

describe('formatUnits', () => {
  it('prints whole units exactly as toFixedString does, with at least eight fraction digits', () => {
    const rng = new Rng(17);
    const units: Decimal[] = [];
    for (const coef of [1n, 5n, 25n, 1_000n])
      for (let scale = 0; scale <= 12; scale++) units.push({ coef, scale });
    let compared = 0;
    for (const unit of units) {
      const values = [0, 1, 9, 10, 123_456, 2 ** 53 - 1, 2 ** 53 + 2, 7 * 10 ** 15];
      for (let i = 0; i < 50; i++) values.push(rng.int(10 ** (1 + (i % 12))));
      for (const n of values) {
        const slow = toFixedString(
          { coef: BigInt(n) * unit.coef, scale: unit.scale },
          Math.max(8, unit.scale),
        );
        assert.equal(formatUnits(n, unit), slow, `${n} × ${unit.coef}e-${unit.scale}`);
        assert.equal(formatUnits(BigInt(n), unit), slow);
        compared++;
      }
    }
    assert.ok(compared > 2500);
    assert.equal(formatUnits(6_701_234, { coef: 1n, scale: 2 }), '67012.34000000');
    assert.equal(formatUnits(3, { coef: 1n, scale: 10 }), '0.0000000003');
  });
});
