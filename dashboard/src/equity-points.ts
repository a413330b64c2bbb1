/**
 * The equity curve's points: the stored curve of GET /api/account/performance, then the total value of each live
 * `performance` update. The chart needs one point per second at most, in time order, so a later point of the
 * same second replaces an earlier one.
 */

export interface EquityPoint {
  /** ms UTC. */
  readonly time: number;
  /** Decimal string, as received. */
  readonly equity: string;
}

export interface ChartPoint {
  /** Seconds UTC (the chart's time unit). */
  readonly time: number;
  readonly value: number;
}

export function equityChartPoints(points: readonly EquityPoint[]): ChartPoint[] {
  const bySecond = new Map<number, number>();
  for (const point of [...points].sort((a, b) => a.time - b.time)) {
    const value = Number(point.equity);
    if (Number.isFinite(value)) bySecond.set(Math.floor(point.time / 1000), value);
  }
  return [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
}
