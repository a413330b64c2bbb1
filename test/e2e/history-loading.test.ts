/**
 * History loading at start-up, end to end: the simulated venue's REST API answers 429 with Retry-After at first,
 * so its history loads seconds after Tickwire answers. A client that subscribes (and a GET /api/candles) during
 * the load is told the history is partial (HISTORY_LOADING), and once it has loaded the client is sent the whole
 * history: its chart runs minute after minute into the stream, each bar equal to the venue's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  assertContinuousAsVenue,
  chart,
  startSimulatedSystem,
  until,
  venueKlines,
  type Message,
} from './helpers.ts';

type Initial = Message & { partial?: boolean; reason?: string };

const INITIAL_BARS = 120;

describe('history loading at start-up, end to end', () => {
  it('a client that subscribes while the venue’s history loads ends up with the whole history', async (t) => {
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['binance'],
      seed: 21,
      historyDays: 1,
      gateway: { throttleMs: 200 },
      // The first REST requests (the history's first, whichever comes first) are told to come back in 5 s.
      beforeStart: (s) => s.faults.restFailures({ status: 429, count: 2, retryAfterSec: 5 }, 'binance'),
      untilLive: false,
    });
    const binance = system.monitor.view().instruments[0]?.sources[0];
    assert.equal(binance?.loadingHistory, true, 'the venue is still loading its history');

    const ws = new WebSocket(system.gateway.url);
    const messages: Message[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Message));
    await new Promise((resolve) => ws.once('open', resolve));
    t.after(() => ws.close());
    ws.send(
      JSON.stringify({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: INITIAL_BARS }),
    );
    const candles = `${system.gateway.url.replace('ws://', 'http://')}/api/candles?symbol=BTC/USDT&interval=1m&limit=${INITIAL_BARS}`;
    const during = await fetch(candles);
    assert.equal(during.status, 200, 'loading is never a 503');
    const duringBody = (await during.json()) as { partial?: boolean; reason?: string };
    assert.equal(duringBody.partial, true);
    assert.equal(duringBody.reason, 'HISTORY_LOADING');

    const initials = (): Initial[] => messages.filter((m) => m.type === 'initial');
    await until(() => initials().length >= 1, 10_000, 'the first initial');
    const first = initials()[0] as Initial;
    assert.equal(
      first.partial,
      true,
      `${first.bars?.length} bars before the history loaded are not all of it`,
    );
    assert.equal(first.reason, 'HISTORY_LOADING');

    await system.live;
    await until(() => initials().length >= 2, 15_000, 'the whole initial after the load');
    const whole = initials()[1] as Initial;
    assert.equal(whole.partial, undefined, 'the whole history is not marked partial');
    assert.equal(whole.bars?.length, INITIAL_BARS, 'every bar asked for');

    // The stream goes on from the whole initial.
    const afterWhole = messages.indexOf(whole);
    await until(
      () => messages.slice(afterWhole + 1).some((m) => m.type === 'update'),
      15_000,
      'an update after the whole initial',
    );
    const closed = chart(messages).filter((b) => b.closed);
    assert.ok(closed.length >= INITIAL_BARS - 1, `${closed.length} closed bars on the chart`);
    assertContinuousAsVenue(closed, await venueKlines(sim.urls.binance.restUrl, INITIAL_BARS + 10));

    const after = (await (await fetch(candles)).json()) as { partial?: boolean; bars: unknown[] };
    assert.equal(after.partial, undefined);
    assert.equal(after.bars.length, INITIAL_BARS);
    const stats = system.gateway.stats().gateway;
    assert.equal(stats.initialsRefilled, 1);
  });
});
