import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import { Drawdown } from './drawdown.ts';

describe('Drawdown', () => {
  const of = (equities: string[]): string => {
    const dd = new Drawdown();
    for (const e of equities) dd.add(parseDecimal(e));
    return toPlainString(dd.max);
  };

  it('keeps the largest fall from the running peak, as a fraction of that peak', () => {
    assert.equal(of(['100', '120', '90', '130', '104']), '0.25');
    assert.equal(of(['100', '80', '60', '200', '100']), '0.5');
    assert.equal(of(['300', '200', '100']), '0.66666667');
  });

  it('is zero for a curve that never falls, and ignores peaks that are not positive', () => {
    assert.equal(of(['1', '2', '3']), '0');
    assert.equal(of([]), '0');
    assert.equal(of(['0', '-5', '-10']), '0');
  });
});
