import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALERT_CHANNEL, encodeAlert, publishAlert } from '../../src/bus/alert-message.ts';
import { newAlert, type Alert, type AlertInput } from '../../src/domain/alert.ts';
import { sleep, startTestGateway, TestClient, waitFor, type JsonMessage } from './helpers.ts';

let clock = 1_729_764_000_000;
function make(input: Partial<AlertInput> = {}): Alert {
  return newAlert({
    severity: 'warning',
    kind: 'source_stale',
    message: 'binance BTC/USDT: no update for 10 s',
    time: clock++,
    ...input,
  });
}

const live = (c: TestClient): JsonMessage[] => c.messages.filter((m) => m.type === 'alert');

describe('gateway: alerts channel end to end over the bus', () => {
  it('answers subscribed, then the recent alerts, then every live alert in order', async () => {
    const t = await startTestGateway({}, { symbols: ['BTC/USDT', 'ETH/USDT'], alerts: { recent: 3 } });
    try {
      const before = Array.from({ length: 5 }, (_, i) => make({ message: `before ${i}` }));
      for (const a of before) publishAlert(t.bus, a);
      const c = await TestClient.connect(t.gateway.url);
      c.send({ type: 'subscribe', channel: 'alerts' });
      assert.deepEqual(await c.nextOfType('subscribed'), {
        type: 'subscribed',
        channel: 'alerts',
        minSeverity: 'info',
      });
      const snapshot = await c.next((m) => m.type === 'alerts');
      assert.deepEqual(snapshot, { type: 'alerts', alerts: before.slice(2) });
      assert.equal(c.messages.indexOf(snapshot), 1, 'alerts right after subscribed');

      const after = Array.from({ length: 200 }, (_, i) =>
        make({ kind: i % 2 ? 'failover' : 'book_resync', message: `after ${i}` }),
      );
      for (const a of after) publishAlert(t.bus, a);
      await waitFor(() => live(c).length >= 200, 3000, '200 alerts');
      assert.deepEqual(
        live(c),
        after.map((a) => ({ type: 'alert', ...a })),
      );
      c.close();
    } finally {
      await t.close();
    }
  });

  it('filters by minimum severity, venue and symbol; alerts naming none reach everyone', async () => {
    const t = await startTestGateway({}, { symbols: ['BTC/USDT', 'ETH/USDT'] });
    try {
      const critical = await TestClient.connect(t.gateway.url);
      const okx = await TestClient.connect(t.gateway.url);
      const eth = await TestClient.connect(t.gateway.url);
      critical.send({ type: 'subscribe', channel: 'alerts', minSeverity: 'critical' });
      okx.send({ type: 'subscribe', channel: 'alerts', venue: 'okx' });
      eth.send({ type: 'subscribe', channel: 'alerts', symbol: 'ETH/USDT', minSeverity: 'warning' });
      for (const c of [critical, okx, eth]) await c.next((m) => m.type === 'alerts');
      const binanceStale = make({ venue: 'binance', symbol: 'BTC/USDT' });
      const okxDown = make({
        venue: 'okx',
        symbol: 'BTC/USDT',
        kind: 'source_disconnected',
        severity: 'critical',
      });
      const ethInfo = make({ venue: 'okx', symbol: 'ETH/USDT', kind: 'source_recovered', severity: 'info' });
      const ethFailover = make({
        symbol: 'ETH/USDT',
        kind: 'failover',
        details: { from: 'okx', to: 'bitget' },
      });
      const redis = make({ kind: 'redis_down', severity: 'critical', message: 'redis unreachable' });
      for (const a of [binanceStale, okxDown, ethInfo, ethFailover, redis]) {
        t.bus.publish(ALERT_CHANNEL, encodeAlert(a));
      }
      await waitFor(() => live(eth).length >= 2 && live(okx).length >= 4 && live(critical).length >= 2);
      // Alerts leave at once: after a round trip nothing more is on its way.
      for (const c of [critical, okx, eth]) await c.roundTrip();
      const ids = (c: TestClient): string[] => live(c).map((m) => m['id'] as string);
      assert.deepEqual(ids(critical), [okxDown.id, redis.id]);
      assert.deepEqual(ids(okx), [okxDown.id, ethInfo.id, ethFailover.id, redis.id]);
      assert.deepEqual(ids(eth), [ethFailover.id, redis.id]);
      assert.deepEqual(live(eth)[0], { type: 'alert', ...ethFailover });
      for (const c of [critical, okx, eth]) c.close();
    } finally {
      await t.close();
    }
  });

  it('stops after unsubscribe, counts the subscription, and reports bad subscribes with their codes', async () => {
    const t = await startTestGateway({ maxSubscriptionsPerConnection: 1 });
    try {
      const c = await TestClient.connect(t.gateway.url);
      c.send({ type: 'subscribe', channel: 'alerts', minSeverity: 'fatal' });
      assert.deepEqual(await c.nextOfType('error'), {
        type: 'error',
        message: 'Invalid minSeverity: fatal. Valid: info, warning, critical',
        code: 'INVALID_SEVERITY',
      });
      c.send({ type: 'subscribe', channel: 'alerts', venue: 'kraken' });
      assert.equal((await c.nextOfType('error'))['code'], 'INVALID_VENUE');
      c.send({ type: 'subscribe', channel: 'alerts', symbol: 'ETH/USDT' });
      assert.deepEqual(await c.nextOfType('error'), {
        type: 'error',
        message: 'Invalid symbol: ETH/USDT. Only BTC/USDT is supported.',
        code: 'INVALID_SYMBOL',
      });

      c.send({ type: 'subscribe', channel: 'alerts' });
      await c.next((m) => m.type === 'alerts');
      c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
      assert.deepEqual(await c.nextOfType('error'), {
        type: 'error',
        message: 'Too many subscriptions: at most 1 per connection. Unsubscribe from one first.',
        code: 'TOO_MANY_SUBSCRIPTIONS',
        symbol: 'BTC/USDT',
        interval: '1m',
      });
      c.send({ type: 'subscribe', channel: 'alerts', minSeverity: 'critical' });
      assert.deepEqual(await c.nextOfType('subscribed'), {
        type: 'subscribed',
        channel: 'alerts',
        minSeverity: 'critical',
      });
      c.send({ type: 'unsubscribe', channel: 'alerts' });
      c.send({ type: 'unsubscribe', channel: 'alerts' });
      c.send({ type: 'ping' });
      await c.nextOfType('pong');
      const count = c.messages.length;
      publishAlert(t.bus, make({ severity: 'critical' }));
      c.send({ type: 'ping' });
      await c.nextOfType('pong');
      assert.equal(c.messages.length, count + 1, 'only the pong after unsubscribe');

      c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
      await c.nextOfType('initial');
      c.send({ type: 'subscribe', channel: 'alerts' });
      assert.deepEqual(await c.nextOfType('error'), {
        type: 'error',
        message: 'Too many subscriptions: at most 1 per connection. Unsubscribe from one first.',
        code: 'TOO_MANY_SUBSCRIPTIONS',
        channel: 'alerts',
      });
      c.close();
    } finally {
      await t.close();
    }
  });

  it('skips and counts undecodable bus messages and repeated alerts; shows the channel in ws-stats', async () => {
    const t = await startTestGateway();
    try {
      const c = await TestClient.connect(t.gateway.url);
      c.send({ type: 'subscribe', channel: 'alerts' });
      await c.next((m) => m.type === 'alerts');
      t.bus.publish(ALERT_CHANNEL, '{"id":"x","time":1,"severity":"bad","kind":"failover","message":"m"}');
      t.bus.publish(ALERT_CHANNEL, 'not json');
      const a = make();
      publishAlert(t.bus, a);
      publishAlert(t.bus, a);
      const b = make({ kind: 'backfill_done', severity: 'info' });
      publishAlert(t.bus, b);
      await waitFor(() => live(c).length >= 2);
      await c.roundTrip();
      assert.deepEqual(
        live(c).map((m) => m['id']),
        [a.id, b.id],
      );
      const stats = t.gateway.stats();
      assert.equal(stats.gateway.badBusMessages, 2);
      assert.equal(stats.gateway.alertsReceived, 2);
      assert.equal(stats.gateway.alertsSent, 2);
      assert.equal(stats.gateway.duplicateAlerts, 1);
      assert.equal(stats.broadcaster.totalClients, 1);
      assert.deepEqual(
        stats.broadcaster.rooms.find((r) => r.key === 'alerts'),
        {
          key: 'alerts',
          clientCount: 1,
          hasCandle: true,
          lastBroadcast: stats.broadcaster.rooms[0]?.lastBroadcast,
        },
      );
      assert.equal(typeof stats.broadcaster.rooms[0]?.lastBroadcast, 'number');
      c.close();
    } finally {
      await t.close();
    }
  });

  it('closes a client that does not read its alerts with 4008 and keeps serving the others', async () => {
    const t = await startTestGateway({ maxBufferedBytes: 64 * 1024 });
    try {
      const slow = await TestClient.connect(t.gateway.url);
      const fast = await TestClient.connect(t.gateway.url);
      slow.send({ type: 'subscribe', channel: 'alerts' });
      fast.send({ type: 'subscribe', channel: 'alerts' });
      await slow.next((m) => m.type === 'alerts');
      await fast.next((m) => m.type === 'alerts');
      // Stop reading on the slow client's socket so the gateway's send buffer fills up.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const big = 'x'.repeat(900);
      let sent = 0;
      while (t.gateway.stats().gateway.droppedSlowClients === 0 && sent < 20_000) {
        publishAlert(t.bus, make({ message: big }));
        sent++;
        if (sent % 200 === 0) await sleep(1);
      }
      assert.equal(t.gateway.stats().gateway.droppedSlowClients, 1);
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      assert.equal(await slow.closed, 4008);
      await waitFor(() => live(fast).length === sent, 5000, 'every alert at the fast client');
      fast.close();
    } finally {
      await t.close();
    }
  });
});
