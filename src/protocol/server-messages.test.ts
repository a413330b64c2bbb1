import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeBar } from '../../test/gateway/helpers.ts';
import {
  encodeBar,
  encodeError,
  encodeInitial,
  encodeRevision,
  encodeUpdate,
  PONG_TEXT,
} from './server-messages.ts';

const T = Date.UTC(2024, 9, 24, 10, 0, 0);

describe('encodeBar', () => {
  it('writes decimals as exact JSON number literals, fields in the documented order', () => {
    const bar = makeBar(T, '0.00002894', 12, {
      open: '0.00002890',
      high: '0.00002899',
      low: '0.00002881',
      volume: '123456789012.123456789',
      quoteVolume: '3572893.4567',
    });
    const text = encodeBar({ bar, closed: false, sources: ['binance', 'okx'] });
    assert.equal(
      text,
      '{"time":"2024-10-24T10:00:00.000Z","open":0.0000289,"high":0.00002899,"low":0.00002881,"close":0.00002894,' +
        '"volume":123456789012.123456789,"quoteVolume":3572893.4567,"trades":12,"closed":false,"sources":["binance","okx"]}',
    );
    assert.ok(text.includes('"close":0.00002894'));
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed).slice(0, 7), [
      'time',
      'open',
      'high',
      'low',
      'close',
      'volume',
      'quoteVolume',
    ]);
    assert.equal(parsed['close'], 0.00002894);
  });

  it('writes prices like the API document example', () => {
    const bar = makeBar(T, '67310.25', 3, {
      open: '67234.50',
      high: '67340.00',
      low: '67200.00',
      volume: '145.23',
      quoteVolume: '9772345.67',
    });
    const parsed = JSON.parse(encodeBar({ bar, closed: true, sources: [] })) as Record<string, unknown>;
    assert.deepEqual(parsed, {
      time: '2024-10-24T10:00:00.000Z',
      open: 67234.5,
      high: 67340,
      low: 67200,
      close: 67310.25,
      volume: 145.23,
      quoteVolume: 9772345.67,
      trades: 3,
      closed: true,
      sources: [],
    });
  });
});

describe('message encoders', () => {
  const view = { bar: makeBar(T, '1.5'), closed: false, sources: [] as const };

  it('encodes initial, update and revision with the seed field order', () => {
    const initial = JSON.parse(encodeInitial('BTC/USDT', '5m', [view, view])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(initial), ['type', 'symbol', 'interval', 'bars']);
    assert.equal(initial['type'], 'initial');
    assert.equal((initial['bars'] as unknown[]).length, 2);
    assert.equal(
      encodeInitial('BTC/USDT', '1m', []),
      '{"type":"initial","symbol":"BTC/USDT","interval":"1m","bars":[]}',
    );
    const update = JSON.parse(encodeUpdate('BTC/USDT', '5m', view)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(update), ['type', 'symbol', 'interval', 'bar']);
    assert.equal(update['type'], 'update');
    assert.equal(JSON.parse(encodeRevision('BTC/USDT', '5m', view)).type, 'revision');
  });

  it('encodes errors with message first and the code', () => {
    assert.equal(
      encodeError('INVALID_MESSAGE', 'Invalid message format'),
      '{"type":"error","message":"Invalid message format","code":"INVALID_MESSAGE"}',
    );
    assert.deepEqual(
      JSON.parse(encodeError('HISTORY_UNAVAILABLE', 'x', { symbol: 'BTC/USDT', interval: '1m' })),
      {
        type: 'error',
        message: 'x',
        code: 'HISTORY_UNAVAILABLE',
        symbol: 'BTC/USDT',
        interval: '1m',
      },
    );
    assert.equal(PONG_TEXT, '{"type":"pong"}');
  });
});
