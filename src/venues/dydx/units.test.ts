import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { eq, parseDecimal, toPlainString } from '../../domain/decimal.ts';
import { parseMarketsBody } from './parse.ts';
import {
  DydxUnitError,
  priceToSubticks,
  quantumsToSize,
  sizeToQuantums,
  stepSize,
  subticksToPrice,
  tickSize,
  type DydxMarketUnits,
} from './units.ts';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';

const FIXTURES = `${FIXTURES_DIR}dydx/`;

/** BTC-USD as in the reference (EXCHANGES.md section 4) and the tardis markets sample. */
const BTC: DydxMarketUnits = {
  atomicResolution: -10,
  quantumConversionExponent: -9,
  stepBaseQuantums: 1_000_000,
  subticksPerTick: 100_000,
};

describe('dYdX quantums and subticks', () => {
  it('BTC-USD: step 0.0001 and tick 1', () => {
    assert.equal(toPlainString(stepSize(BTC)), '0.0001');
    assert.equal(toPlainString(tickSize(BTC)), '1');
  });

  it('BTC-USD: quantums ↔ size', () => {
    assert.equal(toPlainString(quantumsToSize(1_000_000, -10)), '0.0001');
    assert.equal(toPlainString(quantumsToSize('12345600000000', -10)), '1234.56');
    assert.equal(sizeToQuantums('0.0001', -10), 1_000_000n);
    assert.equal(sizeToQuantums(parseDecimal('1.5'), -10), 15_000_000_000n);
    assert.equal(sizeToQuantums('0', -10), 0n);
  });

  it('BTC-USD: subticks ↔ price (one subtick is 1e-5 USD)', () => {
    assert.equal(toPlainString(subticksToPrice(100_000, BTC)), '1');
    assert.equal(toPlainString(subticksToPrice(6_700_012_345_000n, BTC)), '67000123.45');
    assert.equal(priceToSubticks('67000', BTC), 6_700_000_000n);
    assert.equal(priceToSubticks('60397.5', BTC), 6_039_750_000n);
    assert.equal(priceToSubticks('0.00001', BTC), 1n);
  });

  it('round-trips exactly', () => {
    for (const price of ['1', '67000', '104952.44975', '0.00001']) {
      assert.ok(eq(subticksToPrice(priceToSubticks(price, BTC), BTC), parseDecimal(price)), price);
    }
    for (const size of ['0.0001', '3.9', '1234.5678901234']) {
      assert.ok(eq(quantumsToSize(sizeToQuantums(size, -10), -10), parseDecimal(size)), size);
    }
  });

  it('refuses values off the unit grid instead of rounding', () => {
    assert.throws(() => sizeToQuantums('0.00000000001', -10), DydxUnitError);
    assert.throws(() => priceToSubticks('1.000001', BTC), DydxUnitError);
    assert.throws(() => quantumsToSize(1.5, -10), DydxUnitError);
    assert.throws(() => quantumsToSize('12a', -10), DydxUnitError);
    assert.throws(() => stepSize({ ...BTC, atomicResolution: 0.5 }), DydxUnitError);
  });

  it('every market of the captures: tickSize and stepSize follow from the parameters', () => {
    let checked = 0;
    for (const path of [
      'indexer_http_captures_2024/list_perpetual_markets.json',
      'indexer_http_captures_2024/list_perpetual_markets_v8.json',
      'indexer_http_captures_2024/list_perpetual_markets_empty_oracle_price.json',
      'indexer_ws_captures_2024/v4_markets_subscribed.json',
    ]) {
      const file = JSON.parse(readFileSync(FIXTURES + path, 'utf8')) as { contents?: unknown };
      const markets = parseMarketsBody(file.contents ?? file);
      for (const m of markets) {
        assert.ok(eq(stepSize(m), m.stepSize), `${path} ${m.ticker} step ${toPlainString(stepSize(m))}`);
        assert.ok(eq(tickSize(m), m.tickSize), `${path} ${m.ticker} tick ${toPlainString(tickSize(m))}`);
        // A price on the tick grid is a whole multiple of subticksPerTick.
        if (m.oraclePrice !== undefined) {
          const onGrid = priceToSubticks(m.tickSize, m);
          assert.equal(onGrid, BigInt(m.subticksPerTick));
        }
        checked++;
      }
    }
    assert.ok(checked > 250, `checked ${checked} markets`);
  });
});
