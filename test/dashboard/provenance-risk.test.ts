import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barStateText, provenanceText } from '../../dashboard/src/provenance.ts';
import { effectiveLeverage, liquidationDistancePercent } from '../../dashboard/src/risk.ts';

describe('bar provenance', () => {
  it('names the venues and whether the bar came over REST', () => {
    assert.equal(provenanceText({ sources: ['binance'], backfilled: false }), 'binance · live stream');
    assert.equal(provenanceText({ sources: ['okx'], backfilled: true }), 'okx · backfilled (REST)');
    assert.equal(
      provenanceText({ sources: ['okx', 'binance'], backfilled: true }),
      'okx + binance · backfilled (REST)',
    );
    assert.equal(provenanceText({ sources: [], backfilled: true }), 'unknown venue · backfilled (REST)');
    assert.equal(barStateText({ closed: false }), 'in progress');
    assert.equal(barStateText({ closed: true }), 'closed');
  });
});

describe('position risk', () => {
  const position = {
    side: 'long' as const,
    entryPrice: '60000',
    markPrice: '62000',
    liquidationPrice: '55800',
    size: '0.5',
    margin: '3100',
  };

  it('measures the distance to liquidation from the mark price, on the losing side', () => {
    assert.equal(liquidationDistancePercent(position)?.toFixed(2), '10.00');
    const short = { ...position, side: 'short' as const, liquidationPrice: '65100' };
    assert.equal(liquidationDistancePercent(short)?.toFixed(2), '5.00');
  });

  it('uses the entry price before a mark price arrives, and is negative past liquidation', () => {
    const noMark = { side: 'long' as const, entryPrice: '100', liquidationPrice: '90' };
    assert.equal(liquidationDistancePercent(noMark)?.toFixed(2), '10.00');
    const past = { ...position, liquidationPrice: '63240' };
    assert.equal(liquidationDistancePercent(past)?.toFixed(2), '-2.00');
  });

  it('has no distance without a liquidation price', () => {
    assert.equal(liquidationDistancePercent({ side: 'long', entryPrice: '1' }), undefined);
  });

  it("shows the venue's leverage, or notional over margin", () => {
    assert.equal(effectiveLeverage({ ...position, leverage: '20' }), '20×');
    assert.equal(effectiveLeverage(position), '10.00×');
    assert.equal(effectiveLeverage({ ...position, margin: '0' }), undefined);
  });
});
