import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InstrumentSourcesView, SourcesView } from '../../src/protocol/source-status.ts';
import { startTestGateway } from './helpers.ts';

async function get(
  base: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; type: string; body: unknown }> {
  const res = await fetch(base.replace(/^ws/, 'http') + path, { method });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

function btc(active: 'binance' | 'okx' | null, binanceUp: boolean): InstrumentSourcesView {
  return {
    symbol: 'BTC/USDT',
    activeSource: active,
    primary: 'binance',
    activeSince: 1_729_764_000_000,
    sources: [
      {
        exchange: 'binance',
        connected: binanceUp,
        latency: binanceUp ? 35 : null,
        lastUpdate: 1_729_764_000_100,
        messagesReceived: 1000,
        errors: binanceUp ? 0 : 1,
        healthy: binanceUp,
        ...(binanceUp ? {} : { reason: 'disconnected' }),
      },
      {
        exchange: 'okx',
        connected: true,
        latency: 48,
        lastUpdate: 1_729_764_000_200,
        messagesReceived: 900,
        errors: 0,
        healthy: true,
      },
    ],
  };
}

describe('gateway: source status endpoints over HTTP', () => {
  it('serves health, sources and active-source from the provider, read on every request', async () => {
    let view: SourcesView = { instruments: [btc('binance', true)] };
    const t = await startTestGateway({}, { sources: () => view });
    try {
      const health = await get(t.gateway.url, '/api/websocket/health');
      assert.equal(health.status, 200);
      assert.match(health.type, /^application\/json/);
      assert.deepEqual(health.body, {
        healthy: true,
        activeSource: 'binance',
        connectedSources: 2,
        totalSources: 2,
        symbol: 'BTC/USDT',
        instruments: [
          {
            healthy: true,
            activeSource: 'binance',
            connectedSources: 2,
            totalSources: 2,
            symbol: 'BTC/USDT',
          },
        ],
      });

      view = { instruments: [btc('okx', false)] };
      const after = await get(t.gateway.url, '/api/websocket/health?symbol=BTC%2FUSDT');
      assert.deepEqual(after.body, {
        healthy: true,
        activeSource: 'okx',
        connectedSources: 1,
        totalSources: 2,
        symbol: 'BTC/USDT',
      });

      const sources = await get(t.gateway.url, '/api/websocket/sources');
      assert.equal(sources.status, 200);
      const rows = sources.body as Record<string, unknown>[];
      assert.deepEqual(
        rows.map((r) => [
          r['exchange'],
          r['connected'],
          r['healthy'],
          r['active'],
          r['primary'],
          r['reason'],
        ]),
        [
          ['binance', false, false, false, true, 'disconnected'],
          ['okx', true, true, true, false, undefined],
        ],
      );
      assert.deepEqual(Object.keys(rows[1] ?? {}).slice(0, 6), [
        'exchange',
        'connected',
        'latency',
        'lastUpdate',
        'messagesReceived',
        'errors',
      ]);

      const active = await get(t.gateway.url, '/api/websocket/active-source?symbol=BTC/USDT');
      assert.deepEqual(active, {
        status: 200,
        type: 'application/json; charset=utf-8',
        body: { activeSource: 'okx', symbol: 'BTC/USDT', primary: 'binance', since: 1_729_764_000_000 },
      });
    } finally {
      await t.close();
    }
  });

  it('answers an unknown symbol with 404, other methods with 405, HEAD without a body', async () => {
    const t = await startTestGateway({}, { sources: () => ({ instruments: [btc('binance', true)] }) });
    try {
      assert.deepEqual(await get(t.gateway.url, '/api/websocket/sources?symbol=ETH/USDT'), {
        status: 404,
        type: 'application/json; charset=utf-8',
        body: { error: 'Unknown symbol: ETH/USDT. Known: BTC/USDT' },
      });
      const post = await get(t.gateway.url, '/api/websocket/active-source', 'POST');
      assert.equal(post.status, 405);
      assert.deepEqual(post.body, { error: 'Method not allowed', allow: 'GET, HEAD' });
      const head = await get(t.gateway.url, '/api/websocket/health', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body, undefined);
      assert.equal((await get(t.gateway.url, '/api/websocket/nope')).status, 404);
    } finally {
      await t.close();
    }
  });

  it('answers 503 JSON without a provider and 500 when the provider throws', async () => {
    const none = await startTestGateway();
    try {
      for (const path of [
        '/api/websocket/health',
        '/api/websocket/sources',
        '/api/websocket/active-source',
      ]) {
        const res = await get(none.gateway.url, path);
        assert.equal(res.status, 503, path);
        assert.match(res.type, /^application\/json/);
        assert.match(
          (res.body as { error: string }).error,
          /^Source status unavailable: no multi-source feed/,
        );
      }
    } finally {
      await none.close();
    }
    const broken = await startTestGateway(
      {},
      {
        sources: () => {
          throw new Error('feed stopped');
        },
      },
    );
    try {
      const res = await get(broken.gateway.url, '/api/websocket/health');
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { error: 'Source status unavailable: the feed failed to report it' });
      // The gateway itself still answers /health, and says that it cannot vouch for the feed.
      const health = await get(broken.gateway.url, '/health');
      assert.equal(health.status, 503);
      assert.equal((health.body as { status: string }).status, 'degraded');
    } finally {
      await broken.close();
    }
  });
});
