import { TickMarkType, type DeepPartial, type ChartOptions, type Time } from 'lightweight-charts';
import { el } from './dom.ts';
import { localClock, localDateTime } from './format.ts';

/**
 * The look shared by the candle chart and the equity curve: the page's dark palette, and times written in the
 * viewer's zone (lightweight-charts writes UTC unless told otherwise). The page's CSS variables are the source of
 * the colours, so the charts follow the stylesheet.
 */

export function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** Chart times are UTC seconds; this reads one back as ms. */
export function timeMs(time: Time): number {
  return typeof time === 'number' ? time * 1000 : Date.parse(typeof time === 'string' ? time : '');
}

function tickMark(time: Time, type: TickMarkType): string {
  const d = new Date(timeMs(time));
  switch (type) {
    case TickMarkType.Year:
      return String(d.getFullYear());
    case TickMarkType.Month:
      return d.toLocaleString(undefined, { month: 'short' });
    case TickMarkType.DayOfMonth:
      return String(d.getDate());
    case TickMarkType.TimeWithSeconds:
      return localClock(d.getTime());
    default:
      return localClock(d.getTime()).slice(0, 5);
  }
}

/**
 * The attribution lightweight-charts' licence asks for: its NOTICE ("TradingView Lightweight Charts™, Copyright
 * (c) TradingView, Inc.") and a link to https://www.tradingview.com/ on the page.
 */
export function attribution(): HTMLElement {
  const link = el('a', {
    text: 'TradingView Lightweight Charts™',
    attrs: { href: 'https://www.tradingview.com/', target: '_blank', rel: 'noopener noreferrer' },
  });
  return el('p', { class: 'chart-attribution' }, 'Charts: ', link, ' · Copyright (c) TradingView, Inc.');
}

export function baseChartOptions(): DeepPartial<ChartOptions> {
  const text = cssColor('--text-dim', '#9aa4ae');
  const grid = cssColor('--grid', '#1e2630');
  return {
    autoSize: true,
    layout: {
      // The library's logo injects an inline <style>, which the page's Content-Security-Policy refuses; the
      // attribution its licence asks for is written under the chart instead (chart.ts, `attribution()`).
      attributionLogo: false,
      background: { color: cssColor('--panel', '#121820') },
      textColor: text,
      fontFamily: 'system-ui, sans-serif',
    },
    grid: { vertLines: { color: grid }, horzLines: { color: grid } },
    rightPriceScale: { borderColor: grid },
    timeScale: {
      borderColor: grid,
      timeVisible: true,
      secondsVisible: false,
      tickMarkFormatter: tickMark,
    },
    localization: { timeFormatter: (time: Time) => localDateTime(timeMs(time)) },
  };
}
