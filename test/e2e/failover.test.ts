/**
 * Failover end to end: Binance (primary) and OKX both serve BTC/USDT from the simulator. Cutting the primary's
 * connection switches the active source within the 2 s budget, clients of the alerts channel are told, the
 * /api/websocket endpoints show it, and the primary takes over again once it is healthy for the hold-down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startAll } from '../../src/apps/run-all.ts';
import { configSchema, DEFAULT_CONFIG } from '../../src/config/config.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { getJson } from '../../src/sim/test-kit.ts';

interface AlertMessage {
  type: string;
  kind?: string;
  venue?: string;
  severity?: string;
  details?: Record<string, unknown>;
  time?: number;
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('failover between venues', () => {
  it('switches away from a dropped primary within 2 s, alerts clients, and switches back', async (t) => {
    const sim = await startSimulator({ symbols: ['BTC/USDT'], seed: 3, historyDays: 8, tradesPerSecond: 10 });
    t.after(() => sim.close());
    const config = configSchema.parse({
      ...DEFAULT_CONFIG,
      port: 0,
      host: '127.0.0.1',
      venues: ['binance', 'okx'],
      urls: { ...DEFAULT_CONFIG.urls, binance: sim.urls.binance, okx: sim.urls.okx },
      failover: { ...DEFAULT_CONFIG.failover, holdDownMs: 1500 },
    });
    const system = await startAll(config, pino({ level: 'silent' }));
    t.after(() => system.close());
    const api = `http://127.0.0.1:${system.gateway.port}/api/websocket`;

    await until(
      () => system.monitor.view().instruments[0]?.sources.every((s) => s.healthy) === true,
      15_000,
      'healthy',
    );
    const health = (await getJson(`${api}/health`)).body as Record<string, unknown>;
    assert.equal(health['healthy'], true);
    assert.equal(health['activeSource'], 'binance');
    assert.equal(health['connectedSources'], 2);
    assert.equal(health['totalSources'], 2);

    const ws = new WebSocket(system.gateway.url);
    const alerts: AlertMessage[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as AlertMessage;
      if (m.type === 'alert') alerts.push(m);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    t.after(() => ws.close());
    ws.send(JSON.stringify({ type: 'subscribe', channel: 'alerts' }));
    await new Promise((r) => setTimeout(r, 200));

    const cutAt = Date.now();
    sim.faults.dropConnections('binance');
    await until(() => alerts.some((a) => a.kind === 'failover'), 5000, 'a failover alert');
    const switchedAfterMs = Date.now() - cutAt;
    assert.ok(switchedAfterMs < 2000, `switch took ${switchedAfterMs} ms`);
    const failover = alerts.find((a) => a.kind === 'failover');
    assert.equal(failover?.details?.['from'], 'binance');
    assert.equal(failover?.details?.['to'], 'okx');
    assert.ok(alerts.some((a) => a.kind === 'source_disconnected' && a.venue === 'binance'));
    const active = (await getJson(`${api}/active-source`)).body as Record<string, unknown>;
    assert.equal(active['activeSource'], 'okx');
    const sources = (await getJson(`${api}/sources`)).body as Record<string, unknown>[];
    assert.deepEqual(sources.map((s) => s['exchange']).sort(), ['binance', 'okx']);
    for (const s of sources) {
      for (const field of ['exchange', 'connected', 'latency', 'lastUpdate', 'messagesReceived', 'errors']) {
        assert.ok(field in s, `sources row has ${field}`);
      }
    }

    // Binance reconnects by itself; after the hold-down the primary is active again.
    await until(
      () => alerts.some((a) => a.kind === 'failover' && a.details?.['to'] === 'binance'),
      20_000,
      'the switch back to the primary',
    );
    assert.ok(alerts.some((a) => a.kind === 'source_recovered' && a.venue === 'binance'));
    assert.equal(system.monitor.activeSource('BTC/USDT'), 'binance');
    assert.ok(!alerts.some((a) => a.kind === 'failover_failed'));
  });
});
