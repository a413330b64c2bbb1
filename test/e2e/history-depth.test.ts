/**
 * History depth: every bar loaded from the venue at start is stored, and a client paging back through
 * `GET /api/candles` with an earlier `end` walks all of it, memory and database seamlessly: 1m bars back to the
 * start of the week, every higher interval as deep as it was loaded (`candles.historyBars` bars).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketStart, INTERVAL_MS, type Interval } from '../../src/domain/interval.ts';
import { getJson } from '../../src/sim/test-kit.ts';
import { startSimulatedSystem, until, MINUTE, type Kline, type WireBar } from './helpers.ts';

const DAY = 24 * 60 * MINUTE;

/** Pages back through /api/candles from now until an answer is empty; returns every bar, oldest first. */
async function pageBack(base: string, interval: Interval, limit: number): Promise<WireBar[]> {
  const pages: WireBar[][] = [];
  let end: number | undefined;
  for (;;) {
    const url =
      `${base}/api/candles?symbol=BTC/USDT&interval=${interval}&limit=${limit}` +
      (end === undefined ? '' : `&end=${end}`);
    const reply = await getJson(url);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const bars = (reply.body as { bars: WireBar[] }).bars;
    if (bars.length === 0) break;
    pages.unshift(bars);
    end = Date.parse((bars[0] as WireBar).time);
  }
  return pages.flat();
}

/** Asserts bars run one interval after the other, none twice, none missing. */
function assertContiguous(bars: readonly WireBar[], interval: Interval): void {
  const times = bars.map((b) => Date.parse(b.time));
  assert.equal(new Set(times).size, times.length, `${interval}: no bar twice`);
  for (let i = 1; i < times.length; i++) {
    // Weekly, daily and shorter buckets are fixed lengths in UTC.
    assert.equal(times[i], (times[i - 1] as number) + INTERVAL_MS[interval], `${interval}: no bar missing`);
  }
}

describe('history depth', () => {
  it('pages back through /api/candles to the start of the week in 1m, and through every loaded higher bar', async (t) => {
    // A clock late in a week, so that the week holds far more minutes than `historyBars` (1,000): Saturday noon.
    const real = Date.now();
    const offset = bucketStart('1W', real) + 5 * DAY + 12 * 60 * MINUTE - real;
    const now = (): number => Date.now() + offset;
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['binance'],
      seed: 23,
      now,
      tradesPerSecond: 2,
    });
    const base = system.gateway.url.replace(/^ws/, 'http');
    const weekStart = bucketStart('1W', now());
    await until(() => system.ingests[0]?.stats().connection?.connected === true, 60_000, 'binance live');

    const minutes = await pageBack(base, '1m', 5000);
    assertContiguous(minutes, '1m');
    assert.equal(minutes[0]?.time, new Date(weekStart).toISOString(), '1m history starts with the week');
    assert.ok(
      minutes.length >= (now() - weekStart) / MINUTE - 1,
      `${minutes.length} minutes: the whole week`,
    );
    // The oldest minutes are the venue's own klines, not flat filler.
    const reply = await getJson(
      `${sim.urls.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${weekStart}&limit=50`,
    );
    const klines = reply.body as Kline[];
    assert.equal(klines.length, 50);
    klines.forEach((k, i) => {
      const bar = minutes[i] as WireBar;
      assert.equal(Date.parse(bar.time), k[0]);
      assert.equal(bar.close, Number(k[4]), `${bar.time} close`);
      assert.equal(bar.volume, Number(k[5]), `${bar.time} volume`);
      assert.equal(bar.trades, k[8], `${bar.time} trades`);
    });

    for (const interval of ['5m', '1h'] as const) {
      const bars = await pageBack(base, interval, 300);
      assertContiguous(bars, interval);
      // `historyBars` (1,000) closed bars before the bar in progress were asked for; the simulated venue holds
      // 8 days, so the 1h series starts with the venue's first bar.
      const open = bucketStart(interval, now());
      const first = await getJson(
        `${sim.urls.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=${interval}` +
          `&startTime=${open - 1000 * INTERVAL_MS[interval]}&limit=1`,
      );
      const venueFirst = (first.body as Kline[])[0]?.[0];
      assert.equal(Date.parse(bars[0]?.time ?? ''), venueFirst, `${interval}: history starts where loaded`);
      assert.equal(
        Date.parse(bars.at(-1)?.time ?? ''),
        open,
        `${interval}: and ends with the bar in progress`,
      );
    }
  });
});
