/**
 * A candle series as the client keeps it: bars oldest first, one per bar time. Pure functions that fold the
 * gateway's messages (`initial`, `update`, `revision`, a page of `/api/candles`) into it, so that a series
 * rebuilt after a reconnect or a poll is the server's series: never a gap, never the same time twice.
 */
import { INTERVAL_MS, type Interval } from '../domain/interval.ts';
import type { BarJson } from '../protocol/server-messages.ts';

/** What a change did to the series, so a chart can apply it without a redraw (`reset`: redraw). */
export type SeriesChange =
  { readonly kind: 'reset' } | { readonly kind: 'update' | 'append' | 'revision'; readonly bar: BarJson };

export interface Merged {
  readonly bars: readonly BarJson[];
  readonly change: SeriesChange;
}

/** The gateway's largest `initialBars` and `/api/candles` `limit` (gateway.maxInitialBars's default). */
export const MAX_INITIAL_BARS = 5000;

function timeOf(bar: BarJson): number {
  return Date.parse(bar.time);
}

/** Index of the bar at `time`, or -(insertion point) - 1 when none is (binary search; bars are sorted). */
function search(bars: readonly BarJson[], time: number): number {
  let lo = 0;
  let hi = bars.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = timeOf(bars[mid] as BarJson);
    if (t === time) return mid;
    if (t < time) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/**
 * Folds a window of the server's newest bars (an `initial`, or a poll of `/api/candles` without `end`) into the
 * series: from the window's first bar on, the window is the truth (bars held there are replaced, bars held after
 * it were never the server's); bars held before it are kept, so a chart paged back keeps its older history.
 * When the window does not reach back to the bars held (an outage longer than the window) and `whole` is true,
 * the older bars are dropped instead: keeping them would leave a hole in the series.
 */
export function mergeWindow(
  held: readonly BarJson[],
  window: readonly BarJson[],
  interval: Interval,
  whole = true,
): Merged {
  const first = window[0];
  if (first === undefined) return { bars: held, change: { kind: 'reset' } };
  const start = timeOf(first);
  const at = search(held, start);
  const keep = at >= 0 ? at : -at - 1;
  const newestKept = held[keep - 1];
  const touches = newestKept === undefined || timeOf(newestKept) + INTERVAL_MS[interval] >= start;
  const older = touches || !whole ? held.slice(0, keep) : [];
  return { bars: sortedUnique([...older, ...window]), change: { kind: 'reset' } };
}

/** Guards against a window that is not sorted or repeats a time (it should not): the newest state of each time wins. */
function sortedUnique(bars: readonly BarJson[]): readonly BarJson[] {
  let sorted = true;
  for (let i = 1; i < bars.length; i++) {
    if (timeOf(bars[i] as BarJson) <= timeOf(bars[i - 1] as BarJson)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return bars;
  const byTime = new Map<number, BarJson>();
  for (const bar of bars) byTime.set(timeOf(bar), bar);
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([, bar]) => bar);
}

/**
 * An `update`: the same time as the newest bar replaces it, a later time appends. An update of an older bar
 * (which the gateway never sends) replaces that bar in place; one older than everything held is dropped, since
 * inserting it would make a hole between it and the rest.
 */
export function applyUpdate(held: readonly BarJson[], bar: BarJson): Merged | undefined {
  const last = held[held.length - 1];
  const time = timeOf(bar);
  if (last === undefined || time > timeOf(last))
    return { bars: [...held, bar], change: { kind: 'append', bar } };
  if (time === timeOf(last)) {
    return { bars: [...held.slice(0, -1), bar], change: { kind: 'update', bar } };
  }
  return applyRevision(held, bar);
}

/** A `revision`: replaces the bar of the same time. A revision of a bar not held (older than the series) is dropped. */
export function applyRevision(held: readonly BarJson[], bar: BarJson): Merged | undefined {
  const at = search(held, timeOf(bar));
  if (at >= 0) {
    const bars = held.slice();
    bars[at] = bar;
    return { bars, change: { kind: 'revision', bar } };
  }
  const insertAt = -at - 1;
  // Inside the held range (a bar that was missing there): insert it; outside: not ours to extend.
  if (insertAt === 0 || insertAt === held.length) return undefined;
  const bars = [...held.slice(0, insertAt), bar, ...held.slice(insertAt)];
  return { bars, change: { kind: 'reset' } };
}

/** Older bars from `/api/candles?end=` (all before the oldest held) put in front of the series. */
export function prependOlder(held: readonly BarJson[], older: readonly BarJson[]): readonly BarJson[] {
  const oldest = held[0];
  const before = oldest === undefined ? older : older.filter((bar) => timeOf(bar) < timeOf(oldest));
  return sortedUnique([...before, ...held]);
}

/**
 * How many bars to ask for on a re-subscribe, so that the `initial` reaches back over the outage to the newest
 * bar held: the bars from that bar's time to now, plus two (that bar itself, and the bar in progress at a
 * boundary), and never fewer than the view asked for on subscribe, so a revision the gateway made meanwhile to
 * a bar of that window is seen too; capped at the gateway's maximum.
 */
export function barsToCover(
  held: readonly BarJson[],
  interval: Interval,
  now: number,
  requested: number,
  max = MAX_INITIAL_BARS,
): number {
  const last = held[held.length - 1];
  if (last === undefined) return Math.min(requested, max);
  const missed = Math.ceil(Math.max(0, now - timeOf(last)) / INTERVAL_MS[interval]) + 2;
  return Math.min(max, Math.max(requested, missed));
}
