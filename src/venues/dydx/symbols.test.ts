import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickwireError } from '../../domain/errors.ts';
import { INTERVALS } from '../../domain/interval.ts';
import {
  candleChannelId,
  dydxSymbolMap,
  DYDX_RESOLUTIONS,
  fromDydxResolution,
  fromDydxTicker,
  splitCandleChannelId,
  toDydxResolution,
  toDydxTicker,
} from './symbols.ts';

describe('dYdX symbols', () => {
  it('maps canonical perpetual symbols to tickers and back', () => {
    assert.equal(toDydxTicker('BTC/USD'), 'BTC-USD');
    assert.equal(toDydxTicker('1INCH/USD'), '1INCH-USD');
    assert.equal(fromDydxTicker('BTC-USD'), 'BTC/USD');
    assert.equal(fromDydxTicker('1INCH-USD'), '1INCH/USD');
    assert.deepEqual(
      [...dydxSymbolMap(['BTC/USD', 'ETH/USD'])],
      [
        ['BTC-USD', 'BTC/USD'],
        ['ETH-USD', 'ETH/USD'],
      ],
    );
  });

  it('rejects non-canonical symbols and tickers', () => {
    assert.throws(
      () => toDydxTicker('btc-usd'),
      (e: unknown) => e instanceof TickwireError && e.code === 'INVALID_SYMBOL',
    );
    assert.equal(fromDydxTicker('BUFFI,UNISWAP_V3,0X4C1B-USD'), undefined);
    assert.equal(fromDydxTicker('BTCUSD'), undefined);
    assert.equal(fromDydxTicker('-USD'), undefined);
  });

  it('answers a ticker seen before as the first time, canonical or not, and past the cache size', () => {
    for (let round = 0; round < 2; round++) {
      assert.equal(fromDydxTicker('BTC-USD'), 'BTC/USD');
      assert.equal(fromDydxTicker('BTCUSD'), undefined);
      assert.equal(fromDydxTicker('BUFFI,UNISWAP_V3,0X4C1B-USD'), undefined);
    }
    for (let i = 0; i < 5000; i++) assert.equal(fromDydxTicker(`T${i}-USD`), `T${i}/USD`);
    assert.equal(fromDydxTicker('ETH-USD'), 'ETH/USD');
    assert.equal(fromDydxTicker('ETHUSD'), undefined);
  });

  it('maps every interval but 1W to a resolution, and back', () => {
    for (const interval of INTERVALS) {
      const r = toDydxResolution(interval);
      if (interval === '1W') assert.equal(r, undefined);
      else assert.equal(fromDydxResolution(r ?? ''), interval);
    }
    assert.equal(fromDydxResolution('30MINS'), undefined);
    assert.equal(DYDX_RESOLUTIONS.length, 7);
  });

  it('builds and splits candle channel ids', () => {
    assert.equal(candleChannelId('ETH/USD', '1m'), 'ETH-USD/1MIN');
    assert.equal(candleChannelId('BTC/USD', '1D'), 'BTC-USD/1DAY');
    assert.throws(() => candleChannelId('BTC/USD', '1W'), /1DAY/);
    assert.deepEqual(splitCandleChannelId('ETH-USD/15MINS'), { ticker: 'ETH-USD', resolution: '15MINS' });
    assert.equal(splitCandleChannelId('ETH-USD'), undefined);
  });
});
