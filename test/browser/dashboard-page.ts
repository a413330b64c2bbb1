/**
 * What the browser suites read on the dashboard, through its DOM contract (docs/DASHBOARD.md): the chart, the
 * connection status, the sources panel, the alerts feed. Every wait is for a condition in the page.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { attributeOf, waitInPage, type TestBrowser } from '../support/browser.ts';

const MINUTE = 60_000;
export const INTERVAL_MS: Readonly<Record<string, number>> = {
  '1m': MINUTE,
  '5m': 5 * MINUTE,
  '1h': 60 * MINUTE,
};

/**
 * Waits until the chart shows `symbol` at `interval`: bars of that interval (its newest starts a period of it, so
 * bars of the previous choice do not count), the newest being the gateway's newest, or next to it when a period
 * began between the two looks.
 */
export async function untilChartShows(
  browser: TestBrowser,
  page: Page,
  origin: string,
  symbol: string,
  interval: string,
): Promise<void> {
  const periodMs = INTERVAL_MS[interval] as number;
  await waitInPage(
    browser,
    page,
    `${symbol} ${interval} bars on the chart`,
    ([symbol, interval, periodMs]) => {
      const chart = document.querySelector('[data-testid="chart"]');
      const newest = Date.parse(chart?.getAttribute('data-last-time') ?? '');
      return (
        chart?.getAttribute('data-symbol') === symbol &&
        chart.getAttribute('data-interval') === interval &&
        Number(chart.getAttribute('data-bars')) > 0 &&
        newest % periodMs === 0
      );
    },
    [symbol, interval, periodMs] as const,
  );
  assert.equal(await attributeOf(page, `interval-${interval}`, 'aria-pressed'), 'true');
  const query = new URLSearchParams({ symbol, interval, limit: '1' });
  const served = (await (await fetch(`${origin}/api/candles?${query.toString()}`)).json()) as {
    bars: { time: string }[];
  };
  const newestServed = Date.parse(served.bars.at(-1)?.time ?? '');
  const newestShown = Date.parse((await attributeOf(page, 'chart', 'data-last-time')) ?? '');
  assert.ok(
    Math.abs(newestShown - newestServed) <= periodMs,
    `${symbol} ${interval}: the chart's newest bar ${new Date(newestShown).toISOString()}, the gateway's ${new Date(newestServed).toISOString()}`,
  );
  assert.ok(Number(await attributeOf(page, 'chart', 'data-last-close')) > 0);
}

/** Waits until the connection status shows one of `states`. */
export async function untilConnection(
  browser: TestBrowser,
  page: Page,
  states: readonly string[],
): Promise<void> {
  await waitInPage(
    browser,
    page,
    `the connection ${states.join(' or ')}`,
    (states) =>
      states.includes(
        document.querySelector('[data-testid="connection-status"]')?.getAttribute('data-state') ?? '',
      ),
    states,
  );
}

/** A row of the sources panel as the page shows it. */
export interface SourceRowState {
  readonly active: boolean;
  readonly healthy: boolean;
}

/** Waits until the sources panel shows `venue`'s row of `symbol` in `state`. */
export async function untilSource(
  browser: TestBrowser,
  page: Page,
  symbol: string,
  venue: string,
  state: Partial<SourceRowState>,
): Promise<void> {
  await waitInPage(
    browser,
    page,
    `${venue} ${JSON.stringify(state)} for ${symbol} in the sources panel`,
    ([symbol, venue, state]) => {
      const row = [...document.querySelectorAll('[data-testid="source-row"]')].find(
        (r) => r.getAttribute('data-symbol') === symbol && r.getAttribute('data-venue') === venue,
      );
      if (row === undefined) return false;
      return (
        (state.active === undefined || row.getAttribute('data-active') === String(state.active)) &&
        (state.healthy === undefined || row.getAttribute('data-healthy') === String(state.healthy))
      );
    },
    [symbol, venue, state] as const,
  );
}

/** The alerts in the feed, oldest first: kind and severity. */
export function alertsShown(page: Page): Promise<{ kind: string; severity: string }[]> {
  return page.getByTestId('alert-item').evaluateAll((items) =>
    items.map((i) => ({
      kind: i.getAttribute('data-kind') ?? '',
      severity: i.getAttribute('data-severity') ?? '',
    })),
  );
}

/** Waits until the alerts feed holds an alert of `kind`. */
export async function untilAlert(browser: TestBrowser, page: Page, kind: string): Promise<void> {
  await waitInPage(
    browser,
    page,
    `a ${kind} alert in the feed`,
    (kind) =>
      [...document.querySelectorAll('[data-testid="alert-item"]')].some(
        (i) => i.getAttribute('data-kind') === kind,
      ),
    kind,
  );
}
