/**
 * What the end-to-end tests share: the gateway's candle messages as a client sees them, the chart a client
 * builds from them, the venue's own klines to compare against, and polling with a deadline.
 */
import assert from 'node:assert/strict';
import { getJson } from '../../src/sim/test-kit.ts';

export const MINUTE = 60_000;

export interface WireBar {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  closed: boolean;
  /** The venues that built the bar. */
  sources: string[];
}

export interface Message {
  type: string;
  interval?: string;
  channel?: string;
  bars?: WireBar[];
  bar?: WireBar;
}

/** A Binance REST kline row. */
export type Kline = [
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
];

/** Resolves once `check()` holds; rejects naming `what` when it still does not after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The seed document's chart rule: replace the last bar when the time matches, else append; plus revisions. */
export function chart(messages: readonly Message[], interval = '1m'): WireBar[] {
  let bars: WireBar[] = [];
  for (const m of messages) {
    if (m.interval !== interval) continue;
    if (m.type === 'initial') bars = [...(m.bars ?? [])];
    else if ((m.type === 'update' || m.type === 'revision') && m.bar) {
      const at = bars.findIndex((b) => b.time === m.bar?.time);
      if (at >= 0) bars[at] = m.bar;
      else bars.push(m.bar);
    }
  }
  return bars;
}

/** A clock shifted so that a minute ends `msBeforeBoundary` after now; simulator and Tickwire share it. */
export function clockNearBoundary(msBeforeBoundary: number): () => number {
  const real = Date.now();
  const offset = Math.ceil((real + msBeforeBoundary) / MINUTE) * MINUTE - msBeforeBoundary - real;
  return () => Date.now() + offset;
}

/** The simulated Binance venue's own BTCUSDT 1m klines at `restUrl`, keyed by ISO start time. */
export async function venueKlines(restUrl: string, limit: number): Promise<Map<string, Kline>> {
  const reply = await getJson(`${restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=${limit}`);
  const rows = reply.body as Kline[];
  return new Map(rows.map((k) => [new Date(k[0]).toISOString(), k]));
}

/** Asserts that a client's bar carries exactly the venue kline's prices, volumes and trade count. */
export function assertSameAsVenue(bar: WireBar, k: Kline): void {
  const fields = { open: 1, high: 2, low: 3, close: 4, volume: 5, quoteVolume: 7 } as const;
  for (const [name, index] of Object.entries(fields)) {
    assert.equal(bar[name as keyof typeof fields], Number(k[index]), `${bar.time} ${name}`);
  }
  assert.equal(bar.trades, k[8], `${bar.time} trades`);
}

/** Asserts that the venue has every bar of `bars` and that each equals it exactly. */
export function assertEachAsVenue(bars: readonly WireBar[], klines: ReadonlyMap<string, Kline>): void {
  for (const bar of bars) {
    const k = klines.get(bar.time);
    assert.ok(k, `venue has ${bar.time}`);
    assertSameAsVenue(bar, k);
  }
}

/** Asserts that closed `bars` run minute after minute with none twice or missing, each equal to the venue's. */
export function assertContinuousAsVenue(bars: readonly WireBar[], klines: ReadonlyMap<string, Kline>): void {
  const times = bars.map((b) => Date.parse(b.time));
  assert.equal(new Set(times).size, times.length, 'no bar twice');
  for (let i = 1; i < times.length; i++)
    assert.equal(times[i], (times[i - 1] as number) + MINUTE, 'no bar missing');
  assertEachAsVenue(bars, klines);
}
