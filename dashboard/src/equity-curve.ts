import { AreaSeries, createChart, type IChartApi, type ISeriesApi, type Time } from 'lightweight-charts';
import { baseChartOptions, cssColor } from './chart-theme.ts';
import { el, setAttr } from './dom.ts';
import { equityChartPoints, type EquityPoint } from './equity-points.ts';
import { RenderThrottle } from './throttle.ts';

/**
 * The account's equity over time: the stored curve (GET /api/account/performance) followed by the total value of
 * each live `performance` update. `data-points` counts the points drawn.
 */
export class EquityCurve {
  readonly element: HTMLElement;
  private readonly host = el('div', { class: 'equity-canvas' });
  private readonly chart: IChartApi;
  private readonly series: ISeriesApi<'Area'>;
  private readonly throttle = new RenderThrottle(() => this.draw());
  private stored: readonly EquityPoint[] = [];
  private live: EquityPoint[] = [];

  constructor() {
    this.element = el(
      'div',
      { class: 'equity-curve', testid: 'equity-curve', attrs: { 'data-points': '0' } },
      this.host,
    );
    this.chart = createChart(this.host, {
      ...baseChartOptions(),
      handleScroll: false,
      handleScale: false,
    });
    const line = cssColor('--accent', '#4aa3ff');
    this.series = this.chart.addSeries(AreaSeries, {
      lineColor: line,
      topColor: 'rgba(74,163,255,0.35)',
      bottomColor: 'rgba(74,163,255,0.02)',
      lineWidth: 2,
    });
  }

  /** The stored curve (replaces the previous one; live points after its end are kept). */
  setStored(points: readonly EquityPoint[]): void {
    this.stored = points;
    const end = points.at(-1)?.time ?? Number.NEGATIVE_INFINITY;
    this.live = this.live.filter((point) => point.time > end);
    this.throttle.schedule();
  }

  /** A live total value. */
  addLive(point: EquityPoint): void {
    const last = this.live.at(-1);
    if (last && last.equity === point.equity && point.time - last.time < 60_000) return;
    this.live.push(point);
    if (this.live.length > 5000) this.live.splice(0, this.live.length - 5000);
    this.throttle.schedule();
  }

  clear(): void {
    this.stored = [];
    this.live = [];
    this.throttle.schedule();
  }

  private draw(): void {
    const points = equityChartPoints([...this.stored, ...this.live]);
    this.series.setData(points.map((p) => ({ time: p.time as Time, value: p.value })));
    if (points.length > 0) this.chart.timeScale().fitContent();
    setAttr(this.element, 'data-points', String(points.length));
  }
}
