/**
 * React hooks over the client library (`tickwire/react`): each hook reads one live view of a `TickwireClient`
 * through `useSyncExternalStore`, so a component re-renders on each change of what it shows and never tears.
 *
 * The client comes from a `<TickwireProvider client={client}>` above the component, or as the hook's last
 * argument. Components that ask for the same thing share one view (one gateway subscription); it is closed a
 * moment after the last of them unmounts (react-shared-views.ts). The views repair themselves across reconnects,
 * so a hook never shows a gap or a duplicate bar because the socket dropped.
 *
 * React is an optional peer dependency of the package: only this entry point imports it.
 */
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useMemo,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { SharedViews } from './react-shared-views.ts';
import type {
  AccountViewState,
  AlertsState,
  BookState,
  CandleSeriesState,
  CandlesRequest,
  ConnectionStatus,
  TickerState,
  TickwireClientApi,
  TradesState,
  View,
} from './types.ts';

const TickwireContext = createContext<TickwireClientApi | null>(null);

export interface TickwireProviderProps {
  readonly client: TickwireClientApi;
  readonly children?: ReactNode;
}

/** Gives `client` to the hooks of every component below it. The caller connects and closes the client. */
export function TickwireProvider(props: TickwireProviderProps): ReactNode {
  return createElement(TickwireContext.Provider, { value: props.client }, props.children);
}

/** The client given as an argument, else the nearest `TickwireProvider`'s. */
export function useTickwireClient(client?: TickwireClientApi): TickwireClientApi {
  const provided = useContext(TickwireContext);
  const chosen = client ?? provided;
  if (!chosen) {
    throw new Error(
      'tickwire/react: render inside <TickwireProvider client={…}> or pass the client to the hook',
    );
  }
  return chosen;
}

const sharedViewsByClient = new WeakMap<TickwireClientApi, SharedViews>();

function sharedViewsOf(client: TickwireClientApi): SharedViews {
  let shared = sharedViewsByClient.get(client);
  if (!shared) {
    shared = new SharedViews();
    sharedViewsByClient.set(client, shared);
  }
  return shared;
}

/**
 * The view of `client` named by `key` (opened by `open` when no component holds it) and its current state.
 * `open` must depend only on what `key` says: it is not part of the hook's dependencies.
 */
function useSharedView<V extends View<unknown>>(
  client: TickwireClientApi,
  key: string,
  open: (client: TickwireClientApi) => V,
): { readonly view: V; readonly state: ReturnType<V['get']> } {
  const shared = sharedViewsOf(client);
  const subscribe = useCallback(
    (onChange: () => void) => shared.use(key, () => open(client), onChange),
    [shared, client, key],
  );
  const snapshot = (): ReturnType<V['get']> =>
    shared.view(key, () => open(client)).get() as ReturnType<V['get']>;
  const state = useSyncExternalStore(subscribe, snapshot, snapshot);
  return { view: shared.view(key, () => open(client)), state };
}

/** One key per request: the channel first, then each field, in a fixed order. */
function keyOf(channel: string, ...fields: readonly unknown[]): string {
  return JSON.stringify([channel, ...fields.map((field) => field ?? null)]);
}

export interface CandlesResult extends CandleSeriesState {
  /** Loads up to `bars` older bars over `/api/candles` and prepends them; resolves to how many were added. */
  loadOlder(bars: number): Promise<number>;
}

/**
 * The live candle series of `symbol` and `interval`: `bars` oldest first, one per bar time, revisions applied in
 * place; `loaded` once the first `initial` has arrived.
 */
export function useCandles(request: CandlesRequest, client?: TickwireClientApi): CandlesResult {
  const chosen = useTickwireClient(client);
  const { symbol, interval, initialBars } = request;
  const { view, state } = useSharedView(chosen, keyOf('candles', symbol, interval, initialBars), (c) =>
    c.candles({ symbol, interval, ...(initialBars === undefined ? {} : { initialBars }) }),
  );
  return useMemo(() => ({ ...state, loadOlder: (bars: number) => view.loadOlder(bars) }), [state, view]);
}

/** A venue's ticker, or with no `venue` the composite one; `undefined` until the first arrives. */
export function useTicker(
  request: { readonly symbol: string; readonly venue?: string },
  client?: TickwireClientApi,
): TickerState | undefined {
  const chosen = useTickwireClient(client);
  const { symbol, venue } = request;
  return useSharedView(chosen, keyOf('ticker', symbol, venue), (c) =>
    c.ticker({ symbol, ...(venue === undefined ? {} : { venue }) }),
  ).state;
}

/** A venue's order book to `depth` levels; `undefined` until the first snapshot arrives. */
export function useBook(
  request: { readonly venue: string; readonly symbol: string; readonly depth?: number },
  client?: TickwireClientApi,
): BookState | undefined {
  const chosen = useTickwireClient(client);
  const { venue, symbol, depth } = request;
  return useSharedView(chosen, keyOf('book', venue, symbol, depth), (c) =>
    c.book({ venue, symbol, ...(depth === undefined ? {} : { depth }) }),
  ).state;
}

/** A venue's newest trades, newest last, at most `keep`. */
export function useTrades(
  request: { readonly venue: string; readonly symbol: string; readonly keep?: number },
  client?: TickwireClientApi,
): TradesState {
  const chosen = useTickwireClient(client);
  const { venue, symbol, keep } = request;
  return useSharedView(chosen, keyOf('trades', venue, symbol, keep), (c) =>
    c.trades({ venue, symbol, ...(keep === undefined ? {} : { keep }) }),
  ).state;
}

export interface AlertsRequest {
  readonly minSeverity?: 'info' | 'warning' | 'critical';
  readonly venue?: string;
  readonly symbol?: string;
  readonly keep?: number;
}

/** The gateway's alerts, oldest first, filtered as asked. */
export function useAlerts(request: AlertsRequest = {}, client?: TickwireClientApi): AlertsState {
  const chosen = useTickwireClient(client);
  const { minSeverity, venue, symbol, keep } = request;
  return useSharedView(chosen, keyOf('alerts', minSeverity, venue, symbol, keep), (c) =>
    c.alerts({
      ...(minSeverity === undefined ? {} : { minSeverity }),
      ...(venue === undefined ? {} : { venue }),
      ...(symbol === undefined ? {} : { symbol }),
      ...(keep === undefined ? {} : { keep }),
    }),
  ).state;
}

/** The client token's account: positions, orders, fills and figures, deltas applied. */
export function useAccount(client?: TickwireClientApi): AccountViewState {
  const chosen = useTickwireClient(client);
  return useSharedView(chosen, keyOf('account'), (c) => c.account()).state;
}

const lastStatusByClient = new WeakMap<TickwireClientApi, ConnectionStatus>();

/**
 * `client.status`, kept as the same object while nothing in it changed: `useSyncExternalStore` re-renders on
 * every new object it is given.
 */
function steadyStatus(client: TickwireClientApi): ConnectionStatus {
  const now = client.status;
  const last = lastStatusByClient.get(client);
  if (
    last &&
    last.state === now.state &&
    last.transport === now.transport &&
    last.attempt === now.attempt &&
    last.retryAt === now.retryAt &&
    last.error?.code === now.error?.code &&
    last.error?.message === now.error?.message
  ) {
    return last;
  }
  lastStatusByClient.set(client, now);
  return now;
}

/** The connection's state (connecting, connected, disconnected, error), transport and retry schedule. */
export function useConnectionStatus(client?: TickwireClientApi): ConnectionStatus {
  const chosen = useTickwireClient(client);
  const subscribe = useCallback((onChange: () => void) => chosen.on('state', onChange), [chosen]);
  const snapshot = (): ConnectionStatus => steadyStatus(chosen);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
