/**
 * Start-up with a slow history, end to end: the simulated venue answers every candle-history request of BTC/USDT
 * seconds late. The instrument goes live after its first few small requests, so a client gets live updates while
 * the long history still loads in the background; once it has loaded, the client is sent the whole history, and
 * its chart runs minute after minute, each bar equal to the venue's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  assertContinuousAsVenue,
  chart,
  clockEarlyInWeek,
  startSimulatedSystem,
  until,
  venueKlines,
  type Message,
} from './helpers.ts';

type Initial = Message & { partial?: boolean; reason?: string };

const INITIAL_BARS = 120;
/** How late the venue answers each candle-history request: the whole history takes a dozen of them in turn. */
const HISTORY_DELAY_MS = 2500;
/**
 * When the first minute ends, after the start, on the clock simulator and Tickwire share. The whole history is
 * there after its twelve late answers (30 s) and a few seconds of work on a quiet machine; the test then waits for
 * the next bar to close, which on the wall clock's minutes took 30 s on average. Were the history later than
 * this, the test waits for the next minute, as it would have before.
 */
const FIRST_MINUTE_ENDS_AFTER_MS = 40_000;
/**
 * That minute's place in the week: early, so that the history's 1m part (the week's minutes back to its Monday) is
 * two requests on any day. On the real clock it was up to 13 (on Sundays): the history came after the first minute,
 * and the test took 110 s instead of 42.
 */
const MINUTES_INTO_WEEK = 30;

describe('start-up with a slow history, end to end', () => {
  it('streams live updates before the slow history has loaded, then sends the whole history', async (t) => {
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['binance'],
      seed: 23,
      now: clockEarlyInWeek(FIRST_MINUTE_ENDS_AFTER_MS, MINUTES_INTO_WEEK),
      gateway: { throttleMs: 200 },
      beforeStart: (s) => s.faults.historyDelay('binance', 'BTC/USDT', HISTORY_DELAY_MS),
      untilLive: false,
    });
    const loadingHistory = (): boolean | undefined =>
      system.monitor.view().instruments[0]?.sources[0]?.loadingHistory;
    let historyLoadingAtFirstUpdate: boolean | undefined;
    const messages: Message[] = [];
    const ws = new WebSocket(system.gateway.url);
    ws.on('message', (d) => {
      const message = JSON.parse(String(d)) as Message;
      if (message.type === 'update' && !messages.some((m) => m.type === 'update')) {
        historyLoadingAtFirstUpdate = loadingHistory();
      }
      messages.push(message);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    t.after(() => ws.close());
    ws.send(
      JSON.stringify({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: INITIAL_BARS }),
    );

    await until(() => messages.some((m) => m.type === 'update'), 60_000, 'a live update');
    assert.equal(historyLoadingAtFirstUpdate, true, 'live updates flow while the history still loads');
    const initials = (): Initial[] => messages.filter((m) => m.type === 'initial');
    const first = initials()[0];
    assert.equal(first?.partial, true, 'the first initial says the history is partial');
    assert.equal(first?.reason, 'HISTORY_LOADING');

    await system.live;
    assert.equal(loadingHistory(), undefined, 'the history has loaded');
    await until(() => initials().length >= 2, 15_000, 'the whole initial after the load');
    const whole = initials()[1] as Initial;
    assert.equal(whole.partial, undefined, 'the whole history is not marked partial');
    assert.equal(whole.bars?.length, INITIAL_BARS, 'every bar asked for');

    // The stream goes on from the whole initial, and the chart is the venue's, minute after minute.
    const afterWhole = messages.indexOf(whole);
    await until(
      () => messages.slice(afterWhole + 1).some((m) => m.type === 'update' && m.bar?.closed === true),
      75_000,
      'a closed bar after the whole initial',
    );
    const closed = chart(messages).filter((b) => b.closed);
    assert.ok(closed.length >= INITIAL_BARS - 1, `${closed.length} closed bars on the chart`);
    sim.faults.historyDelay('binance', 'BTC/USDT', 0);
    assertContinuousAsVenue(closed, await venueKlines(sim.urls.binance.restUrl, INITIAL_BARS + 10));
  });
});
