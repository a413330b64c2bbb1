/**
 * Failover end to end: Binance (primary) and OKX both serve BTC/USDT from the simulator. Cutting the primary's
 * connection switches the active source within the 2 s budget, clients of the alerts channel are told, the
 * /api/websocket endpoints show it, and the primary takes over again once it is healthy for the hold-down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { getJson } from '../../src/sim/test-kit.ts';
import {
  assertEachAsVenue,
  chart,
  clockNearBoundary,
  MINUTE,
  until,
  venueKlines,
  type Message,
  startSimulatedSystem,
} from './helpers.ts';

interface AlertMessage {
  type: string;
  kind?: string;
  venue?: string;
  details?: Record<string, unknown>;
}

describe('failover between venues', () => {
  it('switches away from a dropped primary within 2 s, alerts clients, and switches back', async (t) => {
    // A minute ends about 8 s after the start, while the feed is on the backup venue.
    const now = clockNearBoundary(8000);
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['binance', 'okx'],
      seed: 3,
      now,
      failover: { holdDownMs: 5000 },
      gateway: { throttleMs: 200 },
    });
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
    const messages: Message[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as AlertMessage & Message;
      if (m.type === 'alert') alerts.push(m);
      else messages.push(m);
    });
    const okxBars = (): number => messages.filter((m) => m.bar?.sources.includes('okx')).length;
    await new Promise((resolve) => ws.once('open', resolve));
    t.after(() => ws.close());
    ws.send(JSON.stringify({ type: 'subscribe', channel: 'alerts' }));
    ws.send(JSON.stringify({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 30 }));
    await until(() => messages.some((m) => m.type === 'initial'), 10_000, 'the candle history');

    const cutAt = Date.now();
    sim.faults.dropConnections('binance');
    await until(() => alerts.some((a) => a.kind === 'failover'), 5000, 'a failover alert');
    const switchedAfterMs = Date.now() - cutAt;
    assert.ok(switchedAfterMs < 2000, `switch took ${switchedAfterMs} ms`);
    const failover = alerts.find((a) => a.kind === 'failover');
    assert.equal(failover?.details?.['from'], 'binance');
    assert.equal(failover?.details?.['to'], 'okx');
    assert.ok(alerts.some((a) => a.kind === 'source_disconnected' && a.venue === 'binance'));
    // While the backup is active, the composite candles come from it.
    await until(() => okxBars() > 0, 4000, 'a bar built by the backup venue');
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

    // The composite candles stayed one continuous stream: each minute once, none missing, every bar from one
    // venue, and the bars the primary built equal to its own klines.
    await new Promise((r) => setTimeout(r, 1000));
    const bars = chart(messages);
    const times = bars.map((b) => Date.parse(b.time));
    assert.equal(new Set(times).size, times.length, 'no bar twice');
    for (let i = 1; i < times.length; i++) {
      assert.equal(times[i], (times[i - 1] as number) + MINUTE, 'no bar missing');
    }
    const klines = await venueKlines(sim.urls.binance.restUrl, 60);
    assertEachAsVenue(
      bars.filter((b) => b.closed && b.sources.length === 1 && b.sources[0] === 'binance'),
      klines,
    );
  });

  it('switches away from a stalled primary (socket open, nothing sent) once it is stale, and back when it resumes', async (t) => {
    const staleAfterMs = 2000;
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['binance', 'okx'],
      seed: 4,
      failover: { staleAfterMs, holdDownMs: 1000 },
    });
    await until(
      () => system.monitor.view().instruments[0]?.sources.every((s) => s.healthy) === true,
      15_000,
      'healthy',
    );
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

    const stalledAt = Date.now();
    sim.faults.stall('binance');
    await until(
      () => system.monitor.activeSource('BTC/USDT') === 'okx',
      staleAfterMs + 5000,
      'a switch to okx',
    );
    // Observable once no message came for staleAfterMs; the switch follows within one evaluation period.
    const switchedAfterMs = Date.now() - stalledAt;
    assert.ok(switchedAfterMs < staleAfterMs + 2000, `switch took ${switchedAfterMs} ms after the stall`);
    await until(
      () => alerts.some((a) => a.kind === 'source_stale' && a.venue === 'binance'),
      2000,
      'a stale alert',
    );
    assert.ok(alerts.some((a) => a.kind === 'failover' && a.details?.['to'] === 'okx'));

    sim.faults.resumeStream('binance');
    await until(() => system.monitor.activeSource('BTC/USDT') === 'binance', 30_000, 'the switch back');
    assert.ok(alerts.some((a) => a.kind === 'source_recovered' && a.venue === 'binance'));
    assert.ok(!alerts.some((a) => a.kind === 'failover_failed'));
  });
});
