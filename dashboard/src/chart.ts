import {
  CandlestickSeries,
  createChart,
  HistogramSeries,
  type CandlestickData,
  type HistogramData,
  type IChartApi,
  type ISeriesApi,
  type LogicalRange,
  type MouseEventParams,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { Bar, CandleSeries, CandleSeriesState } from '../../src/client/types.ts';
import { barTime, planChartUpdate, type BarStep, type ChartChange, type ChartPlan } from './chart-updates.ts';
import { attribution, baseChartOptions, cssColor, timeMs } from './chart-theme.ts';
import { el, setAttr, setText } from './dom.ts';
import { decimalText, fractionDigits, localDateTime, plainNumber, utcTitle } from './format.ts';
import { barStateText, provenanceText } from './provenance.ts';
import { RenderThrottle } from './throttle.ts';

/**
 * The candlestick chart with volume of one instrument and interval, fed by a `CandleSeries` of the client
 * library. History arrives with the series; scrolling back to the left edge asks for older bars
 * (`loadOlder`, /api/candles); live updates and revisions are applied in place, bar by bar, without redrawing
 * the history. The legend above the chart shows the bar under the pointer (the newest one otherwise) with its
 * provenance: the venue(s) that built it and whether it was backfilled over REST.
 *
 * The container carries what the tests read: `data-symbol`, `data-interval`, `data-bars`, `data-last-time`
 * (ISO, as received) and `data-last-close` (the close as received).
 */

/** Bars asked for each time the chart is scrolled back to its left edge. */
const OLDER_PAGE = 300;
/** Start loading older bars when fewer than this many are left of the visible range. */
const LOAD_MARGIN_BARS = 20;
/** Pause after a failed page (the /api/ rate limit, an outage) before scrolling back asks again. */
const OLDER_RETRY_MS = 10_000;
/** More changes than this between two draws: redraw everything at once, it is cheaper. */
const MAX_INCREMENTAL = 50;

function chartTime(bar: Bar): UTCTimestamp {
  return barTime(bar) as UTCTimestamp;
}

export class CandleChart {
  readonly element: HTMLElement;
  private readonly canvasHost = el('div', { class: 'chart-canvas' });
  private readonly legend = el('div', { class: 'chart-legend', testid: 'bar-provenance' });
  private readonly note = el('div', { class: 'chart-note' });
  private readonly chart: IChartApi;
  private readonly candles: ISeriesApi<'Candlestick'>;
  private readonly volume: ISeriesApi<'Histogram'>;
  private readonly throttle = new RenderThrottle(() => this.draw());
  private readonly colors = {
    up: cssColor('--up', '#26a69a'),
    down: cssColor('--down', '#ef5350'),
    upVolume: cssColor('--up-volume', 'rgba(38,166,154,0.45)'),
    downVolume: cssColor('--down-volume', 'rgba(239,83,80,0.45)'),
  };

  private series: CandleSeries | undefined;
  private stopListening: (() => void) | undefined;
  private latest: CandleSeriesState | undefined;
  private pending: ChartChange[] = [];
  private resetPending = true;
  /** What the chart shows, by bar time (seconds). */
  private readonly shown = new Map<number, Bar>();
  private newestTime = Number.NEGATIVE_INFINITY;
  private precision = 2;
  private hovered: Bar | undefined;
  private loadingOlder = false;
  private noOlder = false;
  private olderPausedUntil = 0;
  private rangeCheckPending = false;
  private initialBars = 0;
  private firstLoad = true;
  /** A new series shows its newest bars first, whatever the previous one was scrolled to. */
  private scrollToNewest = true;

  constructor() {
    this.element = el(
      'div',
      { class: 'chart', testid: 'chart', attrs: { 'data-bars': '0' } },
      this.legend,
      this.note,
      this.canvasHost,
      attribution(),
    );
    this.chart = createChart(this.canvasHost, baseChartOptions());
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: this.colors.up,
      downColor: this.colors.down,
      wickUpColor: this.colors.up,
      wickDownColor: this.colors.down,
      borderVisible: false,
    });
    this.candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceFormat: { type: 'volume' },
      priceScaleId: '',
    });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.chart.subscribeCrosshairMove(this.onCrosshair);
    this.chart.timeScale().subscribeVisibleLogicalRangeChange(this.onRange);
  }

  /**
   * Shows another series (a new instrument or interval); the previous one is left to its owner to close.
   * `initialBars` is what the series asked for: a whole first answer with fewer bars is all the history there is.
   */
  show(series: CandleSeries, symbol: string, interval: string, initialBars: number): void {
    this.stopListening?.();
    this.series = series;
    this.initialBars = initialBars;
    this.firstLoad = true;
    this.noOlder = false;
    this.olderPausedUntil = 0;
    this.hovered = undefined;
    this.scrollToNewest = true;
    // Cleared at once, with its scroll position: lightweight-charts keeps the visible time range across setData,
    // and a new instrument's bars share the old one's times, so the old scroll position would carry over.
    this.shown.clear();
    this.newestTime = Number.NEGATIVE_INFINITY;
    this.candles.setData([]);
    this.volume.setData([]);
    this.chart.timeScale().resetTimeScale();
    // The attributes describe the emptied chart at once: the previous series' bar count and newest bar must not
    // stand beside the new symbol and interval until the next draw.
    setAttr(this.element, 'data-symbol', symbol);
    setAttr(this.element, 'data-interval', interval);
    setAttr(this.element, 'data-bars', '0');
    setAttr(this.element, 'data-loaded', 'false');
    this.element.removeAttribute('data-last-time');
    this.element.removeAttribute('data-last-close');
    this.accept(series.get(), true);
    this.stopListening = series.subscribe((state) => this.accept(state, false));
  }

  private accept(state: CandleSeriesState, reset: boolean): void {
    this.latest = state;
    if (this.firstLoad && state.loaded && !state.partial) {
      // Fewer bars than asked for in a whole answer: scrolling back has nothing more to ask for.
      this.firstLoad = false;
      this.noOlder = state.bars.length < this.initialBars;
    }
    if (reset || state.change.kind === 'reset') this.resetPending = true;
    else this.pending.push(state.change);
    this.throttle.schedule();
  }

  private draw(): void {
    const state = this.latest;
    if (!state) return;
    const changes = this.pending;
    this.pending = [];
    const plan: ChartPlan = this.resetPending
      ? { redraw: true }
      : planChartUpdate(changes, this.shown, this.newestTime, MAX_INCREMENTAL);
    let redrawAll = plan.redraw;
    if (!plan.redraw) {
      try {
        for (const step of plan.steps) this.applyStep(step);
      } catch {
        // lightweight-charts refused a bar: the full state is always a safe answer.
        redrawAll = true;
      }
    }
    if (redrawAll) this.setAll(state.bars);
    this.resetPending = false;
    this.updateAttributes(state);
  }

  private setAll(bars: readonly Bar[]): void {
    this.shown.clear();
    const candleData: CandlestickData<Time>[] = [];
    const volumeData: HistogramData<Time>[] = [];
    let digits = 0;
    for (const bar of bars) {
      const time = chartTime(bar);
      this.shown.set(time, bar);
      candleData.push(this.candleOf(bar, time));
      volumeData.push(this.volumeOf(bar, time));
      digits = Math.max(digits, this.digitsOf(bar));
    }
    this.newestTime = bars.length > 0 ? chartTime(bars[bars.length - 1] as Bar) : Number.NEGATIVE_INFINITY;
    this.setPrecision(digits);
    this.candles.setData(candleData);
    this.volume.setData(volumeData);
    if (this.scrollToNewest && bars.length > 0) {
      this.scrollToNewest = false;
      this.chart.timeScale().resetTimeScale();
    }
  }

  /** One bar in place: the newest moved or appended, or a past one replaced. */
  private applyStep({ bar, time, historical }: BarStep): void {
    const chartTime = time as UTCTimestamp;
    this.shown.set(time, bar);
    this.candles.update(this.candleOf(bar, chartTime), historical);
    this.volume.update(this.volumeOf(bar, chartTime), historical);
    if (!historical) this.newestTime = time;
    this.setPrecision(Math.max(this.precision, this.digitsOf(bar)));
    if (this.hovered && barTime(this.hovered) === time) this.hovered = bar;
  }

  private candleOf(bar: Bar, time: UTCTimestamp): CandlestickData<Time> {
    return { time, open: bar.open, high: bar.high, low: bar.low, close: bar.close };
  }

  private volumeOf(bar: Bar, time: UTCTimestamp): HistogramData<Time> {
    const color = bar.close >= bar.open ? this.colors.upVolume : this.colors.downVolume;
    return { time, value: bar.volume, color };
  }

  private digitsOf(bar: Bar): number {
    return Math.max(
      fractionDigits(bar.open),
      fractionDigits(bar.high),
      fractionDigits(bar.low),
      fractionDigits(bar.close),
    );
  }

  /** The price axis shows as many decimals as the prices have (at least 2, at most 10). */
  private setPrecision(digits: number): void {
    const precision = Math.min(10, Math.max(2, digits));
    if (precision === this.precision) return;
    this.precision = precision;
    this.candles.applyOptions({ priceFormat: { type: 'price', precision, minMove: 10 ** -precision } });
  }

  private updateAttributes(state: CandleSeriesState): void {
    const newest = state.bars[state.bars.length - 1];
    setAttr(this.element, 'data-bars', String(this.shown.size));
    setAttr(this.element, 'data-loaded', state.loaded ? 'true' : 'false');
    setAttr(this.element, 'data-live', state.live ? 'true' : 'false');
    if (newest) {
      setAttr(this.element, 'data-last-time', newest.time);
      setAttr(this.element, 'data-last-close', plainNumber(newest.close));
    } else {
      this.element.removeAttribute('data-last-time');
      this.element.removeAttribute('data-last-close');
    }
    if (state.error) setText(this.note, `refused: ${state.error.code} ${state.error.message}`);
    else if (!state.loaded) setText(this.note, 'loading history…');
    else if (state.partial) setText(this.note, `history incomplete (${state.partial}); the rest follows`);
    else if (this.loadingOlder) setText(this.note, 'loading older bars…');
    else setText(this.note, '');
    this.drawLegend(this.hovered ?? newest);
  }

  private drawLegend(bar: Bar | undefined): void {
    if (!bar) {
      this.legend.replaceChildren();
      this.legend.removeAttribute('data-venue');
      return;
    }
    const ms = Date.parse(bar.time);
    const field = (name: string, value: number): HTMLElement =>
      el(
        'span',
        { class: 'legend-field' },
        el('span', { class: 'legend-name', text: name }),
        decimalText(value),
      );
    this.legend.replaceChildren(
      el('time', {
        class: 'legend-time',
        text: localDateTime(ms),
        title: utcTitle(ms),
        attrs: { datetime: bar.time },
      }),
      field('O', bar.open),
      field('H', bar.high),
      field('L', bar.low),
      field('C', bar.close),
      field('V', bar.volume),
      el('span', { class: 'legend-field', text: `${bar.trades} trades` }),
      el('span', { class: 'legend-provenance', text: `${provenanceText(bar)} · ${barStateText(bar)}` }),
    );
    setAttr(this.legend, 'data-venue', bar.sources.join(','));
    setAttr(this.legend, 'data-backfilled', String(bar.backfilled));
    setAttr(this.legend, 'data-time', bar.time);
  }

  private readonly onCrosshair = (param: MouseEventParams<Time>): void => {
    const hovered =
      param.time === undefined || !param.point ? undefined : this.shown.get(timeMs(param.time) / 1000);
    if (hovered === this.hovered) return;
    this.hovered = hovered;
    if (this.latest) this.drawLegend(hovered ?? this.latest.bars[this.latest.bars.length - 1]);
  };

  /**
   * Scrolled near the left edge: ask for older bars. Judged on the next frame from the range the chart shows
   * then, not the one the event carries: a new series is scrolled to its newest bars right after its data is
   * set, and the range in between (the old scroll position over the new data) must not page back.
   */
  private readonly onRange = (): void => {
    if (this.rangeCheckPending) return;
    this.rangeCheckPending = true;
    requestAnimationFrame(() => {
      this.rangeCheckPending = false;
      const range: LogicalRange | null = this.chart.timeScale().getVisibleLogicalRange();
      if (range && range.from <= LOAD_MARGIN_BARS) void this.loadOlder();
    });
  };

  private async loadOlder(): Promise<void> {
    const series = this.series;
    if (!series || !this.latest?.loaded || this.loadingOlder || this.noOlder) return;
    if (Date.now() < this.olderPausedUntil) return;
    this.loadingOlder = true;
    this.throttle.schedule();
    try {
      const added = await series.loadOlder(OLDER_PAGE);
      if (series === this.series && added === 0) this.noOlder = true;
    } catch {
      this.olderPausedUntil = Date.now() + OLDER_RETRY_MS;
    } finally {
      this.loadingOlder = false;
      this.throttle.schedule();
    }
  }
}
