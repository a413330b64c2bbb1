/**
 * The React hooks in a real browser against a real gateway: Chromium (driven by playwright-core) opens a page
 * bundled by Vite from react-test-page.test-support.ts, which renders the hooks in StrictMode. The test cuts the
 * page's connection mid-stream (a TCP proxy between page and gateway resets every socket and refuses new ones),
 * moves the series on while the page is away (new bars, a revised closed bar), lets it back, and then the bars
 * the page shows must equal the gateway's series, bar for bar; the market, alerts and account views likewise show
 * their newest state. The account views have a file of their own: react-account.integration.test.ts.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  M,
  makeBar,
  makeUpdate,
  startTestGateway,
  TestClient,
  waitFor,
  type TestGateway,
} from '../../test/gateway/helpers.ts';
import { launchBrowser, type TestBrowser } from '../../test/support/browser.ts';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import {
  BOOK_CHANNEL,
  encodeBookSnapshot,
  encodeTicker,
  encodeTrades,
  TICKER_CHANNEL,
  TRADES_CHANNEL,
} from '../bus/market-message.ts';
import { publishAlert } from '../bus/alert-message.ts';
import { newAlert, type AlertInput } from '../domain/alert.ts';
import { parseDecimal } from '../domain/decimal.ts';
import type { Trade } from '../domain/trade.ts';
import { servePage, type ServedPage } from './react-page.test-support.ts';

const PAGE_ENTRY = fileURLToPath(new URL('./react-test-page.test-support.ts', import.meta.url));
/**
 * Where the test's series starts: an hour ahead. A gateway's `initial` marks its newest bar closed once that bar's
 * minute has passed on the gateway's clock; in the future, the bar in progress stays in progress however slowly
 * the test runs, as it does in a real stream.
 */
const T0 = (Math.floor(Date.now() / M) + 60) * M;
/** The machine may be loaded: conditions are waited on, never timed. */
const WAIT_MS = 60_000;

interface ShownSeries {
  readonly loaded: boolean;
  readonly bars: readonly unknown[];
}

async function shownSeries(page: Page, name: string): Promise<ShownSeries> {
  const element = page.getByTestId(`series-${name}`);
  return {
    loaded: (await element.getAttribute('data-loaded')) === 'true',
    bars: JSON.parse((await element.textContent()) ?? '[]') as unknown[],
  };
}

/** Waits until `check` holds, polling the page (each poll is a round trip to the browser). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The gateway's series as a fresh subscriber receives it: the `initial` of a new connection. */
async function serverSeries(gateway: TestGateway): Promise<readonly unknown[]> {
  const client = await TestClient.connect(`${gateway.gateway.url}/ws`);
  try {
    const initial = client.nextOfType('initial', WAIT_MS);
    client.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 100 });
    return (await initial)['bars'] as unknown[];
  } finally {
    client.close();
  }
}

/** What the ingest side publishes for binance's BTC/USDT: a ticker, a book of 50 levels from `best`, trades. */
function publishTicker(gateway: TestGateway, last: string): void {
  const time = Date.now();
  gateway.bus.publish(
    TICKER_CHANNEL,
    encodeTicker({ venue: 'binance', symbol: 'BTC/USDT', last: parseDecimal(last), time, receivedAt: time }),
  );
}

function publishBook(gateway: TestGateway, best: number, seq: number): void {
  const levels = (price: (i: number) => number) =>
    Array.from({ length: 50 }, (_, i) => ({ price: price(i).toFixed(2), size: '0.250' }));
  gateway.bus.publish(
    BOOK_CHANNEL,
    encodeBookSnapshot({
      venue: 'binance',
      symbol: 'BTC/USDT',
      bids: levels((i) => best - i),
      asks: levels((i) => best + 1 + i),
      seq,
      time: Date.now(),
      receivedAt: Date.now(),
    }),
  );
}

function publishTrades(gateway: TestGateway, ids: readonly number[]): void {
  const trades = ids.map((id): Trade => ({
    venue: 'binance',
    symbol: 'BTC/USDT',
    id: String(id),
    seq: id,
    price: parseDecimal('67000.5'),
    size: parseDecimal('0.001'),
    side: 'buy',
    fills: 1,
    time: Date.now(),
    receivedAt: Date.now(),
  }));
  gateway.bus.publish(TRADES_CHANNEL, encodeTrades('binance', 'BTC/USDT', trades));
}

function publishAlertOf(gateway: TestGateway, severity: AlertInput['severity'], message: string): void {
  publishAlert(gateway.bus, newAlert({ severity, kind: 'source_stale', message }));
}

async function marketShown(page: Page, attribute: string): Promise<string | null> {
  return page.getByTestId('series-market').getAttribute(attribute);
}

/** Messages the gateway has received from its clients (subscribes, unsubscribes, pings). */
function messagesReceived(gateway: TestGateway): number {
  return gateway.gateway.stats().gateway.messagesReceived;
}

function candleRoomClients(gateway: TestGateway): number {
  return gateway.gateway
    .stats()
    .broadcaster.rooms.filter((room) => room.key.includes('BTC/USDT') && room.key.includes('1m'))
    .reduce((sum, room) => sum + room.clientCount, 0);
}

describe('tickwire/react in Chromium against a real gateway', () => {
  let gateway: TestGateway;
  let proxy: TcpProxy;
  let web: ServedPage;
  let browser: TestBrowser;
  let page: Page;
  /** The page's uncaught errors (a refused reconnect, logged while the proxy is cut, is expected). */
  const pageErrors = (): string[] => browser.problems.filter((problem) => problem.startsWith('page error'));

  before(async () => {
    web = await servePage(PAGE_ENTRY);
    gateway = await startTestGateway({}, { symbols: ['BTC/USDT'] });
    for (let minute = 0; minute < 5; minute++) {
      gateway.publish(makeUpdate(makeBar(T0 + minute * M, `${100 + minute}`), 'closed'));
    }
    gateway.publish(makeUpdate(makeBar(T0 + 5 * M, '105.5'), 'live'));
    proxy = await startTcpProxy({ host: '127.0.0.1', port: gateway.gateway.port });
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(`${web.origin}/?ws=${encodeURIComponent(`ws://127.0.0.1:${proxy.port}/ws`)}`);
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await gateway?.close();
    await web?.close();
  });

  it('shows the initial bars from one subscribe, through the unmount and mount of StrictMode', async () => {
    await eventually(
      async () => (await page.getByTestId('connection').getAttribute('data-state')) === 'connected',
      'the page to connect',
    );
    const receivedBefore = messagesReceived(gateway);
    await page.getByTestId('toggle-a').click();
    await eventually(async () => (await shownSeries(page, 'a')).loaded, 'the first initial');
    // StrictMode mounted the component twice on the open socket. The view was kept through it: the page sent one
    // subscribe, not a subscribe, an unsubscribe and another subscribe.
    assert.equal(messagesReceived(gateway), receivedBefore + 1);
    const expected = await serverSeries(gateway);
    assert.equal(expected.length, 6);
    assert.deepEqual((await shownSeries(page, 'a')).bars, expected);
    assert.deepEqual(pageErrors(), []);
  });

  it('gives a second component asking the same the same view, with no new subscribe', async () => {
    await waitFor(() => candleRoomClients(gateway) === 1, WAIT_MS, "the test's own subscriber to leave");
    const receivedBefore = messagesReceived(gateway);
    await page.getByTestId('toggle-b').click();
    await eventually(async () => (await shownSeries(page, 'b')).loaded, 'the second component');
    assert.deepEqual((await shownSeries(page, 'b')).bars, (await shownSeries(page, 'a')).bars);
    assert.equal(messagesReceived(gateway), receivedBefore);
    assert.equal(candleRoomClients(gateway), 1);
  });

  it('applies live updates: the bar in progress changes, a new bar appends', async () => {
    gateway.publish(makeUpdate(makeBar(T0 + 5 * M, '105.75', 2), 'closed'));
    gateway.publish(makeUpdate(makeBar(T0 + 6 * M, '106.25'), 'live'));
    const expected = await serverSeries(gateway);
    assert.equal(expected.length, 7);
    await eventually(
      async () => JSON.stringify((await shownSeries(page, 'a')).bars) === JSON.stringify(expected),
      'the page to show the live bars',
    );
  });

  it('after its connection is dropped mid-stream, shows the same bars as the server', async () => {
    proxy.cut();
    await eventually(
      async () => (await page.getByTestId('connection').getAttribute('data-state')) !== 'connected',
      'the page to see the connection drop',
    );
    // While the page is away: the bar in progress closes, two more bars come, one of them still live, and an
    // older closed bar is revised (a late trade).
    gateway.publish(makeUpdate(makeBar(T0 + 6 * M, '106.5', 3), 'closed'));
    gateway.publish(makeUpdate(makeBar(T0 + 7 * M, '107'), 'closed'));
    gateway.publish(makeUpdate(makeBar(T0 + 8 * M, '108.25'), 'live'));
    gateway.publish(makeUpdate(makeBar(T0 + 2 * M, '102.125', 4), 'closed'));
    proxy.restore();

    const expected = await serverSeries(gateway);
    assert.equal(expected.length, 9);
    await eventually(
      async () => JSON.stringify((await shownSeries(page, 'a')).bars) === JSON.stringify(expected),
      'the page to catch up after the reconnect',
    );
    assert.equal(await page.getByTestId('connection').getAttribute('data-state'), 'connected');
    assert.deepEqual((await shownSeries(page, 'b')).bars, expected);

    // And the stream goes on where it left off.
    gateway.publish(makeUpdate(makeBar(T0 + 8 * M, '108.5', 2), 'closed'));
    gateway.publish(makeUpdate(makeBar(T0 + 9 * M, '109'), 'live'));
    const after = await serverSeries(gateway);
    await eventually(
      async () => JSON.stringify((await shownSeries(page, 'a')).bars) === JSON.stringify(after),
      'the page to follow the stream after the reconnect',
    );
    assert.deepEqual(pageErrors(), []);
  });

  it("shows a venue's ticker, book and trades, and their newest state after a reconnect", async () => {
    await page.getByTestId('toggle-market').click();
    await waitFor(
      () =>
        gateway.gateway.stats().broadcaster.rooms.filter((room) => room.key.includes('binance')).length === 3,
      WAIT_MS,
      'the ticker, book and trades subscriptions',
    );
    publishTicker(gateway, '67000.5');
    publishBook(gateway, 67000, 1);
    publishTrades(gateway, [1, 2, 3]);
    await eventually(
      async () =>
        (await marketShown(page, 'data-ticker-last')) === '67000.5' &&
        (await marketShown(page, 'data-best-bid')) === '67000' &&
        (await marketShown(page, 'data-trades')) === '1 2 3',
      'the market data on the page',
    );
    assert.equal(await marketShown(page, 'data-bid-levels'), '5', 'the book cut to the depth asked');

    proxy.cut();
    await eventually(
      async () => (await page.getByTestId('connection').getAttribute('data-state')) !== 'connected',
      'the page to see the connection drop',
    );
    publishTicker(gateway, '67100.25');
    publishBook(gateway, 67100, 2);
    proxy.restore();
    // Ticker and book are states: the gateway sends the current one on the new subscribe. Trades are a stream:
    // the page keeps those it had and adds the new ones.
    await eventually(
      async () =>
        (await marketShown(page, 'data-ticker-last')) === '67100.25' &&
        (await marketShown(page, 'data-best-bid')) === '67100',
      'the newest ticker and book after the reconnect',
    );
    await eventually(
      async () => (await page.getByTestId('connection').getAttribute('data-state')) === 'connected',
      'the page to be connected',
    );
    publishTrades(gateway, [4]);
    await eventually(async () => (await marketShown(page, 'data-trades')) === '1 2 3 4', 'the next trade');
    assert.deepEqual(pageErrors(), []);
  });

  it('shows the alerts asked for, and those raised while away once, after a reconnect', async () => {
    await page.getByTestId('toggle-alerts').click();
    await waitFor(
      () => gateway.gateway.stats().broadcaster.rooms.some((room) => room.key.includes('alerts')),
      WAIT_MS,
      'the alerts subscription',
    );
    const shown = () => page.getByTestId('series-alerts').getAttribute('data-messages');
    publishAlertOf(gateway, 'info', 'below the asked severity');
    publishAlertOf(gateway, 'warning', 'first');
    publishAlertOf(gateway, 'critical', 'second');
    await eventually(async () => (await shown()) === 'first | second', 'the first alerts');

    proxy.cut();
    await eventually(
      async () => (await page.getByTestId('connection').getAttribute('data-state')) !== 'connected',
      'the page to see the connection drop',
    );
    publishAlertOf(gateway, 'warning', 'while away');
    proxy.restore();
    // The gateway sends its recent alerts on the new subscribe; those the page had are not shown twice.
    await eventually(async () => (await shown()) === 'first | second | while away', 'the missed alert, once');
    publishAlertOf(gateway, 'warning', 'after');
    await eventually(async () => (await shown()) === 'first | second | while away | after', 'the next alert');
    assert.deepEqual(pageErrors(), []);
  });

  it('closes the shared view once the last component using it unmounts', async () => {
    await waitFor(() => candleRoomClients(gateway) === 1, WAIT_MS, "the test's own subscriber to leave");
    let receivedBefore = messagesReceived(gateway);
    await page.getByTestId('toggle-a').click();
    await page.getByTestId('toggle-b').click();
    await waitFor(() => candleRoomClients(gateway) === 0, WAIT_MS, 'the page to unsubscribe');
    assert.equal(messagesReceived(gateway), receivedBefore + 1, 'one unsubscribe for the two components');
    assert.equal(await page.getByTestId('connection').getAttribute('data-state'), 'connected');

    receivedBefore = messagesReceived(gateway);
    await page.getByTestId('toggle-a').click();
    await eventually(async () => (await shownSeries(page, 'a')).loaded, 'the series to load again');
    assert.equal(messagesReceived(gateway), receivedBefore + 1, 'one subscribe again');
    assert.deepEqual((await shownSeries(page, 'a')).bars, await serverSeries(gateway));
    assert.deepEqual(pageErrors(), []);
  });
});
