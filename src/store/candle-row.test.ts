import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleUpdate } from '../domain/candle.ts';
import { makeUpdate, plain } from './candle-store.contract.ts';
import {
  candleRowKey,
  checkStorable,
  decodeCandleRow,
  encodeCandleRow,
  isRowOfSeries,
  rowKey,
} from './candle-row.ts';

const MINUTE = 60_000;

/** An update as plain data, comparable with deepEqual (decimals as their exact text). */
function plainUpdate(u: CandleUpdate): Record<string, unknown> {
  return {
    symbol: u.symbol,
    interval: u.interval,
    state: u.state,
    ...plain({ bar: u.bar, sources: u.sources, backfilled: u.backfilled === true }),
  };
}

describe('CandleRow', () => {
  it('carries an update through text exactly: decimals to the last digit, state, provenance', () => {
    const updates = [
      makeUpdate('BTC/USDT', 27_000_000 * MINUTE, {
        close: '123456789.123456789012345678',
        volume: '0.000000000000000001',
        trades: 9_007_199_254_740_991,
        state: 'revised',
        sources: ['okx', 'binance'],
        backfilled: true,
      }),
      makeUpdate('ETH/USDC', 0, { interval: '1W', state: 'live', sources: [], trades: 0 }),
      makeUpdate('SOL/USD', 5 * MINUTE, { close: '0', sources: ['dydx'], backfilled: false }),
    ];
    for (const u of updates) {
      const row = encodeCandleRow(u);
      assert.deepEqual(plainUpdate(decodeCandleRow(row)), plainUpdate(u), row);
    }
  });

  it('is one line of sixteen fields, in the columns order, sources last', () => {
    const row = encodeCandleRow(
      makeUpdate('BTC/USDT', MINUTE, { close: '65000.5', sources: ['bitget', 'okx'], backfilled: true }),
    );
    assert.equal(
      row,
      'bitget,BTC/USDT,1m,60000,65000.5,65000.5,65000.5,65000.5,1.5,150.75,0.5,50.25,3,closed,t,bitget okx',
    );
  });

  it('keys a row by venue, symbol, interval and time, as rowKey keys its update', () => {
    const a = makeUpdate('BTC/USDT', MINUTE, { close: '1', sources: ['binance'] });
    const b = makeUpdate('BTC/USDT', MINUTE, { close: '2', state: 'revised', sources: ['binance', 'okx'] });
    const c = makeUpdate('BTC/USDT', MINUTE, { close: '1', sources: ['okx'] });
    const d = makeUpdate('BTC/USDT', 2 * MINUTE, { close: '1', sources: ['binance'] });
    const keys = [a, b, c, d].map((u) => candleRowKey(encodeCandleRow(u)));
    assert.equal(keys[0], 'binance,BTC/USDT,1m,60000');
    assert.equal(keys[0], keys[1], 'a newer state of the same row has the same key');
    assert.notEqual(keys[0], keys[2], 'another venue has a row of its own');
    assert.notEqual(keys[0], keys[3]);
    assert.deepEqual(keys, [a, b, c, d].map(rowKey), 'the key of an update is the key of its row');
  });

  it('tells the rows of a series from those of another symbol or interval', () => {
    const row = encodeCandleRow(makeUpdate('BTC/USDT', 0, { interval: '1h' }));
    assert.equal(isRowOfSeries(row, 'BTC/USDT,1h,'), true);
    assert.equal(isRowOfSeries(row, 'BTC/USDT,1m,'), false);
    assert.equal(isRowOfSeries(row, 'BTC/USD,1h,'), false, 'a symbol that is a prefix of the row symbol');
    assert.equal(isRowOfSeries(encodeCandleRow(makeUpdate('BTC/USDTX', 0)), 'BTC/USDT,1m,'), false);
    const sourceless = encodeCandleRow(makeUpdate('BTC/USDT', 0, { sources: [] }));
    assert.equal(isRowOfSeries(sourceless, 'BTC/USDT,1m,'), true, 'an empty venue field');
  });

  it('refuses text that is not a row', () => {
    assert.throws(() => decodeCandleRow('binance,BTC/USDT,1m,0'), /not a candle row/);
    const row = encodeCandleRow(makeUpdate('BTC/USDT', 0));
    assert.throws(() => decodeCandleRow(`${row},extra`), /not a candle row/);
    assert.throws(() => decodeCandleRow(row.replace(/binance$/, 'nasdaq')), /unknown source/);
    assert.throws(() => decodeCandleRow(row.replace(',100,', ',1x0,')), /not a decimal number/);
  });

  it('checkStorable refuses the separators of a row in its text', () => {
    for (const symbol of ['BTC,X/USDT', 'BTC/USDT\n', 'BTC/\u0000USDT']) {
      assert.throws(
        () => checkStorable(makeUpdate(symbol, 0)),
        (err: unknown) =>
          err instanceof RangeError && /NUL character, a comma or a line break/.test(err.message),
      );
    }
    assert.doesNotThrow(() => checkStorable(makeUpdate('BTC/USDT', 0)));
  });
});
