import type { Bar, CandleSeriesState } from '../../src/client/types.ts';

/**
 * How the chart applies what changed since its last draw: bar by bar in place (a live update of the newest bar,
 * a new bar appended, a revision replacing a past bar), or, when that cannot be done or costs more, the whole
 * series again. lightweight-charts updates a past bar only when it holds a bar of that time, so a change to an
 * older time the chart does not show means a full redraw.
 */

export type ChartChange = CandleSeriesState['change'];

export interface BarStep {
  readonly bar: Bar;
  /** The bar's time, seconds UTC (the chart's unit). */
  readonly time: number;
  /** Older than the newest bar shown: a past bar replaced in place. */
  readonly historical: boolean;
}

export type ChartPlan =
  { readonly redraw: true } | { readonly redraw: false; readonly steps: readonly BarStep[] };

/** The chart's time of a bar: its ISO start as UTC seconds. */
export function barTime(bar: Pick<Bar, 'time'>): number {
  return Date.parse(bar.time) / 1000;
}

export function planChartUpdate(
  changes: readonly ChartChange[],
  shown: { has(time: number): boolean },
  newestShown: number,
  maxIncremental: number,
): ChartPlan {
  if (changes.length > maxIncremental) return { redraw: true };
  const added = new Set<number>();
  let newest = newestShown;
  const steps: BarStep[] = [];
  for (const change of changes) {
    if (change.kind === 'reset') return { redraw: true };
    const time = barTime(change.bar);
    const historical = time < newest;
    if (historical && !shown.has(time) && !added.has(time)) return { redraw: true };
    steps.push({ bar: change.bar, time, historical });
    added.add(time);
    if (time > newest) newest = time;
  }
  return { redraw: false, steps };
}
