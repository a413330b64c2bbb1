import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishAlert } from '../../src/bus/alert-message.ts';
import {
  BOOK_CHANNEL,
  encodeBookSnapshot,
  encodeTicker,
  encodeTrades,
  TICKER_CHANNEL,
  TRADES_CHANNEL,
} from '../../src/bus/market-message.ts';
import { newAlert } from '../../src/domain/alert.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import type { Trade } from '../../src/domain/trade.ts';
import { STATIC_TOKEN, startAccountGateway } from '../../src/gateway/account-channels.test-support.ts';
import { startTestGateway, TestClient, type TestGateway } from './helpers.ts';

const d = parseDecimal;
const T = Date.UTC(2024, 9, 24, 10);

function trade(id: number): Trade {
  return {
    venue: 'binance',
    symbol: 'BTC/USDT',
    id: String(id),
    seq: id,
    price: d('67000.5'),
    size: d('0.25'),
    side: 'buy',
    fills: 1,
    time: T + id,
    receivedAt: T + id,
  };
}

describe('gateway: polling endpoints (GET /api/ticker, /api/book, /api/trades, /api/alerts)', () => {
  let t: TestGateway;
  let http: string;
  before(async () => {
    t = await startTestGateway({ maxMessagesPerSecond: 10_000 });
    http = t.gateway.url.replace(/^ws/, 'http');
  });
  after(() => t.close());

  const get = async (path: string): Promise<{ status: number; body: unknown; headers: Headers }> => {
    const res = await fetch(http + path);
    const text = await res.text();
    return {
      status: res.status,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
      headers: res.headers,
    };
  };

  it('answers 204 until the gateway has a ticker or a book, then what a subscribe is sent first', async () => {
    assert.equal((await get('/api/ticker?venue=okx&symbol=BTC/USDT')).status, 204);
    assert.equal((await get('/api/book?venue=okx&symbol=BTC/USDT')).status, 204);
    t.bus.publish(
      TICKER_CHANNEL,
      encodeTicker({
        venue: 'okx',
        symbol: 'BTC/USDT',
        last: d('30000.10'),
        bid: d('30000'),
        time: T,
        receivedAt: T,
      }),
    );
    t.bus.publish(
      BOOK_CHANNEL,
      encodeBookSnapshot({
        venue: 'okx',
        symbol: 'BTC/USDT',
        bids: Array.from({ length: 30 }, (_, i) => ({ price: String(100 - i), size: '1' })),
        asks: Array.from({ length: 30 }, (_, i) => ({ price: String(101 + i), size: '2' })),
        seq: 7,
        time: T,
        receivedAt: T,
      }),
    );
    const ticker = await get('/api/ticker?venue=okx&symbol=BTC%2FUSDT');
    assert.equal(ticker.status, 200);
    assert.deepEqual(ticker.body, {
      type: 'ticker',
      venue: 'okx',
      symbol: 'BTC/USDT',
      last: 30000.1,
      bid: 30000,
      time: T,
    });
    assert.equal(ticker.headers.get('ratelimit-limit'), '100', 'paced like every /api/ route');

    const book = await get('/api/book?venue=okx&symbol=BTC/USDT&depth=3');
    assert.deepEqual(book.body, {
      type: 'book',
      venue: 'okx',
      symbol: 'BTC/USDT',
      depth: 3,
      bids: [
        [100, 1],
        [99, 1],
        [98, 1],
      ],
      asks: [
        [101, 2],
        [102, 2],
        [103, 2],
      ],
      seq: 7,
      time: T,
    });
    const c = await TestClient.connect(t.gateway.url);
    c.send({ type: 'subscribe', channel: 'book', venue: 'okx', symbol: 'BTC/USDT', depth: 3 });
    const pushed = await c.nextOfType('book');
    assert.deepEqual(pushed, book.body, 'the same message the socket sends');
    c.close();
    assert.equal(((await get('/api/book?venue=okx&symbol=BTC/USDT')).body as { depth: number }).depth, 10);
  });

  it('gives the newest trades the gateway kept, oldest first, at most `limit`', async () => {
    t.bus.publish(TRADES_CHANNEL, encodeTrades('binance', 'BTC/USDT', [1, 2, 3].map(trade)));
    t.bus.publish(TRADES_CHANNEL, encodeTrades('binance', 'BTC/USDT', [4, 5].map(trade)));
    const all = (await get('/api/trades?venue=binance&symbol=BTC/USDT')).body as { trades: { id: string }[] };
    assert.deepEqual(
      all.trades.map((x) => x.id),
      ['1', '2', '3', '4', '5'],
    );
    assert.deepEqual((await get('/api/trades?venue=binance&symbol=BTC/USDT&limit=2')).body, {
      type: 'trades',
      venue: 'binance',
      symbol: 'BTC/USDT',
      trades: [
        { id: '4', price: 67000.5, size: 0.25, side: 'buy', time: T + 4 },
        { id: '5', price: 67000.5, size: 0.25, side: 'buy', time: T + 5 },
      ],
    });
    assert.deepEqual((await get('/api/trades?venue=okx&symbol=BTC/USDT')).body, {
      type: 'trades',
      venue: 'okx',
      symbol: 'BTC/USDT',
      trades: [],
    });
  });

  it('gives the recent feed alerts that pass the filters, never an account alert', async () => {
    const stale = newAlert({
      severity: 'warning',
      kind: 'source_stale',
      venue: 'okx',
      symbol: 'BTC/USDT',
      message: 'stale',
    });
    const down = newAlert({ severity: 'critical', kind: 'redis_down', message: 'redis down' });
    const mine = newAlert({
      severity: 'critical',
      kind: 'order_rejected',
      account: 'alpha',
      message: 'rejected',
    });
    for (const a of [stale, down, mine]) publishAlert(t.bus, a);
    const ids = async (query: string): Promise<string[]> =>
      ((await get('/api/alerts' + query)).body as { alerts: { id: string }[] }).alerts.map((a) => a.id);
    assert.deepEqual(await ids(''), [stale.id, down.id]);
    assert.deepEqual(await ids('?minSeverity=critical'), [down.id]);
    assert.deepEqual(await ids('?venue=binance'), [down.id], 'an alert about no venue passes a venue filter');
    assert.deepEqual(await ids('?limit=1'), [down.id]);
  });

  it('refuses bad parameters with the codes and texts of the subscribe', async () => {
    const cases: [string, string, string][] = [
      ['/api/ticker?venue=kraken&symbol=BTC/USDT', 'INVALID_VENUE', 'Invalid venue: kraken. Valid: binance'],
      [
        '/api/ticker?venue=okx&symbol=ETH/USDT',
        'INVALID_SYMBOL',
        'Invalid symbol: ETH/USDT. Only BTC/USDT is supported.',
      ],
      ['/api/book?symbol=BTC/USDT', 'INVALID_VENUE', 'Missing venue.'],
      [
        '/api/book?venue=okx&symbol=BTC/USDT&depth=51',
        'INVALID_DEPTH',
        'Invalid depth: 51. Must be an integer from 1 to 50.',
      ],
      [
        '/api/trades?venue=okx&symbol=BTC/USDT&limit=0',
        'INVALID_LIMIT',
        'Invalid limit: must be an integer from 1 to 1000',
      ],
      ['/api/alerts?minSeverity=loud', 'INVALID_SEVERITY', 'Invalid minSeverity: loud.'],
    ];
    for (const [path, code, text] of cases) {
      const answer = await get(path);
      assert.equal(answer.status, 400, path);
      const error = (answer.body as { error: { code: string; message: string } }).error;
      assert.equal(error.code, code, path);
      assert.ok(error.message.startsWith(text), `${path}: ${error.message}`);
    }
    const post = await fetch(http + '/api/ticker?venue=okx&symbol=BTC/USDT', { method: 'POST' });
    assert.equal(post.status, 405);
  });
});

describe('gateway: GET /api/account/state', () => {
  it("answers every account channel's state for the token's account, and 401 without a token", async () => {
    const g = await startAccountGateway();
    try {
      const none = await fetch(g.httpUrl + '/api/account/state');
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'AUTH_REQUIRED');
      const res = await fetch(g.httpUrl + '/api/account/state', {
        headers: { authorization: `Bearer ${STATIC_TOKEN}` },
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as {
        account: string;
        venue: string;
        channels: Record<string, unknown>;
      };
      assert.equal(body.account, 'beta');
      assert.equal(body.venue, 'dydx');
      assert.deepEqual(Object.keys(body.channels).sort(), [
        'account',
        'dashboard',
        'orders',
        'performance',
        'positions',
        'trades',
      ]);
      assert.ok(Array.isArray(body.channels.positions) && Array.isArray(body.channels.trades));
      assert.equal(res.headers.get('ratelimit-limit'), '100');
    } finally {
      await g.close();
    }
  });
});
