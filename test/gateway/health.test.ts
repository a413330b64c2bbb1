import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SourceStatusView, SourcesView } from '../../src/protocol/source-status.ts';
import { makeBar, makeUpdate, startTestGateway, TestClient } from './helpers.ts';

const T0 = Date.UTC(2024, 9, 24, 10, 0);

async function get(
  base: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; type: string; body: unknown }> {
  const res = await fetch(base.replace(/^ws/, 'http') + path, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() };
}

describe('gateway: HTTP endpoints', () => {
  it('GET /health of a gateway embedded without a feed reports the gateway alone: ok, uptime, connections, rooms, symbols', async () => {
    const t = await startTestGateway();
    try {
      const c = await TestClient.connect(t.gateway.url);
      const { status, type, body } = await get(t.gateway.url, '/health');
      assert.equal(status, 200);
      assert.match(type, /^application\/json/);
      const health = body as Record<string, unknown>;
      assert.deepEqual(Object.keys(health), [
        'status',
        'uptimeMs',
        'connections',
        'rooms',
        'symbols',
        'ready',
      ]);
      // No feed in this process: nothing is live, so it is never ready.
      assert.equal(health['ready'], false);
      assert.equal(health['status'], 'ok');
      assert.equal(typeof health['uptimeMs'], 'number');
      assert.equal(health['connections'], 1);
      assert.equal(health['rooms'], 0);
      assert.deepEqual(health['symbols'], ['BTC/USDT']);
      c.close();
    } finally {
      await t.close();
    }
  });

  it('GET /health tells the truth about the feed: 503 degraded without a live source, 200 ok with one', async () => {
    const binance = (healthy: boolean): SourceStatusView => ({
      exchange: 'binance',
      connected: healthy,
      latency: healthy ? 12 : null,
      lastUpdate: healthy ? T0 : null,
      messagesReceived: healthy ? 40 : 0,
      errors: 0,
      healthy,
      ...(healthy ? {} : { reason: 'disconnected' }),
    });
    let view: SourcesView = {
      instruments: [
        { symbol: 'BTC/USDT', activeSource: 'binance', primary: 'binance', sources: [binance(false)] },
      ],
      inStartupGrace: false,
    };
    const t = await startTestGateway({}, { sources: () => view });
    try {
      const down = await get(t.gateway.url, '/health');
      assert.equal(down.status, 503);
      assert.match(down.type, /^application\/json/);
      assert.deepEqual(down.body, {
        status: 'degraded',
        uptimeMs: (down.body as { uptimeMs: number }).uptimeMs,
        connections: 0,
        rooms: 0,
        symbols: ['BTC/USDT'],
        ready: false,
        reasons: ['BTC/USDT: no live source (binance disconnected)'],
        connectedVenues: [],
        instruments: [
          {
            symbol: 'BTC/USDT',
            state: 'down',
            activeSource: 'binance',
            liveSources: 0,
            connectedSources: 0,
            totalSources: 1,
            reason: 'BTC/USDT: no live source (binance disconnected)',
          },
        ],
      });
      const head = await fetch(t.gateway.url.replace(/^ws/, 'http') + '/health', { method: 'HEAD' });
      assert.equal(head.status, 503);

      view = { ...view, instruments: [{ ...view.instruments[0]!, sources: [binance(true)] }] };
      const up = await get(t.gateway.url, '/health');
      assert.equal(up.status, 200);
      const body = up.body as Record<string, unknown>;
      assert.equal(body['status'], 'ok');
      assert.deepEqual(body['reasons'], []);
      assert.deepEqual(body['connectedVenues'], ['binance']);
    } finally {
      await t.close();
    }
  });

  it('GET /health/ws-stats has the API document shape plus the gateway counters', async () => {
    const t = await startTestGateway(
      { throttleMs: 20 },
      { aggregatorStats: () => ({ oneMinuteCandlesCount: 1440, intervals: 7 }) },
    );
    try {
      const a = await TestClient.connect(t.gateway.url);
      const b = await TestClient.connect(t.gateway.url);
      const idle = await TestClient.connect(t.gateway.url);
      a.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
      a.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '5m' });
      b.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
      await a.next((m) => m.type === 'initial' && m.interval === '5m');
      await b.nextOfType('initial');
      t.publish(makeUpdate(makeBar(T0, '67310.25')));
      await a.nextOfType('update');
      idle.send({ type: 'bogus' });
      await idle.nextOfType('error');

      const { status, body } = await get(t.gateway.url, '/health/ws-stats');
      assert.equal(status, 200);
      const stats = body as {
        connections: number;
        broadcaster: { totalRooms: number; totalClients: number; rooms: Record<string, unknown>[] };
        aggregator: Record<string, unknown>;
        gateway: Record<string, unknown>;
      };
      assert.deepEqual(Object.keys(stats), ['connections', 'broadcaster', 'aggregator', 'gateway']);
      assert.equal(stats.connections, 3);
      assert.deepEqual(Object.keys(stats.broadcaster), ['totalRooms', 'totalClients', 'rooms']);
      assert.equal(stats.broadcaster.totalRooms, 2);
      assert.equal(stats.broadcaster.totalClients, 2);
      const rooms = Object.fromEntries(stats.broadcaster.rooms.map((r) => [r['key'], r]));
      assert.deepEqual(Object.keys(rooms['BTC/USDT:1m'] ?? {}), [
        'key',
        'clientCount',
        'hasCandle',
        'lastBroadcast',
      ]);
      assert.equal(rooms['BTC/USDT:1m']?.['clientCount'], 2);
      assert.equal(rooms['BTC/USDT:1m']?.['hasCandle'], true);
      assert.equal(typeof rooms['BTC/USDT:1m']?.['lastBroadcast'], 'number');
      assert.equal(rooms['BTC/USDT:5m']?.['clientCount'], 1);
      assert.equal(rooms['BTC/USDT:5m']?.['hasCandle'], false);
      assert.equal(rooms['BTC/USDT:5m']?.['lastBroadcast'], null);
      assert.deepEqual(stats.aggregator, { oneMinuteCandlesCount: 1440, intervals: 7 });
      assert.equal(stats.gateway['connectionsOpened'], 3);
      assert.equal(stats.gateway['initialsSent'], 3);
      assert.equal(stats.gateway['updatesBroadcast'], 1);
      assert.equal(stats.gateway['updatesMerged'], 0);
      assert.deepEqual(stats.gateway['errorsByCode'], { INVALID_MESSAGE: 1 });
      assert.equal(stats.gateway['droppedSlowClients'], 0);
      assert.equal(stats.gateway['terminatedByHeartbeat'], 0);
      assert.deepEqual(t.gateway.stats(), stats);
    } finally {
      await t.close();
    }
  });

  it('reports an aggregator running elsewhere as not in process', async () => {
    const t = await startTestGateway();
    try {
      const { body } = await get(t.gateway.url, '/health/ws-stats');
      assert.deepEqual((body as { aggregator: unknown }).aggregator, {
        oneMinuteCandlesCount: 0,
        inProcess: false,
      });
    } finally {
      await t.close();
    }
  });

  it('answers unknown paths with 404 JSON and other methods with 405', async () => {
    const t = await startTestGateway();
    try {
      assert.deepEqual(await get(t.gateway.url, '/nope'), {
        status: 404,
        type: 'application/json; charset=utf-8',
        body: { error: 'Not found' },
      });
      const post = await get(t.gateway.url, '/health', 'POST');
      assert.equal(post.status, 405);
    } finally {
      await t.close();
    }
  });
});
