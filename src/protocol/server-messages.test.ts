import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeBar } from '../../test/gateway/helpers.ts';
import type { Alert } from '../domain/alert.ts';
import { parseDecimal } from '../domain/decimal.ts';
import {
  encodeAlertJson,
  encodeAlertMessage,
  encodeAlertsChannelError,
  encodeAlertsMessage,
  encodeAlertsSubscribed,
  encodeBar,
  encodeBookLevel,
  encodeBookMessage,
  encodeChannelError,
  encodeError,
  encodeSubscribed,
  encodeTickerMessage,
  encodeTradeJson,
  encodeTradesMessage,
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
    const text = encodeBar({ bar, closed: false, sources: ['binance', 'okx'], backfilled: true });
    assert.equal(
      text,
      '{"time":"2024-10-24T10:00:00.000Z","open":0.0000289,"high":0.00002899,"low":0.00002881,"close":0.00002894,' +
        '"volume":123456789012.123456789,"quoteVolume":3572893.4567,"trades":12,"closed":false,"sources":["binance","okx"],' +
        '"backfilled":true}',
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
    const parsed = JSON.parse(encodeBar({ bar, closed: true, sources: [], backfilled: false })) as Record<
      string,
      unknown
    >;
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
      backfilled: false,
    });
  });
});

describe('message encoders', () => {
  const view = { bar: makeBar(T, '1.5'), closed: false, sources: [] as const, backfilled: false };

  it('encodes initial, update and revision with the seed field order', () => {
    const initial = JSON.parse(encodeInitial('BTC/USDT', '5m', [view, view])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(initial), ['type', 'symbol', 'interval', 'bars']);
    assert.equal(initial['type'], 'initial');
    assert.equal((initial['bars'] as unknown[]).length, 2);
    assert.equal(
      encodeInitial('BTC/USDT', '1m', []),
      '{"type":"initial","symbol":"BTC/USDT","interval":"1m","bars":[]}',
    );
    // A partial initial keeps the seed's fields and order, and adds its flag and reason after them.
    assert.equal(
      encodeInitial('BTC/USDT', '1m', [], 'HISTORY_UNAVAILABLE'),
      '{"type":"initial","symbol":"BTC/USDT","interval":"1m","bars":[],"partial":true,"reason":"HISTORY_UNAVAILABLE"}',
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

describe('market channel messages', () => {
  it('encodes subscribed, with depth only for book', () => {
    assert.equal(
      encodeSubscribed('book', 'okx', 'BTC/USDT', 20),
      '{"type":"subscribed","channel":"book","venue":"okx","symbol":"BTC/USDT","depth":20}',
    );
    assert.equal(
      encodeSubscribed('trades', 'okx', 'BTC/USDT'),
      '{"type":"subscribed","channel":"trades","venue":"okx","symbol":"BTC/USDT"}',
    );
  });

  it('encodes trades with exact number literals and string ids', () => {
    const trade = {
      venue: 'binance' as const,
      symbol: 'BTC/USDT',
      id: '18446744073709551615',
      price: parseDecimal('67234.50'),
      size: parseDecimal('0.00002894'),
      side: 'sell' as const,
      fills: 1,
      time: 1729764000123,
      receivedAt: 1729764000200,
    };
    const text = encodeTradesMessage('binance', 'BTC/USDT', [encodeTradeJson(trade), encodeTradeJson(trade)]);
    assert.equal(
      text,
      '{"type":"trades","venue":"binance","symbol":"BTC/USDT","trades":[' +
        '{"id":"18446744073709551615","price":67234.5,"size":0.00002894,"side":"sell","time":1729764000123},' +
        '{"id":"18446744073709551615","price":67234.5,"size":0.00002894,"side":"sell","time":1729764000123}]}',
    );
    assert.equal((JSON.parse(text) as { trades: unknown[] }).trades.length, 2);
  });

  it('encodes a ticker without the fields the venue does not send', () => {
    const text = encodeTickerMessage({
      venue: 'dydx',
      symbol: 'BTC/USD',
      last: parseDecimal('67000.10'),
      bid: parseDecimal('67000'),
      volume24h: parseDecimal('12.5'),
      time: 5,
      receivedAt: 6,
    });
    assert.equal(
      text,
      '{"type":"ticker","venue":"dydx","symbol":"BTC/USD","last":67000.1,"bid":67000,"volume24h":12.5,"time":5}',
    );
  });

  it('encodes a book cut to depth from normalized levels', () => {
    const bids = [
      { price: '0.35210000', size: '672.00000000' },
      { price: '0.3520', size: '1144' },
      { price: '0.3519', size: '1' },
    ].map(encodeBookLevel);
    const asks = [{ price: '0.3522', size: '1e-8' }].map(encodeBookLevel);
    assert.deepEqual(bids[0], '[0.3521,672]');
    assert.equal(
      encodeBookMessage('binance', 'NKN/USDT', 2, bids, asks, 499869752, 1633998512068),
      '{"type":"book","venue":"binance","symbol":"NKN/USDT","depth":2,"bids":[[0.3521,672],[0.352,1144]],' +
        '"asks":[[0.3522,0.00000001]],"seq":499869752,"time":1633998512068}',
    );
    assert.deepEqual(JSON.parse(encodeBookMessage('dydx', 'BTC/USD', 5, [], [], undefined, 1)), {
      type: 'book',
      venue: 'dydx',
      symbol: 'BTC/USD',
      depth: 5,
      bids: [],
      asks: [],
      time: 1,
    });
    assert.throws(() => encodeBookLevel({ price: 'x', size: '1' }));
  });

  it('encodes a market-channel error with channel, venue and symbol', () => {
    assert.deepEqual(
      JSON.parse(
        encodeChannelError('TOO_MANY_SUBSCRIPTIONS', 'x', { channel: 'book', venue: 'okx', symbol: 'A/B' }),
      ),
      {
        type: 'error',
        message: 'x',
        code: 'TOO_MANY_SUBSCRIPTIONS',
        channel: 'book',
        venue: 'okx',
        symbol: 'A/B',
      },
    );
  });
});

describe('alerts messages', () => {
  const alert: Alert = {
    id: 'a1',
    time: 1_729_764_000_123,
    severity: 'critical',
    kind: 'failover_failed',
    symbol: 'BTC/USDT',
    message: 'BTC/USDT: no healthy source',
    details: { from: 'binance', reason: 'disconnected' },
  };

  it('writes an alert with its fields in the documented order, absent ones left out', () => {
    const json = encodeAlertJson({ ...alert, venue: 'okx' });
    assert.equal(
      json,
      '{"id":"a1","time":1729764000123,"severity":"critical","kind":"failover_failed","venue":"okx",' +
        '"symbol":"BTC/USDT","message":"BTC/USDT: no healthy source","details":{"from":"binance","reason":"disconnected"}}',
    );
    assert.equal(
      encodeAlertJson({ id: 'b', time: 1, severity: 'info', kind: 'redis_recovered', message: 'ok' }),
      '{"id":"b","time":1,"severity":"info","kind":"redis_recovered","message":"ok"}',
    );
  });

  it('wraps alerts as `alert` and `alerts`', () => {
    const json = encodeAlertJson(alert);
    assert.deepEqual(JSON.parse(encodeAlertMessage(json)), { type: 'alert', ...alert });
    assert.equal(encodeAlertsMessage([]), '{"type":"alerts","alerts":[]}');
    assert.deepEqual(JSON.parse(encodeAlertsMessage([json, json])), {
      type: 'alerts',
      alerts: [alert, alert],
    });
  });

  it('acknowledges a subscribe with its filters and reports errors with the channel', () => {
    assert.equal(
      encodeAlertsSubscribed({ minSeverity: 'info' }),
      '{"type":"subscribed","channel":"alerts","minSeverity":"info"}',
    );
    assert.equal(
      encodeAlertsSubscribed({ minSeverity: 'warning', venue: 'okx', symbol: 'BTC/USDT' }),
      '{"type":"subscribed","channel":"alerts","minSeverity":"warning","venue":"okx","symbol":"BTC/USDT"}',
    );
    assert.equal(
      encodeAlertsChannelError('TOO_MANY_SUBSCRIPTIONS', 'Too many'),
      '{"type":"error","message":"Too many","code":"TOO_MANY_SUBSCRIPTIONS","channel":"alerts"}',
    );
  });
});
