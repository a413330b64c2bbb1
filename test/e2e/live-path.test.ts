/**
 * The whole live path on loopback: simulated Binance (WebSocket + REST) → Binance adapter → dedupe → candle
 * engine → store + bus → gateway → a WebSocket client. Bars the client ends up with must equal the venue's own
 * klines, exactly, across a minute boundary and across an outage.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import WebSocket from 'ws';
import {
  startSimulatedSystem,
  assertContinuousAsVenue,
  assertEachAsVenue,
  chart,
  clockNearBoundary,
  MINUTE,
  until,
  venueKlines,
  type Message,
  type WireBar,
} from './helpers.ts';

class Client {
  readonly messages: Message[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as Message));
  }
  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new Client(ws);
  }
  chart(interval = '1m'): WireBar[] {
    return chart(this.messages, interval);
  }
}

/**
 * Tickwire on simulated Binance alone, on a clock whose minute ends `msBeforeBoundary` after the start, with
 * `historyDays` of venue history (8 by default, enough for the weekly bar).
 */
async function startSystem(t: TestContext, msBeforeBoundary: number, historyDays = 8) {
  const now = clockNearBoundary(msBeforeBoundary);
  /** The minute in progress when Tickwire started: the bars up to it come from (or hold trades of) the REST API. */
  const startMinute = Math.floor(now() / MINUTE) * MINUTE;
  const { sim, system } = await startSimulatedSystem(t, {
    venues: ['binance'],
    seed: 11,
    historyDays,
    tradesPerSecond: 20,
    now,
    candles: { closeGraceMs: 500 },
    gateway: { throttleMs: 200 },
  });
  return { sim, system, now, startMinute };
}

// The two tests wait for a minute boundary on systems of their own: they run side by side, so that the file waits
// for one boundary instead of two. It comes 25 s after the start: the two set-ups side by side (one with eight days
// of history) took longer than 12 s at a load average of 10, and a set-up later than the boundary waits a minute.
describe('live path: simulator → adapter → candles → gateway → client', { concurrency: true }, () => {
  it('serves history on subscribe and closes the live bar exactly as the venue does', async (t) => {
    const { sim, system, now, startMinute } = await startSystem(t, 25_000);
    const c = await Client.open(system.gateway.url);
    c.ws.send(JSON.stringify({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 100 }));
    c.ws.send(JSON.stringify({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1W', initialBars: 10 }));
    await until(() => c.messages.filter((m) => m.type === 'initial').length === 2, 5000, 'two initials');
    const initial = c.messages.find((m) => m.type === 'initial' && m.interval === '1m');
    assert.equal(initial?.bars?.length, 100, 'a full initial for 1m');
    const times = initial.bars.map((b) => Date.parse(b.time));
    for (let i = 1; i < times.length; i++)
      assert.equal(times[i], (times[i - 1] as number) + MINUTE, 'contiguous');
    const liveMinute = Math.floor(now() / MINUTE) * MINUTE;
    assert.equal(times.at(-1), liveMinute, 'the last bar is the minute in progress');
    assert.ok(
      initial.bars.every((b) => b.sources.join() === 'binance'),
      'every bar is binance’s',
    );
    // The instrument goes live within seconds, while its older history still loads: the minutes after the one in
    // progress at the start may have come from the stream alone by the time the whole history is there.
    assert.ok(
      initial.bars.filter((b) => Date.parse(b.time) <= startMinute).every((b) => b.backfilled),
      'history came over REST, and the minute in progress at the start holds trades fetched at start',
    );
    const weekly = c.messages.find((m) => m.type === 'initial' && m.interval === '1W');
    assert.ok((weekly?.bars?.length ?? 0) >= 2, 'weekly history is there a minute after start');

    // Cross the minute boundary: the bar in progress at subscribe time must close with the venue's values.
    const closedIso = new Date(liveMinute).toISOString();
    // Start-up on a loaded machine can eat the planned 25 s, so wait for the minute's end whenever it comes.
    await until(
      () => c.messages.some((m) => m.type === 'update' && m.bar?.time === closedIso && m.bar.closed),
      liveMinute + MINUTE - now() + 15_000,
      'the live minute to close',
    );
    const klines = await venueKlines(sim.urls.binance.restUrl, 120);
    const closed = c.chart().filter((b) => b.closed);
    assert.ok(closed.length >= 100);
    assertEachAsVenue(closed, klines);
    assert.ok(closed.some((b) => b.time === closedIso));
    // The next minute is built from the live stream alone.
    const nextIso = new Date(liveMinute + MINUTE).toISOString();
    await until(() => c.chart().some((b) => b.time === nextIso), 5000, 'the next minute');
    assert.equal(c.chart().find((b) => b.time === nextIso)?.backfilled, false);
    c.ws.close();
  });

  it('after an outage that spans a minute boundary, backfills the gap: no minute missing or double-counted', async (t) => {
    // Thirty minutes of chart: a day of history is plenty, and loads in a fraction of the time of eight.
    const { sim, system, now } = await startSystem(t, 25_000, 1);
    const c = await Client.open(system.gateway.url);
    c.ws.send(JSON.stringify({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 30 }));
    await until(() => c.messages.some((m) => m.type === 'initial'), 5000, 'initial');
    const ingest = system.ingests[0];
    assert.ok(ingest);
    const outageMinute = Math.floor(now() / MINUTE) * MINUTE;
    // Silence the stream past the minute's end (trades go on at the venue), then cut the socket: the adapter
    // reconnects and the ingest fetches what it missed over REST.
    sim.faults.pauseStream('binance');
    // Start-up on a loaded machine can pass the planned boundary, so wait for the next one if need be.
    await until(() => now() > outageMinute + MINUTE + 1000, MINUTE + 20_000, 'the boundary to pass');
    sim.faults.dropConnections('binance');
    sim.faults.resumeStream('binance');
    await until(() => ingest.stats().backfills > 0, 20_000, 'a backfill');
    assert.ok(ingest.stats().backfilledTrades > 0, 'trades of the outage were fetched');
    const outageIso = new Date(outageMinute).toISOString();
    await until(
      () => c.chart().some((b) => b.time === outageIso && b.closed),
      15_000,
      'the minute of the outage to close',
    );
    // The silent socket looked alive, so the clock closed the outage minute before its last trades were
    // fetched; those trades reach the client as a revision. Wait for the chart to settle on the venue's bar.
    const klines = await venueKlines(sim.urls.binance.restUrl, 60);
    const venueClose = Number(klines.get(outageIso)?.[4]);
    await until(
      () => c.chart().find((b) => b.time === outageIso)?.close === venueClose,
      5000,
      'the revision of the outage minute',
    );
    assert.equal(c.chart().find((b) => b.time === outageIso)?.backfilled, true, 'the outage minute says so');
    const closed = c.chart().filter((b) => b.closed);
    assertContinuousAsVenue(closed, klines);
    assert.deepEqual(ingest.stats().instruments['BTC/USDT']?.openGaps, []);
    c.ws.close();
  });
});
