import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MINUTE_MS } from '../../domain/interval.ts';
import type { MinuteBar } from './bars.ts';
import { fillLots, SimMarket, type SimMarketOptions, type SimTrade } from './market.ts';
import { symbolSpec } from './symbol-specs.ts';

const NOW = Date.UTC(2026, 4, 20, 10, 15, 42, 123);

function market(overrides: Partial<SimMarketOptions> = {}): SimMarket {
  return new SimMarket({
    spec: symbolSpec('BTC/USDT'),
    seed: 11,
    nowMs: NOW,
    historyDays: 1,
    tradeWindowMs: 30 * MINUTE_MS,
    tradesPerSecond: 5,
    ...overrides,
  });
}

/** Every minute of `m`, as objects. */
const minutesOf = (m: SimMarket): MinuteBar[] =>
  Array.from({ length: m.minutes.length }, (_, i) => m.minutes.bar(i) as MinuteBar);

const firstTrades = (m: SimMarket, n: number): [number, number][] =>
  m
    .recentTrades()
    .slice(0, n)
    .map((t) => [t.ticks, t.lots]);

describe('SimMarket', () => {
  it('gives the same first trades for the same seed, whatever the wall-clock time', () => {
    const a = firstTrades(market(), 200);
    const b = firstTrades(market({ nowMs: NOW + 7 * 3_600_000 + 12_345 }), 200);
    assert.equal(a.length, 200);
    assert.deepEqual(a, b);
  });

  it('generates the same history in slices as in one piece, and completes it once', () => {
    const whole = market({ historyDays: 2 });
    const sliced = market({ historyDays: 2 });
    assert.equal(sliced.historyComplete, false);
    let slices = 0;
    // Slices of 1,000 minutes, and a last one of what is left: 2 days less the 30-minute window.
    while (!sliced.generateHistory(1000)) slices++;
    assert.equal(slices, 2);
    assert.equal(sliced.historyComplete, true);
    assert.equal(sliced.generateHistory(1000), true, 'nothing is left to generate');
    assert.equal(whole.historyComplete, false);
    const expected = minutesOf(whole);
    assert.equal(whole.historyComplete, true, 'reading the minutes completes the history');
    assert.ok(expected.length > 2 * 1440, `${expected.length} minutes`);
    assert.deepEqual(minutesOf(sliced), expected);
  });

  it('gives different trades for a different seed', () => {
    assert.notDeepEqual(firstTrades(market(), 50), firstTrades(market({ seed: 12 }), 50));
  });

  it('keeps prices near the anchor, ids strictly increasing, fills within lots', () => {
    const m = market();
    const trades = m.recentTrades();
    assert.ok(trades.length > 3000, `only ${trades.length} trades in 30 minutes`);
    let prev: SimTrade | undefined;
    for (const t of trades) {
      assert.ok(Number.isInteger(t.ticks) && Number.isInteger(t.lots) && t.lots >= 1);
      assert.ok(t.l >= t.f && t.l - t.f + 1 <= t.lots);
      if (prev) {
        assert.equal(t.a, prev.a + 1);
        assert.equal(t.f, prev.l + 1);
        assert.ok(t.T >= prev.T);
      }
      let sum = 0;
      for (let i = 0; i <= t.l - t.f; i++) sum += fillLots(t, i);
      assert.equal(sum, t.lots);
      prev = t;
    }
    const price = m.lastTicks / 100;
    assert.ok(price > 50_000 && price < 90_000, `BTC at ${price}`);
  });

  it('makes each minute of the trade window exactly the aggregation of its trades', () => {
    const m = market();
    const trades = m.recentTrades();
    const byMinute = new Map<number, SimTrade[]>();
    for (const t of trades) {
      const key = Math.floor(t.T / MINUTE_MS) * MINUTE_MS;
      byMinute.set(key, [...(byMinute.get(key) ?? []), t]);
    }
    const firstMinute = Math.floor((trades[0] as SimTrade).T / MINUTE_MS) * MINUTE_MS;
    let checked = 0;
    for (const bar of minutesOf(m)) {
      if (bar.t < firstMinute) continue;
      const ts = byMinute.get(bar.t) ?? [];
      assert.equal(
        bar.n,
        ts.reduce((s, t) => s + t.l - t.f + 1, 0),
      );
      if (ts.length === 0) continue;
      assert.equal(bar.o, ts[0]?.ticks);
      assert.equal(bar.c, ts.at(-1)?.ticks);
      assert.equal(bar.h, Math.max(...ts.map((t) => t.ticks)));
      assert.equal(bar.l, Math.min(...ts.map((t) => t.ticks)));
      assert.equal(
        bar.v,
        ts.reduce((s, t) => s + t.lots, 0),
      );
      assert.equal(
        bar.q,
        ts.reduce((s, t) => s + BigInt(t.ticks) * BigInt(t.lots), 0n),
      );
      assert.equal(
        bar.vb,
        ts.filter((t) => !t.buyerMaker).reduce((s, t) => s + t.lots, 0),
      );
      checked++;
    }
    assert.ok(checked >= 30, `checked ${checked} minutes`);
  });

  it('generates live trades and closes minutes as the clock moves', () => {
    const m = market({ historyDays: 0 });
    const closed: number[] = [];
    let live = 0;
    m.subscribe({ trade: () => live++, minuteClosed: (_m, bar) => closed.push(bar.t) });
    const openMinute = m.currentMinute.t;
    m.advanceTo(NOW + 3 * MINUTE_MS);
    assert.deepEqual(closed, [openMinute, openMinute + MINUTE_MS, openMinute + 2 * MINUTE_MS]);
    assert.ok(live > 300, `${live} live trades in 3 minutes`);
    assert.equal(m.currentMinute.t, openMinute + 3 * MINUTE_MS);
    // Time never goes back.
    m.advanceTo(NOW);
    assert.equal(m.currentMinute.t, openMinute + 3 * MINUTE_MS);
  });

  it('clusters volatility: large moves follow large moves', () => {
    const m = market({ historyDays: 10 });
    const minutes = minutesOf(m);
    const returns = minutes.slice(1).map((b, i) => Math.abs(Math.log(b.c / (minutes[i]?.c ?? b.c))));
    const mean = returns.reduce((s, r) => s + r, 0) / returns.length;
    let num = 0;
    let den = 0;
    for (let i = 1; i < returns.length; i++) {
      num += ((returns[i] ?? 0) - mean) * ((returns[i - 1] ?? 0) - mean);
      den += ((returns[i] ?? 0) - mean) ** 2;
    }
    assert.ok(num / den > 0.05, `autocorrelation of |returns| ${num / den}`);
  });

  it('serves a flat, empty minute at the previous close when nothing traded', () => {
    const m = market({ tradesPerSecond: 0.005, historyDays: 0.2 });
    const minutes = minutesOf(m);
    const empties = minutes.filter((b, i) => i > 0 && b.n === 0);
    assert.ok(empties.length > 50);
    for (const b of empties) {
      const prev = minutes[minutes.indexOf(b) - 1];
      assert.ok(b.o === b.h && b.h === b.l && b.l === b.c && b.c === prev?.c && b.v === 0 && b.f === -1);
    }
  });
});
