import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleUpdate } from '../domain/candle.ts';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import { candleMessageSeries, decodeCandleUpdate, encodeCandleUpdate } from './candle-message.ts';

const d = parseDecimal;

function update(extra: Partial<CandleUpdate> = {}): CandleUpdate {
  return {
    symbol: 'BTC/USDT',
    interval: '5m',
    state: 'revised',
    sources: ['okx'],
    bar: {
      time: Date.UTC(2024, 9, 24, 10),
      open: d('67234.5'),
      high: d('67340'),
      low: d('0.00000001'),
      close: d('123456789.123456789012'),
      volume: d('145.23'),
      quoteVolume: d('9772345.67'),
      takerBuyVolume: d('1'),
      takerBuyQuoteVolume: d('2'),
      trades: 7,
    },
    ...extra,
  };
}

describe('candle bus message', () => {
  it('round-trips every field exactly, provenance included', () => {
    for (const backfilled of [true, false]) {
      const back = decodeCandleUpdate(encodeCandleUpdate(update({ backfilled })));
      const want = update({ backfilled });
      assert.equal(back.symbol, want.symbol);
      assert.equal(back.interval, want.interval);
      assert.equal(back.state, want.state);
      assert.deepEqual(back.sources, ['okx']);
      assert.equal(back.backfilled, backfilled);
      assert.equal(back.bar.time, want.bar.time);
      assert.equal(back.bar.trades, 7);
      for (const k of ['open', 'high', 'low', 'close', 'volume', 'quoteVolume'] as const) {
        assert.equal(toPlainString(back.bar[k]), toPlainString(want.bar[k]), k);
      }
    }
  });

  it('rejects a message that is not a candle update', () => {
    assert.throws(() => decodeCandleUpdate('{"s":"BTC/USDT","i":"10m","st":"live","b":[]}'), /malformed/);
    assert.throws(() => decodeCandleUpdate('{"s":"BTC/USDT","i":"1m","st":"live","b":[1,2]}'), /malformed/);
    assert.throws(() => decodeCandleUpdate('not json'));
  });

  it('tells the series of a message from its first bytes, and nothing for one written otherwise', () => {
    assert.equal(candleMessageSeries(encodeCandleUpdate(update())), 'BTC/USDT:5m');
    assert.equal(
      candleMessageSeries(encodeCandleUpdate(update({ symbol: 'DOGE/USD', interval: '1W' }))),
      'DOGE/USD:1W',
    );
    assert.equal(candleMessageSeries('{"i":"5m","s":"BTC/USDT"}'), undefined);
    assert.equal(candleMessageSeries('{"s":"BTC\\"/USDT","i":"5m"}'), undefined);
    assert.equal(candleMessageSeries('not json'), undefined);
  });
});
