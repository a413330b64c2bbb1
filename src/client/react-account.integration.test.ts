/**
 * `useAccount` in a real browser against a real gateway with accounts (scripted account sources behind the real
 * AccountHub): the page of react-test-page.test-support.ts, given a token, shows the account's positions and open
 * orders; its connection is cut while the account changes, and after the reconnect the page shows the account as it
 * is now. A view opened after the socket authenticated shows the token as accepted too.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../../test/support/browser.ts';
import { startTcpProxy } from '../../test/support/tcp-proxy.ts';
import type { AccountEvent } from '../account/contract.ts';
import type { Order, PositionSide } from '../domain/account.ts';
import { parseDecimal } from '../domain/decimal.ts';
import { startAccountGateway, STATIC_TOKEN } from '../gateway/account-channels.test-support.ts';
import { servePage, type ServedPage } from './react-page.test-support.ts';

const PAGE_ENTRY = fileURLToPath(new URL('./react-test-page.test-support.ts', import.meta.url));
/** The machine may be loaded: conditions are waited on, never timed. */
const WAIT_MS = 60_000;

/** Waits until `check` holds, polling the page (each poll is a round trip to the browser). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The dYdX account's open positions, all of them (`complete`). */
function positionsEvent(sides: readonly (readonly [string, PositionSide])[], time: number): AccountEvent {
  return {
    kind: 'positions',
    complete: true,
    time,
    positions: sides.map(([symbol, side]) => ({
      symbol,
      side,
      size: parseDecimal('0.5'),
      entryPrice: parseDecimal('60000'),
      marginMode: 'cross',
      unrealizedPnl: parseDecimal('12.5'),
      margin: parseDecimal('1000'),
      timestamp: time,
    })),
  };
}

function orderEvent(orderId: string, status: Order['status'], time: number): AccountEvent {
  return {
    kind: 'order',
    order: {
      orderId,
      symbol: 'BTC/USD',
      market: 'perpetual',
      side: 'buy',
      type: 'limit',
      price: parseDecimal('59000'),
      size: parseDecimal('0.1'),
      filledSize: parseDecimal('0'),
      status,
      createdAt: time,
      updatedAt: time,
    },
  };
}

async function connectionOf(page: Page): Promise<string | null> {
  return page.getByTestId('connection').getAttribute('data-state');
}

describe('tickwire/react useAccount in Chromium against a real gateway', () => {
  let web: ServedPage;
  let browser: TestBrowser;
  const pageErrors = (): string[] => browser.problems.filter((problem) => problem.startsWith('page error'));

  before(async () => {
    web = await servePage(PAGE_ENTRY);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
  });

  it("shows a token's account, and its state after a reconnect re-snapshots it", async () => {
    const accounts = await startAccountGateway();
    const accountProxy = await startTcpProxy({ host: '127.0.0.1', port: accounts.gateway.port });
    const accountPage = await browser.newPage();
    const shown = async (attribute: string) =>
      accountPage.getByTestId('series-account').getAttribute(attribute);
    try {
      const ws = `ws://127.0.0.1:${accountProxy.port}/ws`;
      // The account component is there from the start, before the socket opens (the next test mounts it later).
      const query = `ws=${encodeURIComponent(ws)}&token=${STATIC_TOKEN}&show=account`;
      await accountPage.goto(`${web.origin}/?${query}`);
      await eventually(
        async () => (await shown('data-authenticated')) === 'true',
        'the token to be accepted',
      );
      const beta = accounts.sources.beta;
      beta.emit(
        positionsEvent(
          [
            ['BTC/USD', 'long'],
            ['ETH/USD', 'short'],
          ],
          accounts.clock.now(),
        ),
      );
      beta.emit(orderEvent('o1', 'open', accounts.clock.now()));
      await eventually(
        async () =>
          (await shown('data-positions')) === 'BTC/USD:long ETH/USD:short' &&
          (await shown('data-orders')) === 'o1',
        'the positions and the open order',
      );

      accountProxy.cut();
      await eventually(
        async () => (await connectionOf(accountPage)) !== 'connected',
        'the connection to drop',
      );
      // While the page is away: the long is closed, the order is canceled and another one placed.
      beta.emit(positionsEvent([['ETH/USD', 'short']], accounts.clock.now()));
      beta.emit(orderEvent('o1', 'canceled', accounts.clock.now()));
      beta.emit(orderEvent('o2', 'open', accounts.clock.now()));
      accountProxy.restore();
      await eventually(
        async () =>
          (await shown('data-positions')) === 'ETH/USD:short' && (await shown('data-orders')) === 'o2',
        'the account as it is now',
      );
      assert.equal(await shown('data-authenticated'), 'true');
      assert.deepEqual(pageErrors(), []);
    } finally {
      await accountPage.close();
      await accountProxy.close();
      await accounts.close();
    }
  });

  it('shows a token as accepted in an account view opened after the socket authenticated', async () => {
    const accounts = await startAccountGateway();
    const accountPage = await browser.newPage();
    try {
      const ws = `${accounts.gateway.url}/ws`;
      await accountPage.goto(`${web.origin}/?ws=${encodeURIComponent(ws)}&token=${STATIC_TOKEN}`);
      await eventually(async () => (await connectionOf(accountPage)) === 'connected', 'the page to connect');
      await accountPage.getByTestId('toggle-account').click();
      await eventually(
        async () =>
          (await accountPage.getByTestId('series-account').getAttribute('data-authenticated')) === 'true',
        'the token to be shown as accepted',
      );
    } finally {
      await accountPage.close();
      await accounts.close();
    }
  });
});
