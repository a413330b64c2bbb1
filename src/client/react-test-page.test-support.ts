/**
 * The page react.integration.test.ts opens in Chromium: a React app, in StrictMode, that shows one candle series
 * through `useCandles` in two components (which share one view), a venue's ticker, book and trades through
 * `useTicker`, `useBook` and `useTrades`, the alerts through `useAlerts`, each component shown and hidden by a
 * button, and the connection through `useConnectionStatus`. The gateway's address comes in the query (`?ws=ws://host:port/ws`). Each component writes
 * what it shows into the DOM for the test to read: the bars as JSON, and data-* attributes.
 */
import { createElement, StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { TickwireClient } from './index.ts';
import {
  TickwireProvider,
  useAlerts,
  useBook,
  useCandles,
  useConnectionStatus,
  useTicker,
  useTrades,
} from './react.ts';

const params = new URLSearchParams(location.search);
const url = params.get('ws');
if (!url) throw new Error('the page needs ?ws=ws://host:port/ws');

// Quick retries: the test cuts the gateway off and waits for the page to come back. Polling is off so that the
// page comes back over the socket, which is what the test looks at; and the test counts the messages the page
// sends, so the app-level ping (which only finds dead paths the test does not make) stays out of its way.
const client = new TickwireClient({
  url,
  reconnect: { minDelayMs: 50, maxDelayMs: 400 },
  polling: false,
  pingIntervalMs: 3_600_000,
});
void client.connect();

function Series(props: { readonly name: string }) {
  const candles = useCandles({ symbol: 'BTC/USDT', interval: '1m', initialBars: 100 });
  return createElement(
    'pre',
    {
      'data-testid': `series-${props.name}`,
      'data-loaded': String(candles.loaded),
      'data-live': String(candles.live),
      'data-bars': String(candles.bars.length),
    },
    JSON.stringify(candles.bars),
  );
}

/** One venue's ticker, book and trades. */
function Market() {
  const ticker = useTicker({ symbol: 'BTC/USDT', venue: 'binance' });
  const book = useBook({ venue: 'binance', symbol: 'BTC/USDT', depth: 5 });
  const trades = useTrades({ venue: 'binance', symbol: 'BTC/USDT', keep: 20 });
  return createElement('section', {
    'data-testid': 'series-market',
    'data-ticker-last': String(ticker?.last ?? ''),
    'data-best-bid': String(book?.bids[0]?.[0] ?? ''),
    'data-bid-levels': String(book?.bids.length ?? 0),
    'data-trades': trades.trades.map((trade) => trade.id).join(' '),
  });
}

/** The gateway's alerts from `warning` up. */
function Alerts() {
  const { alerts } = useAlerts({ minSeverity: 'warning' });
  return createElement('section', {
    'data-testid': 'series-alerts',
    'data-messages': alerts.map((alert) => alert.message).join(' | '),
  });
}

function ConnectionBadge() {
  const status = useConnectionStatus();
  return createElement('output', { 'data-testid': 'connection', 'data-state': status.state }, status.state);
}

const PARTS: Record<string, () => ReturnType<typeof createElement>> = {
  a: () => createElement(Series, { name: 'a' }),
  b: () => createElement(Series, { name: 'b' }),
  market: () => createElement(Market),
  alerts: () => createElement(Alerts),
};

/** A component of PARTS and the button that mounts and unmounts it. */
function Toggled(props: { readonly name: string }) {
  // Mounted on the test's click, once the socket is open: StrictMode's unmount-and-mount then happens on a live
  // connection, where a view closed and opened again would send an unsubscribe and a subscribe.
  const [shown, setShown] = useState(false);
  return createElement(
    'section',
    null,
    createElement('button', {
      'data-testid': `toggle-${props.name}`,
      onClick: () => setShown((now) => !now),
    }),
    shown ? PARTS[props.name]?.() : null,
  );
}

function App() {
  return createElement(
    'main',
    null,
    createElement(ConnectionBadge),
    ...Object.keys(PARTS).map((name) => createElement(Toggled, { key: name, name })),
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('the page needs <div id="root">');
createRoot(root).render(
  createElement(StrictMode, null, createElement(TickwireProvider, { client }, createElement(App))),
);
