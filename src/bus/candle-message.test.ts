import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleState, CandleUpdate } from '../domain/candle.ts';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import { VENUES } from '../domain/instrument.ts';
import { INTERVALS } from '../domain/interval.ts';
import { candleMessageSeries, decodeCandleUpdate, encodeCandleUpdate } from './candle-message.ts';
import { plainText } from './market-message.ts';

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

  it('writes the bytes JSON.stringify gives the update as an object', () => {
    // The encoding as it was first written: the text is a contract with gateways of other versions on Redis.
    const reference = (u: CandleUpdate): string => {
      const b = u.bar;
      return JSON.stringify({
        s: u.symbol,
        i: u.interval,
        st: u.state,
        src: u.sources,
        ...(u.backfilled === true ? { bf: 1 } : {}),
        b: [
          b.time,
          ...[
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
            b.quoteVolume,
            b.takerBuyVolume,
            b.takerBuyQuoteVolume,
          ].map(plainText),
          b.trades,
        ],
      });
    };
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const texts = [
      '0',
      '1',
      '-0.5',
      '67234.50',
      '0.00000001',
      '123456789.123456789012',
      '100',
      '1e-3',
      '2.5E+4',
    ];
    const symbols = ['BTC/USDT', 'DOGE/USD', 'A"B\\C', 'ÉTH/€', 'X\u0001Y'];
    const states: CandleState[] = ['live', 'closed', 'revised'];
    const text = (): ReturnType<typeof d> => d(texts[random(texts.length)] as string);
    for (let n = 0; n < 2000; n++) {
      const u: CandleUpdate = {
        symbol: symbols[random(symbols.length)] as string,
        interval: INTERVALS[random(INTERVALS.length)] as (typeof INTERVALS)[number],
        state: states[random(states.length)] as CandleState,
        sources: VENUES.filter(() => random(2) === 0),
        ...[{}, { backfilled: true }, { backfilled: false }][random(3)],
        bar: {
          time: [0, Date.UTC(2024, 9, 24, 10), 2 ** 53 - 1][random(3)] as number,
          open: text(),
          high: text(),
          low: text(),
          close: text(),
          volume: text(),
          quoteVolume: text(),
          takerBuyVolume: text(),
          takerBuyQuoteVolume: text(),
          trades: [0, 7, 123456][random(3)] as number,
        },
      };
      assert.equal(encodeCandleUpdate(u), reference(u));
    }
  });
});
