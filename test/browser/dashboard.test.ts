/**
 * The dashboard in a real browser against the demo's stack: the simulator (Bitget with its demo trader, dYdX with
 * its demo subaccount) and `tickwire all` wired to it, serving the built page at `/`. Chromium opens it, sees the
 * chart fill and the ticker move, switches interval and instrument, then opens each demo account with a token (typed,
 * and from the URL) and sees the positions the simulated exchange holds; last, the page on a phone-sized screen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret } from '../../src/config/secret.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import { AccountAuth } from '../../src/gateway/auth.ts';
import { demoAccounts } from '../../src/sim/accounts/config.ts';
import { startSimulatedSystem } from '../e2e/helpers.ts';
import { attributeOf, launchBrowser, waitInPage } from '../support/browser.ts';
import { untilChartShows, untilConnection } from './dashboard-page.ts';
import { dashboardBuild } from '../support/dashboard-build.ts';

const AUTH_SECRET = 'browser-dashboard-secret-0123456789abcdef';
const BITGET = demoAccounts.bitget[0]!;
const DYDX = demoAccounts.dydx[0]!;

/** The positions of a simulated account as `symbol side` lines, sorted (what the page's rows must show). */
function venuePositions(positions: readonly { symbol: string; size: { coef: bigint } }[]): string[] {
  return positions
    .filter((p) => p.size.coef !== 0n)
    .map((p) => `${p.symbol} ${p.size.coef > 0n ? 'long' : 'short'}`)
    .sort();
}

describe('the dashboard in Chromium, on the demo stack', () => {
  it('shows the market live, switches interval and instrument, and opens each account with a token', async (t) => {
    const dashboardDir = await dashboardBuild(t);
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['bitget', 'dydx'],
      symbols: ['BTC/USDT', 'BTC/USD'],
      seed: 17,
      historyDays: 1,
      accounts: [
        {
          id: 'demo-bitget',
          venue: 'bitget',
          credentials: { apiKey: BITGET.apiKey, secret: BITGET.secret, passphrase: BITGET.passphrase },
        },
        { id: 'demo-dydx', venue: 'dydx', address: DYDX.address, subaccountNumber: DYDX.subaccountNumber },
      ],
      auth: { secret: AUTH_SECRET },
      dashboardDir,
    });
    const auth = new AccountAuth({
      accounts: ['demo-bitget', 'demo-dydx'],
      secret: new Secret(AUTH_SECRET),
      now: Date.now,
    });
    const origin = `http://localhost:${system.gateway.port}`;
    const browser = await launchBrowser();
    t.after(() => browser.close());
    const page = await browser.newPage();

    await t.test('opens connected, with bars on the chart as the gateway has them', async () => {
      const response = await page.goto(`${origin}/`);
      assert.equal(response?.status(), 200);
      await untilConnection(browser, page, ['connected']);
      await untilChartShows(browser, page, origin, 'BTC/USDT', '1m');
      const symbols = await page.getByTestId('symbol-picker').locator('option').allTextContents();
      assert.deepEqual(symbols, ['BTC/USDT', 'BTC/USD']);
      assert.equal(await attributeOf(page, 'interval-1m', 'aria-pressed'), 'true');
      assert.equal(await page.getByTestId('stale-banner').isVisible(), false);
      assert.equal(await page.evaluate(() => document.body.dataset['stale']), 'false');

      await browser.screenshot(page, 'dashboard-opened');
    });

    await t.test('moves the ticker as trades arrive', async () => {
      await waitInPage(
        browser,
        page,
        'a first ticker',
        () => {
          const last = document.querySelector('[data-testid="ticker-last"]');
          return (
            last?.hasAttribute('data-updated') === true && Number.isFinite(parseFloat(last.textContent ?? ''))
          );
        },
        null,
      );
      const first = Number(await attributeOf(page, 'ticker-last', 'data-updated'));
      await waitInPage(
        browser,
        page,
        'the ticker to change',
        (since) =>
          Number(document.querySelector('[data-testid="ticker-last"]')?.getAttribute('data-updated')) > since,
        first,
      );
      const venue = await attributeOf(page, 'ticker-last', 'data-venue');
      assert.equal(venue, 'bitget', 'BTC/USDT is quoted by Bitget alone here');
    });

    await t.test('switches the interval', async () => {
      await page.getByTestId('interval-5m').click();
      await untilChartShows(browser, page, origin, 'BTC/USDT', '5m');
      assert.equal(await attributeOf(page, 'interval-1m', 'aria-pressed'), 'false');
      await page.getByTestId('interval-1h').click();
      await untilChartShows(browser, page, origin, 'BTC/USDT', '1h');
    });

    await t.test('switches the instrument', async () => {
      await page.getByTestId('symbol-picker').selectOption('BTC/USD');
      await untilChartShows(browser, page, origin, 'BTC/USD', '1h');
      await waitInPage(
        browser,
        page,
        'the BTC/USD ticker from dYdX',
        () => document.querySelector('[data-testid="ticker-last"]')?.getAttribute('data-venue') === 'dydx',
        null,
      );
      await page.getByTestId('interval-1m').click();
      await untilChartShows(browser, page, origin, 'BTC/USD', '1m');
      await browser.screenshot(page, 'dashboard-btc-usd');
    });

    await t.test('opens the Bitget account with a typed token and shows its positions', async () => {
      const bitget = sim.accounts.of('bitget').accounts[0]!;
      // Adds to the position the seeded trader may hold (or opens one), so that there is one to show.
      const held = bitget.positions().find((p) => p.symbol === 'BTC/USDT' && p.size.coef !== 0n);
      const side = held !== undefined && held.size.coef > 0n ? 'buy' : 'sell';
      bitget.placeOrder({ symbol: 'BTC/USDT', side, type: 'market', size: parseDecimal('0.021') });
      await page.getByTestId('token-input').fill(await auth.issue('demo-bitget', 3600_000));
      await page.getByTestId('token-apply').click();
      await waitInPage(
        browser,
        page,
        'the account signed in',
        () =>
          document.querySelector('[data-testid="account-status"]')?.getAttribute('data-state') ===
          'authenticated',
        null,
      );
      // The seeded trader trades too: compare once the page and the exchange agree, which they must come to.
      let shown: string[];
      await waitInPage(
        browser,
        page,
        'a position row',
        () => document.querySelector('[data-testid="position-row"]') !== null,
        null,
      );
      const deadline = Date.now() + 60_000;
      for (;;) {
        shown = await page
          .getByTestId('position-row')
          .evaluateAll((rows) =>
            rows.map((r) => `${r.getAttribute('data-symbol')} ${r.getAttribute('data-side')}`).sort(),
          );
        if (JSON.stringify(shown) === JSON.stringify(venuePositions(bitget.positions()))) break;
        if (Date.now() > deadline) break;
        await page.waitForTimeout(250);
      }
      assert.deepEqual(shown, venuePositions(bitget.positions()));
      assert.ok(shown.length > 0, 'the account holds a position');
      assert.notEqual((await page.getByTestId('total-value').textContent())?.trim(), '—');
      // Money to 2 decimals (the exact amount is the hover text); every position shows a mark price.
      assert.match(
        (await page.getByTestId('total-value').textContent())?.trim() ?? '',
        /^-?\d+\.\d{2} USDT$/,
      );
      const marks = await page
        .getByTestId('position-row')
        .evaluateAll((rows) =>
          rows.map(
            (r) =>
              [...r.querySelectorAll('.stat')].find(
                (s) => s.querySelector('.stat-name')?.textContent === 'Mark',
              )?.lastChild?.textContent ?? '',
          ),
        );
      assert.ok(
        marks.every((m) => /^\d+\.\d{2,10}$/.test(m)),
        `mark prices shown: ${JSON.stringify(marks)}`,
      );
      await browser.screenshot(page, 'dashboard-account-bitget');
    });

    await t.test(
      'opens the dYdX account from a #token= link, and takes the token out of the address',
      async () => {
        const dydx = sim.accounts.of('dydx').accounts[0]!;
        const held = dydx.positions().find((p) => p.symbol === 'BTC/USD' && p.size.coef !== 0n);
        const side = held !== undefined && held.size.coef < 0n ? 'sell' : 'buy';
        dydx.placeOrder({ symbol: 'BTC/USD', side, type: 'market', size: parseDecimal('0.013') });
        const linked = await browser.newPage();
        const token = await auth.issue('demo-dydx', 3600_000);
        await linked.goto(`${origin}/#token=${token}`);
        await waitInPage(
          browser,
          linked,
          'the dYdX account signed in',
          () =>
            document.querySelector('[data-testid="account-status"]')?.getAttribute('data-state') ===
            'authenticated',
          null,
        );
        assert.ok(!linked.url().includes(token), `the token left the address bar: ${linked.url()}`);
        await waitInPage(
          browser,
          linked,
          'the dYdX BTC/USD position',
          () =>
            [...document.querySelectorAll('[data-testid="position-row"]')].some(
              (r) => r.getAttribute('data-symbol') === 'BTC/USD',
            ),
          null,
        );
        await linked.close();
      },
    );

    await t.test(
      'fits a phone-sized screen: no sideways scrolling, the chart and ticker in view',
      async () => {
        const phone = await browser.newPage();
        await phone.setViewportSize({ width: 390, height: 844 });
        await phone.goto(`${origin}/`);
        await untilConnection(browser, phone, ['connected']);
        await untilChartShows(browser, phone, origin, 'BTC/USDT', '1m');
        const layout = await phone.evaluate(() => {
          // No named helper here: the test's transpiler would wrap it in a function the page does not have.
          const [chart, ticker] = ['chart', 'ticker-last'].map((id) =>
            document.querySelector(`[data-testid="${id}"]`)?.getBoundingClientRect(),
          );
          return {
            pageWidth: document.documentElement.scrollWidth,
            viewWidth: window.innerWidth,
            chart: chart && {
              left: chart.left,
              right: chart.right,
              width: chart.width,
              height: chart.height,
            },
            ticker: ticker && { left: ticker.left, right: ticker.right },
          };
        });
        assert.ok(
          layout.pageWidth <= layout.viewWidth,
          `the page is ${layout.pageWidth} px wide on ${layout.viewWidth}`,
        );
        assert.ok(
          layout.chart && layout.chart.width > 200 && layout.chart.height > 150,
          JSON.stringify(layout),
        );
        assert.ok(layout.chart.left >= 0 && layout.chart.right <= layout.viewWidth, JSON.stringify(layout));
        assert.ok(
          layout.ticker && layout.ticker.left >= 0 && layout.ticker.right <= layout.viewWidth,
          JSON.stringify(layout),
        );
        await browser.screenshot(phone, 'dashboard-phone');
        await phone.close();
      },
    );

    assert.deepEqual(browser.problems, [], 'the pages reported no error');
  });
});
