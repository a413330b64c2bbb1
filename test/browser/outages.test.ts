/**
 * The dashboard through outages, in a real browser: Binance (primary) and OKX both serve BTC/USDT from the
 * simulator. A venue that goes silent is shown unhealthy in the sources panel, alerted about, and replaced by the
 * other one, until it recovers and takes over again. The page's own connection to the gateway runs through a
 * proxy that the test cuts: the page keeps its data marked stale, then reconnects and catches up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSimulatedSystem, until } from '../e2e/helpers.ts';
import { launchBrowser, waitInPage } from '../support/browser.ts';
import { dashboardBuild } from '../support/dashboard-build.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { alertsShown, untilAlert, untilChartShows, untilConnection, untilSource } from './dashboard-page.ts';

describe('the dashboard in Chromium through outages', () => {
  it('shows a venue cut off, the alert and the failover, then the recovery; and rides out its own lost connection', async (t) => {
    const dashboardDir = await dashboardBuild(t);
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['binance', 'okx'],
      symbols: ['BTC/USDT'],
      seed: 23,
      historyDays: 1,
      failover: { staleAfterMs: 2000, holdDownMs: 2000 },
      dashboardDir,
    });
    // The browser reaches the gateway (page, API and WebSocket) through a proxy the test can cut.
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: system.gateway.port });
    t.after(() => proxy.close());
    const origin = `http://localhost:${proxy.port}`;
    const browser = await launchBrowser();
    t.after(() => browser.close());
    const page = await browser.newPage();

    await t.test('opens with both venues healthy and the primary active', async () => {
      await until(
        () =>
          system.monitor.view().instruments[0]?.sources.every((s) => s.healthy) === true &&
          system.monitor.activeSource('BTC/USDT') === 'binance',
        30_000,
        'both venues healthy, binance active',
      );
      await page.goto(`${origin}/`);
      await untilConnection(browser, page, ['connected']);
      await untilChartShows(browser, page, origin, 'BTC/USDT', '1m');
      await untilSource(browser, page, 'BTC/USDT', 'binance', { active: true, healthy: true });
      await untilSource(browser, page, 'BTC/USDT', 'okx', { active: false, healthy: true });
    });

    await t.test('shows the cut venue unhealthy, the alerts and the failover to the other', async () => {
      sim.faults.stall('binance');
      await untilSource(browser, page, 'BTC/USDT', 'binance', { active: false, healthy: false });
      await untilSource(browser, page, 'BTC/USDT', 'okx', { active: true, healthy: true });
      await untilAlert(browser, page, 'source_stale');
      await untilAlert(browser, page, 'failover');
      assert.equal(system.monitor.activeSource('BTC/USDT'), 'okx', 'the page shows what the feed did');
      const alerts = await alertsShown(page);
      assert.ok(
        alerts.some((a) => a.kind === 'source_stale' && a.severity !== 'info'),
        `a stale source is a warning at least: ${JSON.stringify(alerts)}`,
      );
      // The composite chart goes on, now from the other venue.
      await untilChartShows(browser, page, origin, 'BTC/USDT', '1m');
      await browser.screenshot(page, 'outage-venue-cut');
    });

    await t.test('shows the recovery: the primary healthy and active again', async () => {
      sim.faults.resumeStream('binance');
      await untilSource(browser, page, 'BTC/USDT', 'binance', { active: true, healthy: true });
      await untilAlert(browser, page, 'source_recovered');
      await untilSource(browser, page, 'BTC/USDT', 'okx', { active: false, healthy: true });
      await browser.screenshot(page, 'outage-venue-recovered');
    });

    const problemsBeforeCut = browser.problems.length;
    await t.test(
      'keeps the last data marked stale while its connection is lost, and catches up after',
      async () => {
        const barsBefore = Number(await page.getByTestId('chart').getAttribute('data-bars'));
        assert.ok(barsBefore > 0);
        proxy.cut();
        await untilConnection(browser, page, ['reconnecting', 'disconnected', 'error']);
        await waitInPage(
          browser,
          page,
          'the page marked stale',
          () => document.body.dataset['stale'] === 'true',
          null,
        );
        assert.equal(await page.getByTestId('stale-banner').isVisible(), true);
        assert.equal(
          Number(await page.getByTestId('chart').getAttribute('data-bars')),
          barsBefore,
          'the chart keeps its bars',
        );
        await browser.screenshot(page, 'outage-connection-lost');

        proxy.restore();
        await untilConnection(browser, page, ['connected']);
        await waitInPage(
          browser,
          page,
          'the page live again',
          () => document.body.dataset['stale'] === 'false',
          null,
        );
        assert.equal(await page.getByTestId('stale-banner').isVisible(), false);
        await untilChartShows(browser, page, origin, 'BTC/USDT', '1m');
      },
    );

    // While the proxy cut connections, the browser said so for each attempt (refused, reset, not connected: how it
    // sees the cut depends on the moment); nothing else went wrong.
    const duringCut = browser.problems.slice(problemsBeforeCut);
    const unexpected = [
      ...browser.problems.slice(0, problemsBeforeCut),
      ...duringCut.filter((p) => !/WebSocket connection to .* failed|net::ERR_|Failed to fetch/.test(p)),
    ];
    assert.deepEqual(unexpected, [], 'the pages reported no other error');
  });
});
