/**
 * Failover end to end: Binance (primary) and OKX both serve BTC/USDT from the simulator. Cutting, stalling or
 * slowing the primary's connection switches the active source within the 2 s budget from the fault becoming
 * observable, clients of the alerts channel are told, the /api/websocket endpoints show it, and the primary takes
 * over again once it is healthy for the hold-down.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { DEFAULT_CONFIG } from '../../src/config/config.ts';
import type { RunningSystem } from '../../src/apps/run-all.ts';
import type { SourceMonitor } from '../../src/ingest/source-monitor.ts';
import { BASIS_LIMIT_BPS } from '../../src/sim/market/market.ts';
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
  type WireBar,
} from './helpers.ts';

/**
 * The simulated venues quote one underlying, each within its bounded basis: two venues' quotes of one moment are
 * at most twice that bound apart, and a minute's open follows the previous close by a fraction of a second.
 */
const CONTINUITY_BPS = 2 * BASIS_LIMIT_BPS + 10;

/**
 * Asserts that the chart has no cliff: each bar opens within CONTINUITY_BPS of the previous close, across a switch
 * of venue too; returns how many switches of venue the chart holds.
 */
function assertContinuous(bars: readonly WireBar[]): number {
  let switches = 0;
  for (let i = 1; i < bars.length; i++) {
    const prev = bars[i - 1] as WireBar;
    const bar = bars[i] as WireBar;
    if (bar.sources.join() !== prev.sources.join()) switches++;
    const gapBps = (Math.abs(bar.open - prev.close) / prev.close) * 10_000;
    assert.ok(
      gapBps < CONTINUITY_BPS,
      `${bar.time} (${bar.sources.join('+')}) opens ${gapBps.toFixed(1)} bps away from the close of ${prev.time} (${prev.sources.join('+')})`,
    );
  }
  return switches;
}

/** Detection plus switch, counted from the moment the fault is observable. */
const SWITCH_BUDGET_MS = 2000;

/**
 * The budget as a number of the source monitor's evaluation periods. The tests count evaluations rather than
 * milliseconds: a loaded machine stretches the wall time between two evaluations, not how many it takes to switch.
 */
const SWITCH_BUDGET_EVALUATIONS = SWITCH_BUDGET_MS / DEFAULT_CONFIG.failover.evaluateEveryMs;

/** One run of the source monitor's evaluation, bracketed by the system's clock. */
interface Evaluation {
  readonly start: number;
  readonly end: number;
}

/** Records every evaluation of `monitor` (timer tick or connection change) on the system's clock `now`. */
function recordEvaluations(t: TestContext, monitor: SourceMonitor, now: () => number): Evaluation[] {
  const evaluations: Evaluation[] = [];
  const evaluate = monitor.evaluate.bind(monitor);
  t.mock.method(monitor, 'evaluate', () => {
    const start = now();
    evaluate();
    evaluations.push({ start, end: now() });
  });
  return evaluations;
}

/**
 * Records when `monitor` switched to `to` (on the system's clock). Registered before the fault, read after it.
 */
function recordSwitchesTo(monitor: SourceMonitor, to: string): number[] {
  const at: number[] = [];
  monitor.onSwitch((change) => {
    if (change.to === to) at.push(change.at);
  });
  return at;
}

/**
 * Waits until the primary is the active source. Under load a start-up may switch away and back once; a failover
 * alert of that must not be taken for the one the fault causes.
 */
async function untilPrimaryActive(system: RunningSystem): Promise<void> {
  await until(() => system.monitor.activeSource('BTC/USDT') === 'binance', 30_000, 'binance active');
}

/** The first failover alert to `to` among those that came after index `from`. */
function failoverTo(alerts: readonly AlertMessage[], from: number, to: string): AlertMessage | undefined {
  return alerts.slice(from).find((a) => a.kind === 'failover' && a.details?.['to'] === to);
}

/**
 * How many evaluations saw the fault (observable `detectMs` before the switch at `switchedAt`) and did not switch
 * yet. An evaluation counts only when it ran wholly inside that span, so a clock tick during one cannot add to it.
 */
function evaluationsBeforeSwitch(
  evaluations: readonly Evaluation[],
  switchedAt: number,
  detectMs: number,
): number {
  const observableAt = switchedAt - detectMs;
  return evaluations.filter((e) => e.start >= observableAt && e.end < switchedAt).length;
}

/** Asserts that the monitor's failover `alert` switched within the budget's evaluations of the fault. */
function assertSwitchedWithinBudget(
  alert: AlertMessage | undefined,
  evaluations: readonly Evaluation[],
  switchedAt: number | undefined,
): void {
  const detectMs = alert?.details?.['detectMs'];
  assert.ok(typeof detectMs === 'number', `the failover alert reports detectMs: ${JSON.stringify(alert)}`);
  assert.ok(typeof switchedAt === 'number', 'the monitor reported the switch');
  const late = evaluationsBeforeSwitch(evaluations, switchedAt, detectMs);
  assert.ok(
    late < SWITCH_BUDGET_EVALUATIONS,
    `switched ${detectMs} ms after the fault was observable, after ${late} evaluations that saw it`,
  );
}

/**
 * Waits until the closed bars the primary built equal its own klines: after the switch back, its klines may still
 * be revising the minutes the backup built.
 */
async function untilPrimaryBarsSettled(messages: readonly Message[], restUrl: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const klines = await venueKlines(restUrl, 60);
    const primaryBars = chart(messages).filter(
      (b) => b.closed && b.sources.length === 1 && b.sources[0] === 'binance',
    );
    try {
      assertEachAsVenue(primaryBars, klines);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface AlertMessage {
  type: string;
  kind?: string;
  venue?: string;
  details?: Record<string, unknown>;
}

/** Polls GET `url` until `check` accepts the body; returns that body, or rejects naming `what` after `ms`. */
async function untilServed<T>(
  url: string,
  check: (body: T) => boolean,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const body = (await getJson(url)).body as T;
    if (check(body)) return body;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('failover between venues', () => {
  it('switches away from a dropped primary within 2 s, alerts clients, and switches back', async (t) => {
    // A minute ends about 8 s after the start, while the feed is on the backup venue.
    const now = clockNearBoundary(8000);
    const { sim, system } = await startSimulatedSystem(t, {
      historyDays: 1,
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

    await untilPrimaryActive(system);
    const evaluations = recordEvaluations(t, system.monitor, now);
    const switches = recordSwitchesTo(system.monitor, 'okx');
    const alertsBefore = alerts.length;
    sim.faults.dropConnections('binance');
    await until(() => failoverTo(alerts, alertsBefore, 'okx') !== undefined, 10_000, 'a failover alert');
    const failover = failoverTo(alerts, alertsBefore, 'okx');
    // Observable once the runner sees the connection close; the switch follows at that evaluation.
    assertSwitchedWithinBudget(failover, evaluations, switches[0]);
    assert.equal(failover?.details?.['from'], 'binance');
    assert.equal(failover?.details?.['to'], 'okx');
    assert.ok(alerts.some((a) => a.kind === 'source_disconnected' && a.venue === 'binance'));
    // While the backup is active, the composite candles come from it.
    await until(() => okxBars() > 0, 4000, 'a bar built by the backup venue');
    // No cliff where the venue changed: the backup quotes the same market within its basis. (Checked on the chart
    // as it is now: once the primary is back, its own klines may revise the minutes the backup built.)
    assert.ok(assertContinuous(chart(messages)) >= 1, 'the chart switched to the backup');
    const active = (await getJson(`${api}/active-source`)).body as Record<string, unknown>;
    assert.equal(active['activeSource'], 'okx');
    // The same status for Prometheus, per venue and symbol.
    const metrics = await (await fetch(`http://127.0.0.1:${system.gateway.port}/metrics`)).text();
    assert.match(metrics, /^tickwire_source_active\{venue="okx",symbol="BTC\/USDT",role="all"\} 1$/m);
    assert.match(metrics, /^tickwire_source_active\{venue="binance",symbol="BTC\/USDT",role="all"\} 0$/m);
    assert.match(
      metrics,
      /^tickwire_source_messages_total\{venue="okx",symbol="BTC\/USDT",role="all"\} [1-9]/m,
    );
    // The whole process's /metrics: counts are counters, levels gauges (OPERATIONS.md lists each).
    for (const [name, type] of [
      ['tickwire_source_messages_total', 'counter'],
      ['tickwire_failovers_total', 'counter'],
      ['tickwire_venue_reconnects_total', 'counter'],
      ['tickwire_venue_sequence_gaps_total', 'counter'],
      ['tickwire_gateway_messages_sent_total', 'counter'],
      ['tickwire_gateway_bytes_sent_total', 'counter'],
      ['tickwire_event_loop_stalls_total', 'counter'],
      ['tickwire_event_loop_delay_seconds', 'gauge'],
      ['tickwire_venue_connected', 'gauge'],
      ['tickwire_gateway_connections', 'gauge'],
    ]) {
      assert.match(metrics, new RegExp(`^# TYPE ${name} ${type}$`, 'm'));
    }
    assert.match(metrics, /^tickwire_failovers_total\{symbol="BTC\/USDT",role="all"\} [1-9]/m);
    assert.match(metrics, /^tickwire_gateway_messages_sent_total\{role="all"\} [1-9]/m);
    assert.doesNotMatch(metrics, /^# TYPE tickwire_\S+_total gauge$/m, 'no count exported as a gauge');
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
    await untilPrimaryBarsSettled(messages, sim.urls.binance.restUrl);
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
    assertContinuous(bars);
  });

  it('switches away from a stalled primary (socket open, nothing sent) once it is stale, and back when it resumes', async (t) => {
    const staleAfterMs = 2000;
    const { sim, system } = await startSimulatedSystem(t, {
      historyDays: 1,
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
    let subscribed = false;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as AlertMessage;
      if (m.type === 'alert') alerts.push(m);
      if (m.type === 'subscribed') subscribed = true;
    });
    await new Promise((resolve) => ws.once('open', resolve));
    t.after(() => ws.close());
    ws.send(JSON.stringify({ type: 'subscribe', channel: 'alerts' }));
    await until(() => subscribed, 10_000, 'the alerts subscription');

    await untilPrimaryActive(system);
    const evaluations = recordEvaluations(t, system.monitor, Date.now);
    const switches = recordSwitchesTo(system.monitor, 'okx');
    const alertsBefore = alerts.length;
    sim.faults.stall('binance');
    await until(
      () => system.monitor.activeSource('BTC/USDT') === 'okx',
      staleAfterMs + 10_000,
      'a switch to okx',
    );
    await until(
      () => alerts.some((a) => a.kind === 'source_stale' && a.venue === 'binance'),
      10_000,
      'a stale alert',
    );
    await until(() => failoverTo(alerts, alertsBefore, 'okx') !== undefined, 10_000, 'a failover alert');
    const failover = failoverTo(alerts, alertsBefore, 'okx');
    assert.equal(failover?.details?.['to'], 'okx');
    // Observable once no message came for staleAfterMs; the switch follows within one evaluation period.
    assertSwitchedWithinBudget(failover, evaluations, switches[0]);

    sim.faults.resumeStream('binance');
    await until(() => system.monitor.activeSource('BTC/USDT') === 'binance', 30_000, 'the switch back');
    assert.ok(alerts.some((a) => a.kind === 'source_recovered' && a.venue === 'binance'));
    assert.ok(!alerts.some((a) => a.kind === 'failover_failed'));
  });

  it('switches away from a primary whose link is slow once the latency is seen, and back when it is fast again', async (t) => {
    // Well above the loopback lag (a few ms) even on a loaded machine, so only the fault can cross it.
    const maxSourceLatencyMs = 1000;
    const latencyMs = 2500;
    // A minute ends about 15 s after the start (start-up with a day of history takes 2-5 s here, the switch about
    // 4 s more), usually while the feed is on the backup venue; the test waits for the next one if not.
    const now = clockNearBoundary(15_000);
    const { sim, system } = await startSimulatedSystem(t, {
      historyDays: 1,
      venues: ['binance', 'okx'],
      seed: 6,
      now,
      failover: { maxSourceLatencyMs, holdDownMs: 1000 },
      gateway: { throttleMs: 200 },
    });
    const api = `http://127.0.0.1:${system.gateway.port}/api/websocket`;
    await until(
      () => system.monitor.view().instruments[0]?.sources.every((s) => s.healthy) === true,
      15_000,
      'healthy',
    );

    const ws = new WebSocket(system.gateway.url);
    const alerts: AlertMessage[] = [];
    const messages: Message[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as AlertMessage & Message;
      if (m.type === 'alert') alerts.push(m);
      else messages.push(m);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    t.after(() => ws.close());
    ws.send(JSON.stringify({ type: 'subscribe', channel: 'alerts' }));
    ws.send(JSON.stringify({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 30 }));
    await until(() => messages.some((m) => m.type === 'initial'), 10_000, 'the candle history');

    await untilPrimaryActive(system);
    const evaluations = recordEvaluations(t, system.monitor, now);
    const switches = recordSwitchesTo(system.monitor, 'okx');
    const alertsBefore = alerts.length;
    sim.faults.latency('binance', latencyMs);
    await until(
      () => system.monitor.activeSource('BTC/USDT') === 'okx',
      latencyMs + 10_000,
      'a switch to okx',
    );
    await until(() => failoverTo(alerts, alertsBefore, 'okx') !== undefined, 10_000, 'a failover alert');
    const failover = failoverTo(alerts, alertsBefore, 'okx');
    assert.equal(failover?.details?.['from'], 'binance');
    assert.equal(failover?.details?.['to'], 'okx');
    assert.match(String(failover?.details?.['reason']), /latency/);
    // Observable once the first frame sent after the fault arrives, latencyMs later; the monitor's own measure
    // (detectMs) runs from that sample over the limit to the switch, which follows within one evaluation period.
    assertSwitchedWithinBudget(failover, evaluations, switches[0]);
    await until(
      () => alerts.some((a) => a.kind === 'source_slow' && a.venue === 'binance'),
      10_000,
      'a slow-source alert',
    );
    const slowAlert = alerts.find((a) => a.kind === 'source_slow' && a.venue === 'binance');
    assert.equal(slowAlert?.details?.['maxSourceLatency'], maxSourceLatencyMs, 'the limit it passed');
    assert.ok(Number(slowAlert?.details?.['latency']) > maxSourceLatencyMs, 'the latency it measured');
    const rows = await untilServed<Record<string, unknown>[]>(
      `${api}/sources`,
      (body) =>
        body.some(
          (s) => s['exchange'] === 'binance' && Number(s['latency']) >= latencyMs && s['healthy'] === false,
        ),
      5000,
      'the latency of binance in /sources',
    );
    const slow = rows.find((s) => s['exchange'] === 'binance');
    assert.equal(slow?.['reason'], 'high-latency');
    assert.equal(slow?.['connected'], true);
    assert.equal(rows.find((s) => s['exchange'] === 'okx')?.['active'], true);

    // Stay on the backup across a minute's end, so the chart holds a bar the backup closed.
    const boundary = Math.ceil(now() / MINUTE) * MINUTE;
    await until(
      () =>
        messages.some(
          (m) =>
            m.bar?.closed === true &&
            Date.parse(m.bar.time) === boundary - MINUTE &&
            m.bar.sources.includes('okx'),
        ),
      boundary - now() + 10_000,
      'the bar closed while on the backup',
    );
    assert.ok(assertContinuous(chart(messages)) >= 1, 'the chart switched to the backup');
    sim.faults.latency('binance', 0);
    await until(() => system.monitor.activeSource('BTC/USDT') === 'binance', 20_000, 'the switch back');
    assert.ok(alerts.some((a) => a.kind === 'source_recovered' && a.venue === 'binance'));
    assert.ok(!alerts.some((a) => a.kind === 'failover_failed'));
    await untilServed<Record<string, unknown>[]>(
      `${api}/sources`,
      (body) => body.some((s) => s['exchange'] === 'binance' && s['active'] === true),
      2000,
      'binance active again in /sources',
    );

    // One continuous chart through both switches: each minute once, none missing, and the bars the primary built
    // equal to its own klines.
    await untilPrimaryBarsSettled(messages, sim.urls.binance.restUrl);
    const bars = chart(messages);
    const times = bars.map((b) => Date.parse(b.time));
    assert.equal(new Set(times).size, times.length, 'no bar twice');
    for (let i = 1; i < times.length; i++) {
      assert.equal(times[i], (times[i - 1] as number) + MINUTE, 'no bar missing');
    }
    assert.ok(times.includes(boundary - MINUTE), 'the chart holds the minute closed on the backup');
    const klines = await venueKlines(sim.urls.binance.restUrl, 60);
    assertEachAsVenue(
      bars.filter((b) => b.closed && b.sources.length === 1 && b.sources[0] === 'binance'),
      klines,
    );
    assertContinuous(bars);
  });
});
