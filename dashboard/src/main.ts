import type {
  AlertsState,
  BookState,
  CandleSeries,
  TickerState,
  TickwireClientApi,
  TickwireClientOptions,
  TradesState,
  View,
} from '../../src/client/types.ts';
import { AccountPanel } from './account-panel.ts';
import { AccountSession } from './account-session.ts';
import { AlertsPanel } from './alerts-panel.ts';
import { GatewayHttp } from './api.ts';
import { BookPanel } from './book-panel.ts';
import { CandleChart } from './chart.ts';
import { Controls, INTERVALS, type Selection } from './controls.ts';
import { el, panelFrame, setText } from './dom.ts';
import { PricePrecisions } from './format.ts';
import { SourcesPanel } from './sources-panel.ts';
import { activeVenueOf, venuesOf } from './sources-state.ts';
import { ConnectionStatusView } from './status.ts';
import { TickerPanel } from './ticker-panel.ts';
import { hashWithoutToken, readHash } from './token.ts';
import { TokenForm } from './token-form.ts';
import { TradesPanel } from './trades-panel.ts';

/**
 * The page: builds the panels and connects them to the gateway through the client library. Market data runs on
 * one client (the connection the status indicator shows); the account panels run on a second one while a token
 * is given (account-session.ts). Choosing another instrument, venue or interval closes the views of the old
 * choice and opens the new ones; "all venues" shows the composite ticker and the book and trades of the
 * instrument's active source, following it across failovers.
 */

/** Bars asked for on open; older ones come by scrolling back. */
const INITIAL_BARS = 300;
const BOOK_DEPTH = 20;
const TRADES_KEPT = 100;
const HEALTH_RETRY_MS = 5_000;

export type ClientFactory = (options: TickwireClientOptions) => TickwireClientApi;

/** Views open for the current choice; each is closed when the choice changes. */
interface MarketViews {
  candles?: { key: string; view: CandleSeries };
  ticker?: { key: string; view: View<TickerState | undefined> };
  book?: { key: string; view: View<BookState | undefined> };
  trades?: { key: string; view: View<TradesState> };
}

export function startDashboard(root: HTMLElement, createClient: ClientFactory): void {
  const origin = window.location.origin;
  const wsUrl = `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}/ws`;
  const connection = { url: wsUrl, httpUrl: origin };
  const http = new GatewayHttp(origin);
  const hash = readHash(window.location.hash);
  if (hash.token !== undefined) {
    // The token has been read; it should not stay in the address bar, the history or a shared screenshot.
    history.replaceState(
      null,
      '',
      window.location.pathname + window.location.search + hashWithoutToken(window.location.hash),
    );
  }

  const controls = new Controls({
    symbol: hash.symbol ?? '',
    venue: hash.venue ?? '',
    interval:
      hash.interval && (INTERVALS as readonly string[]).includes(hash.interval) ? hash.interval : '1m',
  });
  const status = new ConnectionStatusView(document.body);
  const tokenForm = new TokenForm();
  const chart = new CandleChart();
  // The last price in the tab's title: a trader keeps an eye on it from other tabs.
  // The instruments' price precision, from the prices the market panels show: the account rounds to it.
  const prices = new PricePrecisions();
  const ticker = new TickerPanel((last, symbol) => {
    document.title = `${last} ${symbol} · Tickwire`;
    prices.note(symbol, last);
  });
  const book = new BookPanel();
  const trades = new TradesPanel();
  const account = new AccountPanel(prices);
  const alerts = new AlertsPanel();
  const sources = new SourcesPanel(http);

  const chartTitle = el('span', { class: 'panel-origin' });
  const chartFrame = panelFrame('Chart', 'chart-panel', 'chart');
  chartFrame.header.append(chartTitle);
  chartFrame.body.append(chart.element);

  root.replaceChildren(
    el(
      'header',
      { class: 'topbar' },
      el('h1', { class: 'brand', text: 'Tickwire' }),
      status.indicator,
      controls.element,
      tokenForm.element,
    ),
    status.banner,
    el(
      'main',
      { class: 'grid' },
      chartFrame.section,
      ticker.element,
      book.element,
      trades.element,
      account.element,
      alerts.element,
      sources.element,
    ),
  );

  const client = createClient(connection);
  client.on('state', (state) => {
    const wasStale = document.body.dataset['stale'] === 'true';
    status.show(state);
    if (wasStale && state.state === 'connected') sources.pollSoon();
  });
  status.show(client.status);

  /**
   * The instrument's venues from the sources' status; a gateway process without a feed has none to report, and
   * then the venues `/health` calls connected stand in.
   */
  let healthVenues: readonly string[] = [];
  const venuesFor = (symbol: string): readonly string[] => {
    const listed = venuesOf(sources.rows, symbol);
    return listed.length > 0 ? listed : healthVenues;
  };

  const market: MarketViews = {};
  const bind = (selection: Selection): void => {
    if (!selection.symbol) return;
    setText(chartTitle, `${selection.symbol} · ${selection.interval} · all venues (composite)`);
    account.setSymbol(selection.symbol);

    const candlesKey = `${selection.symbol}|${selection.interval}`;
    if (market.candles?.key !== candlesKey) {
      const view = client.candles({
        symbol: selection.symbol,
        interval: selection.interval,
        initialBars: INITIAL_BARS,
      });
      chart.show(view, selection.symbol, selection.interval, INITIAL_BARS);
      market.candles?.view.close();
      market.candles = { key: candlesKey, view };
    }

    const tickerKey = `${selection.symbol}|${selection.venue}`;
    if (market.ticker?.key !== tickerKey) {
      const view = client.ticker(
        selection.venue ? { symbol: selection.symbol, venue: selection.venue } : { symbol: selection.symbol },
      );
      ticker.show(view);
      market.ticker?.view.close();
      market.ticker = { key: tickerKey, view };
    }

    // Book and trades are one venue's: the chosen one, or the instrument's active source.
    const active = activeVenueOf(sources.rows, selection.symbol);
    const venue = selection.venue || active || venuesFor(selection.symbol)[0];
    if (!venue) return;
    const note = selection.venue ? venue : `${venue} (active source)`;
    const venueKey = `${selection.symbol}|${venue}|${note}`;
    if (market.book?.key !== venueKey) {
      const view = client.book({ venue, symbol: selection.symbol, depth: BOOK_DEPTH });
      book.show(view, note);
      market.book?.view.close();
      market.book = { key: venueKey, view };
    }
    if (market.trades?.key !== venueKey) {
      const view = client.trades({ venue, symbol: selection.symbol, keep: TRADES_KEPT });
      trades.show(view, note);
      market.trades?.view.close();
      market.trades = { key: venueKey, view };
    }
  };

  controls.onChange((selection) => {
    controls.setVenues(venuesFor(selection.symbol));
    bind(controls.selection);
  });
  sources.onRows(() => {
    controls.setVenues(venuesFor(controls.selection.symbol));
    bind(controls.selection);
  });

  const marketAlerts: View<AlertsState> = client.alerts();
  alerts.follow('market', marketAlerts);
  sources.followAlerts(marketAlerts);

  const session = new AccountSession(createClient, connection, http, account, alerts);
  tokenForm.onApply((token) => session.use(token));

  void client.connect();
  sources.pollSoon();
  if (hash.token !== undefined) tokenForm.apply(hash.token);
  // The instruments come from /health (not rate limited); asked again until the gateway answers.
  const loadSymbols = (): void => {
    http
      .health()
      .then((health) => {
        if (!Array.isArray(health.symbols) || health.symbols.length === 0)
          throw new Error('no instruments configured yet');
        healthVenues = health.connectedVenues ?? [];
        controls.setSymbols(health.symbols);
        controls.setVenues(venuesFor(controls.selection.symbol));
        bind(controls.selection);
      })
      .catch((error: unknown) => {
        setText(
          chartTitle,
          `cannot read /health (${error instanceof Error ? error.message : String(error)}); retrying`,
        );
        setTimeout(loadSymbols, HEALTH_RETRY_MS);
      });
  };
  loadSymbols();
}
