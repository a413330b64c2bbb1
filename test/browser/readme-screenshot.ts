/**
 * `npm run screenshot`: the README's picture of the dashboard (docs/images/dashboard.png), taken the way the
 * browser suites see the page: the simulator's four venues and `tickwire all` wired to it, Chromium on the page
 * with the demo Bitget account opened by a `#token=` link, once every panel shows data; the whole page.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Secret } from '../../src/config/secret.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import { AccountAuth } from '../../src/gateway/auth.ts';
import { demoAccounts } from '../../src/sim/accounts/config.ts';
import { startSimulatedSystem } from '../e2e/helpers.ts';
import { launchBrowser, waitInPage } from '../support/browser.ts';
import { dashboardBuild } from '../support/dashboard-build.ts';
import { untilChartShows, untilConnection } from './dashboard-page.ts';

const OUTPUT = fileURLToPath(new URL('../../docs/images/dashboard.png', import.meta.url));
const AUTH_SECRET = 'readme-screenshot-secret-0123456789abcdef';
const BITGET = demoAccounts.bitget[0]!;
const DYDX = demoAccounts.dydx[0]!;

/** What the shared helpers want of a test: a place to register what to close at the end. */
const cleanups: (() => unknown)[] = [];
const scope = { after: (cleanup: () => unknown) => void cleanups.push(cleanup) };

async function main(): Promise<void> {
  const dashboardDir = await dashboardBuild(scope);
  const { sim, system } = await startSimulatedSystem(scope as unknown as TestContext, {
    venues: ['binance', 'okx', 'bitget', 'dydx'],
    symbols: ['BTC/USDT', 'BTC/USD'],
    seed: 42,
    historyDays: 2,
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
  // A position and a resting order, so that the account panels have something to show.
  const bitget = sim.accounts.of('bitget').accounts[0]!;
  bitget.placeOrder({ symbol: 'BTC/USDT', side: 'buy', type: 'market', size: parseDecimal('0.05') });
  const auth = new AccountAuth({ accounts: ['demo-bitget'], secret: new Secret(AUTH_SECRET), now: Date.now });
  const token = await auth.issue('demo-bitget', 3600_000);

  const browser = await launchBrowser({ viewport: { width: 1440, height: 1000 } });
  scope.after(() => browser.close());
  const page = await browser.newPage();
  const origin = `http://localhost:${system.gateway.port}`;
  await page.goto(`${origin}/#interval=5m&token=${token}`);
  await untilConnection(browser, page, ['connected']);
  await untilChartShows(browser, page, origin, 'BTC/USDT', '5m');
  await waitInPage(
    browser,
    page,
    'every panel filled',
    () =>
      document.querySelectorAll('[data-testid="book-bid"]').length > 5 &&
      document.querySelectorAll('[data-testid="trade-row"]').length > 5 &&
      document.querySelectorAll('[data-testid="position-row"]').length > 0 &&
      document.querySelectorAll('[data-testid="source-row"]').length >= 4 &&
      document.querySelector('[data-testid="account-status"]')?.getAttribute('data-state') ===
        'authenticated',
    null,
  );
  await mkdir(dirname(OUTPUT), { recursive: true });
  await page.screenshot({ path: OUTPUT, fullPage: true });
  process.stdout.write(`saved ${join('docs', 'images', 'dashboard.png')}\n`);
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
