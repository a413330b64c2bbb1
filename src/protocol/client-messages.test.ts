import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientMessage, type ParseResult, type ProtocolRules } from './client-messages.ts';

const rules: ProtocolRules = { symbols: ['BTC/USDT'], maxInitialBars: 5000, defaultInitialBars: 100 };
const parse = (value: unknown, r: ProtocolRules = rules): ParseResult =>
  parseClientMessage(typeof value === 'string' ? value : JSON.stringify(value), r);

function error(result: ParseResult): { code: string; message: string } {
  assert.equal(result.ok, false, 'expected an error result');
  return (result as Extract<ParseResult, { ok: false }>).error;
}

describe('parseClientMessage', () => {
  it('accepts a subscribe and keeps its initialBars', () => {
    assert.deepEqual(parse({ type: 'subscribe', symbol: 'BTC/USDT', interval: '5m', initialBars: 100 }), {
      ok: true,
      message: { type: 'subscribe', symbol: 'BTC/USDT', interval: '5m', initialBars: 100 },
    });
  });

  it('defaults initialBars to the configured default', () => {
    const r = parse(
      { type: 'subscribe', symbol: 'BTC/USDT', interval: '1W' },
      { ...rules, defaultInitialBars: 42 },
    );
    assert.deepEqual(r, {
      ok: true,
      message: { type: 'subscribe', symbol: 'BTC/USDT', interval: '1W', initialBars: 42 },
    });
  });

  it('caps a default that exceeds the maximum at the maximum', () => {
    const r = parse(
      { type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' },
      { ...rules, maxInitialBars: 10 },
    );
    assert.ok(r.ok && r.message.type === 'subscribe' && r.message.initialBars === 10);
  });

  it('accepts initialBars 0 and the maximum', () => {
    for (const n of [0, 5000]) {
      const r = parse({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: n });
      assert.ok(r.ok && r.message.type === 'subscribe' && r.message.initialBars === n);
    }
  });

  it('accepts unsubscribe and ping, ignoring extra fields', () => {
    assert.deepEqual(parse({ type: 'unsubscribe', symbol: 'BTC/USDT', interval: '1h', id: 7 }), {
      ok: true,
      message: { type: 'unsubscribe', symbol: 'BTC/USDT', interval: '1h' },
    });
    assert.deepEqual(parse({ type: 'ping', ts: 1 }), { ok: true, message: { type: 'ping' } });
  });

  it('answers an unknown interval with the exact text of the API document', () => {
    const e = error(parse({ type: 'subscribe', symbol: 'BTC/USDT', interval: '10m' }));
    assert.equal(e.code, 'INVALID_INTERVAL');
    assert.equal(e.message, 'Invalid interval: 10m. Valid: 1m, 5m, 15m, 1h, 4h, 1D, 1W');
    assert.equal(
      error(parse({ type: 'unsubscribe', symbol: 'BTC/USDT', interval: '1d' })).code,
      'INVALID_INTERVAL',
    );
  });

  it('answers an unknown symbol with the exact text for one configured symbol', () => {
    const e = error(parse({ type: 'subscribe', symbol: 'ETH/USDT', interval: '1m' }));
    assert.equal(e.code, 'INVALID_SYMBOL');
    assert.equal(e.message, 'Invalid symbol: ETH/USDT. Only BTC/USDT is supported.');
  });

  it('lists every configured symbol when there are several', () => {
    const many = { ...rules, symbols: ['BTC/USDT', 'ETH/USDT'] };
    const e = error(parse({ type: 'subscribe', symbol: 'X', interval: '1m' }, many));
    assert.equal(e.message, 'Invalid symbol: X. Only BTC/USDT, ETH/USDT are supported.');
    assert.ok(parse({ type: 'subscribe', symbol: 'ETH/USDT', interval: '1m' }, many).ok);
  });

  it('cuts very long echoed values', () => {
    const e = error(parse({ type: 'subscribe', symbol: 'BTC/USDT', interval: 'x'.repeat(1000) }));
    assert.equal(e.message, `Invalid interval: ${'x'.repeat(64)}…. Valid: 1m, 5m, 15m, 1h, 4h, 1D, 1W`);
  });

  it('rejects initialBars above the maximum, negative or fractional with INVALID_INITIAL_BARS', () => {
    for (const n of [5001, -1, 1.5]) {
      const e = error(parse({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: n }));
      assert.equal(e.code, 'INVALID_INITIAL_BARS');
      assert.equal(e.message, `Invalid initialBars: ${n}. Must be an integer from 0 to 5000.`);
    }
  });

  it('answers an initialBars too large for a double (1e400) with INVALID_INITIAL_BARS, not a bad shape', () => {
    for (const n of ['1e400', '-1e400']) {
      const text = `{"type":"subscribe","symbol":"BTC/USDT","interval":"1m","initialBars":${n}}`;
      const e = error(parse(text));
      assert.equal(e.code, 'INVALID_INITIAL_BARS');
      assert.equal(
        e.message,
        `Invalid initialBars: ${n.startsWith('-') ? '-' : ''}Infinity. Must be an integer from 0 to 5000.`,
      );
    }
  });

  it('answers malformed JSON, non-objects, unknown types, missing and wrong-typed fields with Invalid message format', () => {
    const bad: unknown[] = [
      '{"type":"subscribe"',
      '',
      'null',
      '42',
      '"ping"',
      '[{"type":"ping"}]',
      {},
      { type: 'hello' },
      { type: 'PING' },
      { type: 7 },
      { type: 'subscribe', interval: '1m' },
      { type: 'subscribe', symbol: 'BTC/USDT' },
      { type: 'subscribe', symbol: 1, interval: '1m' },
      { type: 'subscribe', symbol: 'BTC/USDT', interval: 5 },
      { type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: '100' },
      { type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: null },
      { type: 'unsubscribe', symbol: 'BTC/USDT' },
      { type: 'unsubscribe', symbol: ['BTC/USDT'], interval: '1m' },
    ];
    for (const value of bad) {
      const e = error(parse(value));
      assert.deepEqual(
        e,
        { code: 'INVALID_MESSAGE', message: 'Invalid message format' },
        JSON.stringify(value),
      );
    }
  });
});

describe('parseClientMessage: market channels', () => {
  const market: ProtocolRules = {
    ...rules,
    venues: ['binance', 'okx'],
    maxBookDepth: 50,
    defaultBookDepth: 10,
  };
  const sub = (extra: Record<string, unknown>): ParseResult =>
    parse({ type: 'subscribe', symbol: 'BTC/USDT', venue: 'okx', ...extra }, market);

  it('accepts trades, ticker and book subscribes, with the book depth defaulted', () => {
    assert.deepEqual(sub({ channel: 'trades' }), {
      ok: true,
      message: { type: 'channel-subscribe', channel: 'trades', venue: 'okx', symbol: 'BTC/USDT' },
    });
    assert.deepEqual(sub({ channel: 'ticker', depth: 5 }), {
      ok: true,
      message: { type: 'channel-subscribe', channel: 'ticker', venue: 'okx', symbol: 'BTC/USDT' },
    });
    assert.deepEqual(sub({ channel: 'book' }), {
      ok: true,
      message: { type: 'channel-subscribe', channel: 'book', venue: 'okx', symbol: 'BTC/USDT', depth: 10 },
    });
    assert.deepEqual(sub({ channel: 'book', depth: 50 }), {
      ok: true,
      message: { type: 'channel-subscribe', channel: 'book', venue: 'okx', symbol: 'BTC/USDT', depth: 50 },
    });
  });

  it('parses an unsubscribe without depth', () => {
    assert.deepEqual(
      parse({ type: 'unsubscribe', channel: 'book', symbol: 'BTC/USDT', venue: 'binance' }, market),
      {
        ok: true,
        message: { type: 'channel-unsubscribe', channel: 'book', venue: 'binance', symbol: 'BTC/USDT' },
      },
    );
  });

  it('keeps the candle subscribe for no channel and for channel "candles"', () => {
    const candle = {
      ok: true,
      message: { type: 'subscribe', symbol: 'BTC/USDT', interval: '5m', initialBars: 100 },
    };
    assert.deepEqual(parse({ type: 'subscribe', symbol: 'BTC/USDT', interval: '5m' }, market), candle);
    assert.deepEqual(
      parse({ type: 'subscribe', channel: 'candles', symbol: 'BTC/USDT', interval: '5m' }, market),
      candle,
    );
    assert.deepEqual(parse({ type: 'ping', channel: 'book' }, market), {
      ok: true,
      message: { type: 'ping' },
    });
  });

  it('rejects an unknown channel, venue, symbol or depth with its own code and text, in that order', () => {
    assert.deepEqual(error(sub({ channel: 'candle' })), {
      code: 'INVALID_CHANNEL',
      message:
        'Invalid channel: candle. Valid: candles, trades, ticker, book, alerts, dashboard, account, positions, orders, performance',
    });
    assert.deepEqual(error(sub({ channel: 'quotes', venue: 'kraken', depth: 0 })).code, 'INVALID_CHANNEL');
    assert.deepEqual(error(sub({ channel: 'book', venue: 'kraken', symbol: 'X', depth: 0 })), {
      code: 'INVALID_VENUE',
      message: 'Invalid venue: kraken. Valid: binance, okx',
    });
    assert.deepEqual(error(sub({ channel: 'book', venue: 'dydx' })).code, 'INVALID_VENUE');
    assert.deepEqual(error(parse({ type: 'subscribe', channel: 'trades', symbol: 'BTC/USDT' }, market)), {
      code: 'INVALID_VENUE',
      message: 'Missing venue. Valid: binance, okx',
    });
    assert.deepEqual(
      error(parse({ type: 'subscribe', channel: 'book', symbol: 'BTC/USDT' }, market)).code,
      'INVALID_VENUE',
    );
    assert.deepEqual(error(sub({ channel: 'trades', symbol: 'ETH/USDT' })), {
      code: 'INVALID_SYMBOL',
      message: 'Invalid symbol: ETH/USDT. Only BTC/USDT is supported.',
    });
    for (const depth of [0, 51, 2.5, -1]) {
      assert.deepEqual(error(sub({ channel: 'book', depth })), {
        code: 'INVALID_DEPTH',
        message: `Invalid depth: ${depth}. Must be an integer from 1 to 50.`,
      });
    }
    const huge = '{"type":"subscribe","channel":"book","venue":"binance","symbol":"BTC/USDT","depth":1e400}';
    assert.deepEqual(error(parse(huge, market)), {
      code: 'INVALID_DEPTH',
      message: 'Invalid depth: Infinity. Must be an integer from 1 to 50.',
    });
  });

  it('answers a channel that does not exist with INVALID_CHANNEL naming those that do, whatever else is missing', () => {
    const invalid = (name: string) => ({
      code: 'INVALID_CHANNEL',
      message: `Invalid channel: ${name}. Valid: candles, trades, ticker, book, alerts, dashboard, account, positions, orders, performance`,
    });
    assert.deepEqual(error(parse({ type: 'subscribe', channel: 'quotes' }, market)), invalid('quotes'));
    assert.deepEqual(error(parse({ type: 'unsubscribe', channel: 'quotes' }, market)), invalid('quotes'));
    assert.deepEqual(
      error(parse({ type: 'subscribe', channel: 'wallet', symbol: 5, depth: 'x' }, market)),
      invalid('wallet'),
    );
    assert.deepEqual(
      error(parse({ type: 'subscribe', channel: 'x'.repeat(80) }, market)),
      invalid(`${'x'.repeat(64)}…`),
    );
    // The original API's errors are untouched: no channel, or "candles", is the candle subscribe.
    assert.deepEqual(error(parse({ type: 'subscribe', symbol: 'BTC/USDT' }, market)), {
      code: 'INVALID_MESSAGE',
      message: 'Invalid message format',
    });
    assert.deepEqual(error(parse({ type: 'subscribe', channel: 'candles', symbol: 'BTC/USDT' }, market)), {
      code: 'INVALID_MESSAGE',
      message: 'Invalid message format',
    });
  });

  it('answers wrong JSON types with INVALID_MESSAGE', () => {
    for (const bad of [
      { channel: 5 },
      { channel: 'book', depth: '10' },
      { channel: 'book', venue: 3 },
      { channel: 'trades', symbol: null },
    ]) {
      assert.equal(error(sub(bad)).code, 'INVALID_MESSAGE', JSON.stringify(bad));
    }
  });

  it('takes a ticker without a venue as the composite ticker; other channels need one', () => {
    assert.deepEqual(parse({ type: 'subscribe', channel: 'ticker', symbol: 'BTC/USDT' }, market), {
      ok: true,
      message: { type: 'channel-subscribe', channel: 'ticker', venue: undefined, symbol: 'BTC/USDT' },
    });
    assert.deepEqual(parse({ type: 'unsubscribe', channel: 'ticker', symbol: 'BTC/USDT' }, market), {
      ok: true,
      message: { type: 'channel-unsubscribe', channel: 'ticker', venue: undefined, symbol: 'BTC/USDT' },
    });
    assert.equal(
      error(parse({ type: 'subscribe', channel: 'trades', symbol: 'BTC/USDT' }, market)).code,
      'INVALID_VENUE',
    );
  });

  it('accepts every venue when the rules name none', () => {
    assert.ok(parse({ type: 'subscribe', channel: 'trades', symbol: 'BTC/USDT', venue: 'dydx' }).ok);
  });
});

describe('parseClientMessage: alerts channel', () => {
  const withVenues: ProtocolRules = {
    ...rules,
    symbols: ['BTC/USDT', 'ETH/USDT'],
    venues: ['binance', 'okx'],
  };
  const alerts = (extra: Record<string, unknown> = {}, type = 'subscribe'): ParseResult =>
    parse({ type, channel: 'alerts', ...extra }, withVenues);

  it('parses a subscribe without filters as every alert (minSeverity info)', () => {
    assert.deepEqual(alerts(), { ok: true, message: { type: 'alerts-subscribe', minSeverity: 'info' } });
  });

  it('parses every filter', () => {
    assert.deepEqual(alerts({ minSeverity: 'warning', venue: 'okx', symbol: 'ETH/USDT', id: 7 }), {
      ok: true,
      message: { type: 'alerts-subscribe', minSeverity: 'warning', venue: 'okx', symbol: 'ETH/USDT' },
    });
  });

  it('parses an unsubscribe without checking filters', () => {
    assert.deepEqual(alerts({ minSeverity: 'bogus' }, 'unsubscribe'), {
      ok: true,
      message: { type: 'alerts-unsubscribe' },
    });
  });

  it('rejects a bad minSeverity, venue or symbol with its own code and text, in that order', () => {
    assert.deepEqual(error(alerts({ minSeverity: 'fatal', venue: 'kraken', symbol: 'X' })), {
      code: 'INVALID_SEVERITY',
      message: 'Invalid minSeverity: fatal. Valid: info, warning, critical',
    });
    assert.deepEqual(error(alerts({ minSeverity: 'Warning' })).code, 'INVALID_SEVERITY');
    assert.deepEqual(error(alerts({ venue: 'kraken', symbol: 'X' })), {
      code: 'INVALID_VENUE',
      message: 'Invalid venue: kraken. Valid: binance, okx',
    });
    assert.deepEqual(error(alerts({ symbol: 'DOGE/USDT' })), {
      code: 'INVALID_SYMBOL',
      message: 'Invalid symbol: DOGE/USDT. Only BTC/USDT, ETH/USDT are supported.',
    });
  });

  it('answers wrong JSON types with INVALID_MESSAGE', () => {
    for (const bad of [{ minSeverity: 2 }, { venue: null }, { symbol: ['BTC/USDT'] }]) {
      assert.deepEqual(error(alerts(bad)), { code: 'INVALID_MESSAGE', message: 'Invalid message format' });
    }
  });
});

describe('parseClientMessage: account messages', () => {
  const rules = { symbols: ['BTC/USDT'], maxInitialBars: 5000, defaultInitialBars: 100 };
  const parsed = (m: unknown) => parseClientMessage(JSON.stringify(m), rules);

  it('auth, subscribe/unsubscribe of each account channel, and resync', () => {
    assert.deepEqual(parsed({ type: 'auth', token: 'abc' }), {
      ok: true,
      message: { type: 'auth', token: 'abc' },
    });
    assert.deepEqual(parsed({ type: 'auth' }), {
      ok: false,
      error: { code: 'INVALID_MESSAGE', message: 'Invalid message format' },
    });
    for (const channel of ['dashboard', 'account', 'positions', 'orders', 'performance', 'trades']) {
      assert.deepEqual(parsed({ type: 'subscribe', channel }), {
        ok: true,
        message: { type: 'account-subscribe', channel },
      });
      assert.deepEqual(parsed({ type: 'unsubscribe', channel }), {
        ok: true,
        message: { type: 'account-unsubscribe', channel },
      });
      assert.deepEqual(parsed({ type: 'resync', channel }), {
        ok: true,
        message: { type: 'account-subscribe', channel },
      });
    }
    assert.equal(
      (parsed({ type: 'resync', channel: 'book' }) as { error: { code: string } }).error.code,
      'INVALID_CHANNEL',
    );
  });

  it('trades with a symbol or a venue is the public market channel, unchanged', () => {
    assert.deepEqual(parsed({ type: 'subscribe', channel: 'trades', venue: 'binance', symbol: 'BTC/USDT' }), {
      ok: true,
      message: { type: 'channel-subscribe', channel: 'trades', venue: 'binance', symbol: 'BTC/USDT' },
    });
    assert.equal(
      (parsed({ type: 'subscribe', channel: 'trades', symbol: 'BTC/USDT' }) as { error: { code: string } })
        .error.code,
      'INVALID_VENUE',
    );
  });
});
