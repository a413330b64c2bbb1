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

interface WireBar {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  closed: boolean;
  sources: string[];
}
type Kline = [number, string, string, string, string, string, number, string, number, string, string, string];

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
    // A minute ends about 8 s after the start, while the feed is on the backup venue.
    const MINUTE = 60_000;
    const real = Date.now();
    const offset = Math.ceil((real + 8000) / MINUTE) * MINUTE - 8000 - real;
    const now = (): number => Date.now() + offset;
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 3,
      historyDays: 8,
      tradesPerSecond: 10,
      now,
    });
    t.after(() => sim.close());
    const config = configSchema.parse({
      ...DEFAULT_CONFIG,
      port: 0,
      host: '127.0.0.1',
      venues: ['binance', 'okx'],
      urls: { ...DEFAULT_CONFIG.urls, binance: sim.urls.binance, okx: sim.urls.okx },
      failover: { ...DEFAULT_CONFIG.failover, holdDownMs: 5000 },
      gateway: { ...DEFAULT_CONFIG.gateway, throttleMs: 200 },
    });
    const system = await startAll(config, pino({ level: 'silent' }), { now });
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
    let chart: WireBar[] = [];
    let okxBars = 0;
    let candlesReady = false;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as AlertMessage & {
        interval?: string;
        bars?: WireBar[];
        bar?: WireBar;
      };
      if (m.type === 'alert') alerts.push(m);
      if (m.interval !== '1m') return;
      if (m.bar?.sources.includes('okx')) okxBars++;
      if (m.type === 'initial') candlesReady = true;
      // The seed's chart rule, with revisions replacing the bar of their time.
      if (m.type === 'initial') chart = [...(m.bars ?? [])];
      else if ((m.type === 'update' || m.type === 'revision') && m.bar) {
        const at = chart.findIndex((b) => b.time === m.bar?.time);
        if (at >= 0) chart[at] = m.bar;
        else chart.push(m.bar);
      }
    });
    await new Promise((resolve) => ws.once('open', resolve));
    t.after(() => ws.close());
    ws.send(JSON.stringify({ type: 'subscribe', channel: 'alerts' }));
    ws.send(JSON.stringify({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 30 }));
    await until(() => candlesReady, 10_000, 'the candle history');

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
    await until(() => okxBars > 0, 4000, 'a bar built by the backup venue');
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
    const times = chart.map((b) => Date.parse(b.time));
    assert.equal(new Set(times).size, times.length, 'no bar twice');
    for (let i = 1; i < times.length; i++)
      assert.equal(times[i], (times[i - 1] as number) + MINUTE, 'no bar missing');
    const reply = await getJson(
      `${sim.urls.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=60`,
    );
    const klines = new Map((reply.body as Kline[]).map((k) => [new Date(k[0]).toISOString(), k]));
    for (const bar of chart.filter((b) => b.closed && b.sources.length === 1 && b.sources[0] === 'binance')) {
      const k = klines.get(bar.time);
      assert.ok(k, `binance has ${bar.time}`);
      assert.deepEqual(
        [bar.open, bar.high, bar.low, bar.close, bar.volume],
        [Number(k[1]), Number(k[2]), Number(k[3]), Number(k[4]), Number(k[5])],
        bar.time,
      );
    }
  });
});
