import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { makeBar, startTestGateway, TestClient, waitFor, type TestGateway } from './helpers.ts';

const T0 = Date.UTC(2024, 9, 24, 10, 0);
const INVALID = { type: 'error', message: 'Invalid message format', code: 'INVALID_MESSAGE' };

describe('gateway: connection paths', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
  });
  after(() => t.close());

  for (const path of ['', '/', '/ws', '/ws?client=dashboard']) {
    it(`accepts WebSocket upgrades on "${path || '(none)'}" and answers ping`, async () => {
      const c = await TestClient.connect(t.gateway.url + path);
      c.send({ type: 'ping' });
      assert.deepEqual(await c.nextOfType('pong'), { type: 'pong' });
      c.close();
    });
  }

  it('answers upgrades on other paths with 404', async () => {
    const ws = new WebSocket(t.gateway.url + '/other');
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    assert.equal(res.statusCode, 404);
    ws.terminate();
  });
});

describe('gateway: bad input from a client', () => {
  let t: TestGateway;
  let c: TestClient;
  before(async () => {
    t = await startTestGateway({ maxInitialBars: 500, maxPayloadBytes: 4096 }, { symbols: ['BTC/USDT'] });
    c = await TestClient.connect(t.gateway.url);
  });
  after(() => t.close());

  async function answer(frame: unknown): Promise<unknown> {
    const next = c.nextOfType('error');
    c.send(frame);
    return next;
  }

  it('malformed JSON → Invalid message format', async () => {
    assert.deepEqual(await answer('{"type":"subscribe",'), INVALID);
    assert.deepEqual(await answer('not json at all'), INVALID);
  });

  it('a binary frame → Invalid message format', async () => {
    const next = c.nextOfType('error');
    c.ws.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    assert.deepEqual(await next, INVALID);
  });

  it('an unknown type → Invalid message format', async () => {
    assert.deepEqual(await answer({ type: 'subscribe_all' }), INVALID);
    assert.deepEqual(await answer({ symbol: 'BTC/USDT' }), INVALID);
  });

  it('missing or wrong-typed fields → Invalid message format', async () => {
    assert.deepEqual(await answer({ type: 'subscribe', symbol: 'BTC/USDT' }), INVALID);
    assert.deepEqual(
      await answer({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 'all' }),
      INVALID,
    );
    assert.deepEqual(await answer({ type: 'unsubscribe', interval: '1m' }), INVALID);
  });

  it('an invalid interval → the document text with INVALID_INTERVAL', async () => {
    assert.deepEqual(await answer({ type: 'subscribe', symbol: 'BTC/USDT', interval: '10m' }), {
      type: 'error',
      message: 'Invalid interval: 10m. Valid: 1m, 5m, 15m, 1h, 4h, 1D, 1W',
      code: 'INVALID_INTERVAL',
    });
  });

  it('an invalid symbol → the document text with INVALID_SYMBOL', async () => {
    assert.deepEqual(await answer({ type: 'subscribe', symbol: 'ETH/USDT', interval: '5m' }), {
      type: 'error',
      message: 'Invalid symbol: ETH/USDT. Only BTC/USDT is supported.',
      code: 'INVALID_SYMBOL',
    });
  });

  it('initialBars above the maximum → INVALID_INITIAL_BARS, no clamping', async () => {
    assert.deepEqual(
      await answer({ type: 'subscribe', symbol: 'BTC/USDT', interval: '5m', initialBars: 501 }),
      {
        type: 'error',
        message: 'Invalid initialBars: 501. Must be an integer from 0 to 500.',
        code: 'INVALID_INITIAL_BARS',
      },
    );
    assert.equal(t.gateway.stats().broadcaster.totalRooms, 0);
  });

  it('a channel that does not exist → INVALID_CHANNEL naming the channels that do', async () => {
    const expected = {
      type: 'error',
      message:
        'Invalid channel: quotes. Valid: candles, trades, ticker, book, alerts, dashboard, account, positions, orders, performance',
      code: 'INVALID_CHANNEL',
    };
    assert.deepEqual(await answer({ type: 'subscribe', channel: 'quotes' }), expected);
    assert.deepEqual(await answer({ type: 'unsubscribe', channel: 'quotes', symbol: 'BTC/USDT' }), expected);
    assert.equal(t.gateway.stats().broadcaster.totalRooms, 0);
  });

  it('unsubscribing from something not subscribed is harmless and silent', async () => {
    const before = c.messages.length;
    c.send({ type: 'unsubscribe', symbol: 'BTC/USDT', interval: '4h' });
    c.send({ type: 'ping' });
    await c.nextOfType('pong');
    assert.deepEqual(
      c.messages.slice(before).map((m) => m.type),
      ['pong'],
    );
  });

  it('subscribing twice sends initial again and keeps one membership', async () => {
    t.store.put('BTC/USDT', '1h', makeBar(T0, '10'));
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1h', initialBars: 5 });
    const first = await c.nextOfType('initial');
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1h', initialBars: 5 });
    const second = await c.nextOfType('initial');
    assert.deepEqual(second, first);
    assert.equal(t.gateway.stats().broadcaster.rooms.find((r) => r.key === 'BTC/USDT:1h')?.clientCount, 1);
    c.send({ type: 'unsubscribe', symbol: 'BTC/USDT', interval: '1h' });
    c.send({ type: 'ping' });
    await c.nextOfType('pong');
    assert.equal(t.gateway.stats().broadcaster.totalRooms, 0);
  });

  it('counts errors by code', () => {
    const errors = t.gateway.stats().gateway.errorsByCode;
    assert.equal(errors.INVALID_MESSAGE, 8);
    assert.equal(errors.INVALID_INTERVAL, 1);
    assert.equal(errors.INVALID_SYMBOL, 1);
    assert.equal(errors.INVALID_INITIAL_BARS, 1);
    assert.equal(errors.INVALID_CHANNEL, 2);
  });

  it('a frame over maxPayloadBytes closes that connection with 1009 and others keep being served', async () => {
    const big = await TestClient.connect(t.gateway.url);
    big.send({ type: 'ping', padding: 'x'.repeat(10_000) });
    assert.equal(await big.closed, 1009);
    c.send({ type: 'ping' });
    assert.deepEqual(await c.nextOfType('pong'), { type: 'pong' });
    await waitFor(() => t.gateway.stats().gateway.closedForOversizedFrame === 1);
  });
});

describe('gateway: abuse limits', () => {
  it('thousands of subscribes hit TOO_MANY_SUBSCRIPTIONS and the server still serves others', async () => {
    const symbols = Array.from({ length: 10 }, (_, i) => `C${i}/USDT`);
    const t = await startTestGateway(
      { maxSubscriptionsPerConnection: 20, maxMessagesPerSecond: 100_000 },
      { symbols },
    );
    try {
      const abuser = await TestClient.connect(t.gateway.url);
      const intervals = ['1m', '5m', '15m', '1h', '4h', '1D', '1W'];
      let sent = 0;
      for (let round = 0; round < 30; round++) {
        for (const symbol of symbols) {
          for (const interval of intervals) {
            abuser.send({ type: 'subscribe', symbol, interval, initialBars: 0 });
            sent++;
          }
        }
      }
      assert.equal(sent, 2100);
      abuser.send({ type: 'ping' });
      await abuser.next((m) => m.type === 'pong', 10_000);
      const limitErrors = abuser.messages.filter((m) => m.code === 'TOO_MANY_SUBSCRIPTIONS');
      // 20 rooms joined; the other 50 rooms are refused on every one of the 30 rounds.
      assert.equal(limitErrors.length, 50 * 30);
      assert.equal(
        limitErrors[0]?.message,
        'Too many subscriptions: at most 20 per connection. Unsubscribe from one first.',
      );
      assert.equal(t.gateway.stats().broadcaster.totalRooms, 20);

      const other = await TestClient.connect(t.gateway.url);
      other.send({ type: 'subscribe', symbol: 'C9/USDT', interval: '1W', initialBars: 0 });
      assert.equal((await other.nextOfType('initial')).symbol, 'C9/USDT');
    } finally {
      await t.close();
    }
  });

  it('a flood gets RATE_LIMITED once per second, then is closed with 4029', async () => {
    const t = await startTestGateway({ maxMessagesPerSecond: 20 });
    try {
      const polite = await TestClient.connect(t.gateway.url);
      const c = await TestClient.connect(t.gateway.url);
      for (let i = 0; i < 25; i++) c.send({ type: 'ping' });
      const limited = await c.nextOfType('error');
      assert.deepEqual(limited, {
        type: 'error',
        message:
          'Rate limit exceeded: at most 20 messages per second. Messages over the limit are ignored (not answered).',
        code: 'RATE_LIMITED',
      });
      await waitFor(() => c.messages.filter((m) => m.type === 'pong').length === 20);
      for (let i = 0; i < 1000; i++) c.send({ type: 'ping' });
      assert.equal(await c.closed, 4029);
      assert.equal(c.messages.filter((m) => m.code === 'RATE_LIMITED').length, 1);
      assert.equal(t.gateway.stats().gateway.closedForFlooding, 1);
      polite.send({ type: 'ping' });
      await polite.nextOfType('pong');
    } finally {
      await t.close();
    }
  });
});
