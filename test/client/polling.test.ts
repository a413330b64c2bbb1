import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishAlert } from '../../src/bus/alert-message.ts';
import {
  BOOK_CHANNEL,
  encodeBookSnapshot,
  encodeTicker,
  TICKER_CHANNEL,
} from '../../src/bus/market-message.ts';
import { TickwireClient } from '../../src/client/tickwire-client.ts';
import type { ConnectionStatus } from '../../src/client/types.ts';
import { newAlert } from '../../src/domain/alert.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import {
  STATIC_TOKEN,
  startAccountGateway,
  T0 as ACCOUNT_T0,
} from '../../src/gateway/account-channels.test-support.ts';
import { makeBar, makeUpdate, startTestGateway, type TestGateway } from '../gateway/helpers.ts';
import {
  freshInitial,
  MarketClock,
  NodeWebSocket,
  startGatewayProxy,
  until,
  type GatewayProxy,
} from './support.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 9, 24, 10, 0);
const SYMBOL = 'BTC/USDT';
const d = parseDecimal;

describe('client: REST polling while WebSocket upgrades are refused (real gateway)', () => {
  let t: TestGateway;
  let proxy: GatewayProxy;
  before(async () => {
    t = await startTestGateway({ throttleMs: 20, maxMessagesPerSecond: 10_000, apiRateLimit: 100_000 });
    proxy = await startGatewayProxy(t.gateway.port);
  });
  after(async () => {
    await proxy.close();
    await t.close();
  });

  it('polls the REST endpoints with views marked not live, then returns to the socket when it works', async () => {
    for (let minute = 0; minute < 40; minute++)
      t.publish(makeUpdate(makeBar(T0 + minute * M, String(100 + minute), 3), 'closed'));
    t.bus.publish(
      TICKER_CHANNEL,
      encodeTicker({ venue: 'okx', symbol: SYMBOL, last: d('30000'), time: T0, receivedAt: T0 }),
    );
    t.bus.publish(
      BOOK_CHANNEL,
      encodeBookSnapshot({
        venue: 'okx',
        symbol: SYMBOL,
        bids: [{ price: '29999', size: '1' }],
        asks: [{ price: '30001', size: '2' }],
        seq: 1,
        time: T0,
        receivedAt: T0,
      }),
    );
    const first = newAlert({
      severity: 'warning',
      kind: 'source_stale',
      venue: 'okx',
      symbol: SYMBOL,
      message: 'stale',
    });
    publishAlert(t.bus, first);
    proxy.refuseUpgrades();

    const clock = new MarketClock(T0 + 40 * M);
    const client = new TickwireClient({
      url: proxy.wsUrl,
      WebSocket: NodeWebSocket,
      clock,
      reconnect: { minDelayMs: 20, maxDelayMs: 100 },
      polling: { afterFailedAttempts: 2, intervalMs: 50 },
    });
    after(() => client.close());
    const statuses: ConnectionStatus[] = [];
    client.on('state', (status) => statuses.push(status));
    const series = client.candles({ symbol: SYMBOL, interval: '1m', initialBars: 30 });
    const ticker = client.ticker({ symbol: SYMBOL, venue: 'okx' });
    const book = client.book({ symbol: SYMBOL, venue: 'okx' });
    const alerts = client.alerts();
    await client.connect();
    assert.equal(client.status.state, 'error', 'the first attempt was refused');

    await until(
      () => client.status.transport === 'polling' && client.status.state === 'connected',
      'polling',
    );
    await until(() => series.get().bars.length === 30 && ticker.get() !== undefined, 'polled data');
    await until(() => book.get() !== undefined && alerts.get().alerts.length === 1, 'polled book and alerts');
    assert.equal(series.get().live, false, 'polled data is not live');
    assert.equal(ticker.get()?.live, false);
    assert.deepEqual(book.get()?.bids, [[29999, 1]]);
    assert.deepEqual(series.get().bars, await freshInitial(t.gateway.url, SYMBOL, '1m', 30));

    // The market moves while the client polls.
    t.publish(makeUpdate(makeBar(T0 + 40 * M, '777', 1), 'live'));
    t.bus.publish(
      TICKER_CHANNEL,
      encodeTicker({ venue: 'okx', symbol: SYMBOL, last: d('30005'), time: T0 + 1, receivedAt: T0 + 1 }),
    );
    clock.time = T0 + 40.5 * M;
    await until(
      () => series.get().bars.at(-1)?.close === 777 && ticker.get()?.last === 30005,
      'polled changes',
    );
    assert.ok(proxy.refused >= 2, 'the socket was tried meanwhile');

    proxy.allowUpgrades();
    await until(
      () => client.status.transport === 'websocket' && client.status.state === 'connected',
      'back on the socket',
    );
    await until(() => series.get().live && ticker.get()?.live === true, 'live views');
    t.publish(makeUpdate(makeBar(T0 + 40 * M, '778', 2), 'closed'));
    t.publish(makeUpdate(makeBar(T0 + 41 * M, '779', 1), 'live'));
    await until(() => series.get().bars.at(-1)?.close === 779, 'streamed bars');
    const held = series.get().bars;
    assert.equal(new Set(held.map((b) => b.time)).size, held.length, 'no bar time twice');
    assert.deepEqual(
      held.slice(0, -1),
      (await freshInitial(t.gateway.url, SYMBOL, '1m', held.length)).slice(0, -1),
    );
    assert.ok(statuses.some((s) => s.transport === 'polling' && s.state === 'connected'));
    assert.equal(client.status.attempt, 0);
  });
});

describe('client: polling keeps to the gateway rate limit', () => {
  it('spreads requests over the window by the RateLimit headers and is never refused', async () => {
    const t = await startTestGateway({ apiRateLimit: 6, apiRateLimitWindowMs: 2000 });
    const proxy = await startGatewayProxy(t.gateway.port);
    proxy.refuseUpgrades();
    const client = new TickwireClient({
      url: proxy.wsUrl,
      WebSocket: NodeWebSocket,
      reconnect: { minDelayMs: 1000, maxDelayMs: 1000 },
      polling: { afterFailedAttempts: 1, intervalMs: 1 },
    });
    const errors: string[] = [];
    client.on('state', (s) => {
      if (s.transport === 'polling' && s.state === 'error' && s.error) errors.push(s.error.code);
    });
    try {
      client.ticker({ symbol: SYMBOL, venue: 'okx' });
      client.book({ symbol: SYMBOL, venue: 'okx' });
      client.trades({ symbol: SYMBOL, venue: 'okx' });
      await client.connect();
      const started = Date.now();
      await until(() => proxy.httpRequests >= 14, 'fourteen polls', 60_000);
      // Six per two-second window: fourteen requests need at least two whole windows.
      assert.ok(Date.now() - started >= 2000, `paced: ${Date.now() - started} ms`);
      assert.deepEqual(errors, [], 'no request refused with 429');
    } finally {
      client.close();
      await proxy.close();
      await t.close();
    }
  });
});

describe('client: the account while polling', () => {
  it('takes the account state from GET /api/account/state, then goes back to the socket', async () => {
    const g = await startAccountGateway({ throttleMs: 0 });
    const proxy = await startGatewayProxy(g.gateway.port);
    proxy.refuseUpgrades();
    const client = new TickwireClient({
      url: proxy.wsUrl,
      WebSocket: NodeWebSocket,
      token: STATIC_TOKEN,
      reconnect: { minDelayMs: 20, maxDelayMs: 100 },
      polling: { afterFailedAttempts: 1, intervalMs: 50 },
    });
    try {
      g.sources.beta.emit({
        kind: 'positions',
        positions: [
          {
            symbol: 'BTC/USD',
            side: 'short',
            size: d('0.5'),
            entryPrice: d('60000'),
            marginMode: 'cross',
            unrealizedPnl: d('-3'),
            margin: d('900'),
            timestamp: ACCOUNT_T0,
          },
        ],
        complete: true,
        time: ACCOUNT_T0,
      });
      const account = client.account();
      await client.connect();
      await until(() => account.get().authenticated, 'the polled account');
      assert.equal(client.status.transport, 'polling');
      assert.equal(account.get().account, 'beta');
      assert.equal(account.get().live, false);
      assert.deepEqual([...account.get().positions.keys()], ['BTC/USD:short']);
      assert.equal(account.get().positions.get('BTC/USD:short')?.size, '0.5');
      assert.ok(account.get().dashboard !== undefined);

      proxy.allowUpgrades();
      await until(() => client.status.transport === 'websocket' && account.get().live, 'the socket again');
      assert.deepEqual([...account.get().positions.keys()], ['BTC/USD:short']);
      assert.equal(account.get().tokenExpiresAt, null, 'a static token does not expire');
    } finally {
      client.close();
      await proxy.close();
      await g.close();
    }
  });
});
