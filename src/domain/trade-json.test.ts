import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDecimal, toPlainString } from './decimal.ts';
import { TickwireError } from './errors.ts';
import type { Trade } from './trade.ts';
import { decodeTradeJson, encodeTradeJson } from './trade-json.ts';

const trade: Trade = {
  venue: 'binance',
  symbol: 'XRP/ETH',
  id: '13519807',
  seq: 13519807,
  price: parseDecimal('0.00141342'),
  size: parseDecimal('23.00000000'),
  side: 'sell',
  fills: 2,
  time: 1570752011620,
  receivedAt: 1570752011700,
};

describe('trade JSON', () => {
  it('encodes decimals as exact plain strings', () => {
    assert.equal(
      encodeTradeJson(trade),
      '{"venue":"binance","symbol":"XRP/ETH","id":"13519807","seq":13519807,"price":"0.00141342","size":"23",' +
        '"side":"sell","fills":2,"time":1570752011620,"receivedAt":1570752011700}',
    );
  });

  it('round-trips a trade, with and without seq', () => {
    const back = decodeTradeJson(encodeTradeJson(trade));
    assert.equal(toPlainString(back.price), '0.00141342');
    assert.deepEqual({ ...back, price: 0, size: 0 }, { ...trade, price: 0, size: 0 });
    const noSeq = decodeTradeJson(encodeTradeJson({ ...trade, seq: undefined, venue: 'dydx' }));
    assert.equal(noSeq.seq, undefined);
    assert.equal(noSeq.venue, 'dydx');
  });

  it('defaults fills to 1 and receivedAt to the trade time', () => {
    const t = decodeTradeJson(
      '{"venue":"okx","symbol":"BTC/USDT","id":"1","price":"1","size":"2","side":"buy","time":5}',
    );
    assert.equal(t.fills, 1);
    assert.equal(t.receivedAt, 5);
  });

  it('rejects malformed input with an INPUT_INVALID error naming the field', () => {
    const base = JSON.parse(encodeTradeJson(trade)) as Record<string, unknown>;
    const cases: [Record<string, unknown> | string, RegExp][] = [
      ['{not json', /not valid JSON/],
      ['[1]', /not a JSON object/],
      [{ ...base, venue: 'kraken' }, /unknown venue/],
      [{ ...base, price: 'abc' }, /price/],
      [{ ...base, size: null }, /size/],
      [{ ...base, side: 'long' }, /side/],
      [{ ...base, time: '1' }, /time/],
      [{ ...base, seq: 1.5 }, /seq/],
      [{ ...base, fills: 0 }, /fills/],
    ];
    for (const [input, message] of cases) {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      assert.throws(
        () => decodeTradeJson(text),
        (err: unknown) =>
          err instanceof TickwireError && err.code === 'INPUT_INVALID' && message.test(err.message),
        text,
      );
    }
  });
});
