/**
 * Simulated bars never leak into a run against another upstream: Tickwire runs against one simulator (as
 * `tickwire all` pointed at `tickwire sim`), stops, and starts on the same data directory against another
 * upstream that holds less history. No bar of the first upstream may be served, by `/api/candles` or in
 * `initial`: the history served is the new upstream's alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/util/clock.ts';
import { startAll } from '../../src/apps/run-all.ts';
import { bucketStart } from '../../src/domain/interval.ts';
import { startSimulator, type Simulator } from '../../src/sim/simulator.ts';
import { getJson } from '../../src/sim/test-kit.ts';
import { copyPgliteTemplate } from '../../src/store/pglite-dirs.test-support.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { MINUTE, type Kline, type WireBar } from '../e2e/helpers.ts';
import { cleanups, eventually, RecordingSocket, roleConfig } from './helpers.ts';

const DAY = 24 * 60 * MINUTE;

/** Every 1m bar `/api/candles` serves, paging back until an answer is empty; oldest first. */
async function allMinutes(base: string): Promise<WireBar[]> {
  const pages: WireBar[][] = [];
  let end = '';
  for (;;) {
    const reply = await getJson(`${base}/api/candles?symbol=BTC/USDT&interval=1m&limit=5000${end}`);
    assert.equal(reply.status, 200);
    const bars = (reply.body as { bars: WireBar[] }).bars;
    if (bars.length === 0) return pages.flat();
    pages.unshift(bars);
    end = `&end=${Date.parse((bars[0] as WireBar).time)}`;
  }
}

/** The simulated Binance's first 1m kline at or after `from`. */
async function firstKline(sim: Simulator, from: number): Promise<Kline> {
  const reply = await getJson(
    `${sim.urls.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${from}&limit=1`,
  );
  return (reply.body as Kline[])[0] as Kline;
}

describe('a store filled from another upstream', () => {
  it('serves none of its bars once Tickwire runs against another upstream', async (t) => {
    const defer = cleanups(t);
    // Late in a week, so that the week reaches further back than either venue's history.
    const real = Date.now();
    const offset = bucketStart('1W', real) + 5 * DAY + 12 * 60 * MINUTE - real;
    const now = (): number => Date.now() + offset;
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-upstream-'));
    defer(() => rmSync(dataDir, { recursive: true, force: true }));
    await copyPgliteTemplate(join(dataDir, 'pglite'));

    // First run: a simulator with two days of history.
    const simulated = await startSimulator({ symbols: ['BTC/USDT'], seed: 5, historyDays: 2, now });
    defer(() => simulated.close());
    const first = await startAll(roleConfig(simulated, { dataDir }), silentLogger(), {
      clock: { ...systemClock, now },
    });
    // `live`: the venue's history has loaded and been handed to the store.
    await first.live;
    const firstBars = await allMinutes(first.gateway.url.replace(/^ws/, 'http'));
    const firstStart = Date.parse(firstBars[0]?.time ?? '');
    await first.close();

    // Second run, same data directory: another upstream, with one day of history.
    const other = await startSimulator({ symbols: ['BTC/USDT'], seed: 6, historyDays: 1, now });
    defer(() => other.close());
    const second = await startAll(roleConfig(other, { dataDir }), silentLogger(), {
      clock: { ...systemClock, now },
    });
    defer(() => second.close());
    await second.live;
    const base = second.gateway.url.replace(/^ws/, 'http');
    const served = await allMinutes(base);
    const otherStart = (await firstKline(other, bucketStart('1W', now())))[0];
    assert.ok(firstStart < otherStart, 'the first upstream held older minutes than the second');
    assert.equal(Date.parse(served[0]?.time ?? ''), otherStart, "history starts with the new upstream's");
    // The oldest minutes served are the new upstream's own klines.
    const reply = await getJson(
      `${other.urls.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${otherStart}&limit=20`,
    );
    (reply.body as Kline[]).forEach((k, i) => {
      assert.equal(served[i]?.close, Number(k[4]), `${served[i]?.time} close`);
      assert.equal(served[i]?.volume, Number(k[5]), `${served[i]?.time} volume`);
    });

    // A client's `initial` reaches no further back either.
    const client = await RecordingSocket.open(second.gateway.url);
    defer(() => client.close());
    client.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 5000 });
    await eventually(() => client.messages.some((m) => m.type === 'initial'), 20_000, 'initial');
    const initial = client.messages.find((m) => m.type === 'initial')?.bars ?? [];
    assert.ok(initial.length > 0);
    assert.ok(
      initial.every((b) => Date.parse(b.time) >= otherStart),
      'no bar of the first upstream in initial',
    );
  });
});
