import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SourcesView } from '../protocol/source-status.ts';
import { answerSourceRequest, NO_PROVIDER_TEXT, PROVIDER_FAILED_TEXT } from './source-endpoints.ts';

const view: SourcesView = {
  instruments: [
    {
      symbol: 'BTC/USDT',
      activeSource: 'okx',
      primary: 'binance',
      activeSince: 1_729_764_000_000,
      sources: [
        {
          exchange: 'binance',
          connected: false,
          latency: null,
          lastUpdate: 1_729_763_990_000,
          messagesReceived: 120,
          errors: 3,
          healthy: false,
          reason: 'disconnected',
        },
        {
          exchange: 'okx',
          connected: true,
          latency: 42,
          lastUpdate: 1_729_764_000_500,
          messagesReceived: 300,
          errors: 0,
          healthy: true,
          reason: null,
        },
        {
          exchange: 'bitget',
          connected: true,
          latency: 6100,
          lastUpdate: 1_729_764_000_400,
          messagesReceived: 80,
          errors: 0,
          healthy: false,
          reason: 'high-latency',
        },
      ],
    },
    {
      symbol: 'ETH/USDT',
      activeSource: null,
      primary: 'binance',
      sources: [
        {
          exchange: 'binance',
          connected: true,
          latency: 10,
          lastUpdate: 1_729_763_000_000,
          messagesReceived: 5,
          errors: 0,
          healthy: false,
          reason: 'stale',
        },
      ],
    },
  ],
};

function ask(path: string, query = '', provider: (() => SourcesView) | null = () => view) {
  const errors: unknown[] = [];
  const answer = answerSourceRequest(path, new URLSearchParams(query), provider ?? undefined, (e) =>
    errors.push(e),
  );
  return { ...answer, errors };
}

describe('source status endpoints', () => {
  it('health: the default instrument at top level, then every instrument', () => {
    const { status, body } = ask('/api/websocket/health');
    assert.equal(status, 200);
    assert.deepEqual(body, {
      healthy: true,
      activeSource: 'okx',
      connectedSources: 2,
      totalSources: 3,
      symbol: 'BTC/USDT',
      instruments: [
        { healthy: true, activeSource: 'okx', connectedSources: 2, totalSources: 3, symbol: 'BTC/USDT' },
        { healthy: false, activeSource: null, connectedSources: 1, totalSources: 1, symbol: 'ETH/USDT' },
      ],
    });
    assert.deepEqual(Object.keys(body as object).slice(0, 4), [
      'healthy',
      'activeSource',
      'connectedSources',
      'totalSources',
    ]);
  });

  it('health: ?symbol= selects one instrument; an unhealthy active source is not healthy', () => {
    assert.deepEqual(ask('/api/websocket/health', 'symbol=ETH%2FUSDT').body, {
      healthy: false,
      activeSource: null,
      connectedSources: 1,
      totalSources: 1,
      symbol: 'ETH/USDT',
    });
    const sick: SourcesView = {
      instruments: [{ ...view.instruments[0]!, activeSource: 'bitget' }],
    };
    assert.equal(
      (ask('/api/websocket/health', 'symbol=BTC/USDT', () => sick).body as { healthy: boolean }).healthy,
      false,
    );
  });

  it('sources: one row per instrument and venue with the seed fields first', () => {
    const { status, body } = ask('/api/websocket/sources');
    assert.equal(status, 200);
    const rows = body as Record<string, unknown>[];
    assert.equal(rows.length, 4);
    assert.deepEqual(rows[1], {
      exchange: 'okx',
      connected: true,
      latency: 42,
      lastUpdate: 1_729_764_000_500,
      messagesReceived: 300,
      errors: 0,
      healthy: true,
      symbol: 'BTC/USDT',
      active: true,
      primary: false,
    });
    assert.equal(rows[0]?.['reason'], 'disconnected');
    assert.equal(rows[0]?.['primary'], true);
    assert.deepEqual(
      (ask('/api/websocket/sources', 'symbol=ETH/USDT').body as Record<string, unknown>[]).map(
        (r) => r['exchange'],
      ),
      ['binance'],
    );
  });

  it('active-source: the default instrument, since when, and every instrument', () => {
    assert.deepEqual(ask('/api/websocket/active-source').body, {
      activeSource: 'okx',
      symbol: 'BTC/USDT',
      primary: 'binance',
      since: 1_729_764_000_000,
      instruments: [
        { activeSource: 'okx', symbol: 'BTC/USDT', primary: 'binance', since: 1_729_764_000_000 },
        { activeSource: null, symbol: 'ETH/USDT', primary: 'binance', since: null },
      ],
    });
    assert.deepEqual(ask('/api/websocket/active-source', 'symbol=ETH/USDT').body, {
      activeSource: null,
      symbol: 'ETH/USDT',
      primary: 'binance',
      since: null,
    });
  });

  it('answers an unknown symbol with 404 and the known ones', () => {
    for (const path of ['/api/websocket/health', '/api/websocket/sources', '/api/websocket/active-source']) {
      assert.deepEqual(ask(path, 'symbol=DOGE/USDT'), {
        status: 404,
        body: { error: 'Unknown symbol: DOGE/USDT. Known: BTC/USDT, ETH/USDT' },
        errors: [],
      });
    }
    const long = ask('/api/websocket/health', `symbol=${'X'.repeat(100)}`).body as { error: string };
    assert.ok(long.error.startsWith(`Unknown symbol: ${'X'.repeat(64)}…. Known`));
  });

  it('reports a feed with no instrument as unhealthy with empty lists', () => {
    const empty = (): SourcesView => ({ instruments: [] });
    assert.deepEqual(ask('/api/websocket/health', '', empty).body, {
      healthy: false,
      activeSource: null,
      connectedSources: 0,
      totalSources: 0,
      symbol: null,
      instruments: [],
    });
    assert.deepEqual(ask('/api/websocket/sources', '', empty).body, []);
    assert.deepEqual(ask('/api/websocket/active-source', '', empty).body, {
      activeSource: null,
      symbol: null,
      primary: null,
      since: null,
      instruments: [],
    });
  });

  it('answers 503 without a provider and 500 when the provider throws', () => {
    assert.deepEqual(ask('/api/websocket/health', '', null), {
      status: 503,
      body: { error: NO_PROVIDER_TEXT },
      errors: [],
    });
    const boom = new Error('boom');
    const failed = ask('/api/websocket/sources', '', () => {
      throw boom;
    });
    assert.deepEqual(failed, { status: 500, body: { error: PROVIDER_FAILED_TEXT }, errors: [boom] });
  });
});
