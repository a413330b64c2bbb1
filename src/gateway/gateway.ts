import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BOOK_SNAPSHOT_LEVELS } from '../bus/market-message.ts';
import type { Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import { ALERT_LOG_LEVEL, newAlert, type AlertInput } from '../domain/alert.ts';
import type { CandleUpdate } from '../domain/candle.ts';
import { DEFAULT_BOOK_DEPTH, type ProtocolRules } from '../protocol/client-messages.ts';
import type { SourcesView } from '../protocol/source-status.ts';
import type { CandleStore } from '../store/candle-store.ts';
import { silentLogger, type Logger } from '../telemetry/logger.ts';
import type { LogRing } from '../telemetry/log-ring.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { AccountHub } from '../account/contract.ts';
import { AccountChannels } from './account-channels.ts';
import { AlertFeed, type AlertChannelOptions } from './alert-feed.ts';
import { ApiRateLimiter, type SharedRateWindows } from './api-rate-limit.ts';
import { BusIntake } from './bus-intake.ts';
import { watchBusOutages } from './bus-outage.ts';
import { CandleRooms, type LocalCandleSource } from './candle-rooms.ts';
import type { Channel, ClientSink } from './channel.ts';
import { ClientConnections } from './client-connections.ts';
import { clientKey } from './client-address.ts';
import { ClientErrors } from './client-errors.ts';
import { ConnectionAdmission } from './connection-admission.ts';
import { registerGatewayMetrics } from './gateway-metrics.ts';
import { answerHealth } from './health.ts';
import { HistoryBudget } from './history-budget.ts';
import type { HistoryLoadOptions } from './history-loading.ts';
import type { HistoryRetryOptions } from './history-refill.ts';
import { httpRoutes } from './http-routes.ts';
import {
  MarketRooms,
  type CompositeTickerResolver,
  type LocalBookSource,
  type MarketRoomOptions,
} from './market-rooms.ts';
import { staticFiles } from './static-files.ts';
import { gatewayCounters, type RoomStats, type WsStats } from './stats.ts';
import { warmUpConnectionPath, type StartWarmUpTarget, type WarmUpOptions } from './warm-up.ts';

export type { WsStats } from './stats.ts';
export type { CompositeTickerResolver, LocalBookSource } from './market-rooms.ts';

export interface GatewayOptions {
  /** Uses port, host, symbols, venues, candles.closeGraceMs, storage.flushMs, failover.startupGraceMs, gateway.*. */
  readonly config: Config;
  readonly bus: Bus;
  readonly store: CandleStore;
  readonly logger: Logger;
  /** Reported under `aggregator` in /health/ws-stats when the aggregator runs in this process. */
  readonly aggregatorStats?: () => { oneMinuteCandlesCount: number } & Record<string, unknown>;
  /**
   * The time and every timer of the gateway and its parts: heartbeats, room throttles, history retries and
   * polls, rate-limit windows, the close wait (default: the system clock; tests move a ManualClock).
   */
  readonly clock?: Clock;
  /** The trades, ticker and book channels; every field has a default. */
  readonly market?: MarketChannelOptions;
  /** The `alerts` channel; every field has a default. */
  readonly alerts?: AlertChannelOptions;
  /**
   * The multi-source feed's status, read on each request to /health and /api/websocket/{health,sources,
   * active-source}. Every role gives it (a gateway process: from the ingest's snapshots); without it those
   * endpoints answer 503 and /health reports the gateway alone.
   */
  readonly sources?: () => SourcesView;
  /**
   * The composite ticker (a `ticker` subscribe that names no venue): one ticker resolved from every venue's latest
   * of the instrument. apps/ builds it from the feed's conflict resolution; without it, those rooms send only
   * `subscribed`.
   */
  readonly compositeTicker?: CompositeTickerResolver;
  /**
   * The ingest's books when it shares this process and an in-process bus (`tickwire all` without REDIS_URL): it
   * publishes only the books a room watches and one on request. Without it every book is read from the bus.
   */
  readonly localBooks?: LocalBookSource;
  /**
   * The composite's candle stream when it shares this process and an in-process bus (`tickwire all` without
   * REDIS_URL): told which series a candle room holds, it publishes only those. Without it every update is read.
   */
  readonly localCandles?: LocalCandleSource;
  /** Given every candle update taken from the bus, decoded, before any room sends it (a process's memory). */
  readonly onCandle?: (update: CandleUpdate) => void;
  /** The process's recent warnings and errors, served at GET /api/logs (without it that path is not found). */
  readonly recentLogs?: LogRing;
  /** Served at GET /metrics; the gateway registers its own metrics in it. */
  readonly metrics?: Metrics;
  /** How often a partial `initial` retries the history store (backoff, 1 s doubling to 15 s by default). */
  readonly historyRetry?: HistoryRetryOptions;
  /** How a partial `initial` sent while start-up history loads (judged from `sources`) polls the status. */
  readonly historyLoad?: HistoryLoadOptions;
  /**
   * The traders' accounts behind the private channels and endpoints (docs/PROTOCOL.md, "Account channels").
   * Tokens are checked against `config.accounts` and `config.auth`. Without it, account requests are answered
   * ACCOUNTS_UNAVAILABLE.
   */
  readonly accounts?: AccountChannelOptions;
  /**
   * The directory of the built dashboard (dist/dashboard), served at `/` with its assets on the same port
   * (docs/PROTOCOL.md, "HTTP"). apps/ finds the package's own; while it holds no build, `/` says to run
   * `npm run build`. Without it the gateway serves no page.
   */
  readonly dashboardDir?: string;
  /**
   * Where the `/api/` rate limit counts (src/bus/redis-rate-windows.ts when the process has Redis, so that
   * every gateway on it shares one limit per client); without it, this process's memory.
   */
  readonly apiRateWindows?: SharedRateWindows;
  /**
   * Connections made to a throwaway gateway before this one listens, so that the first clients (all of them
   * reconnecting at once after a restart) meet compiled code (src/gateway/warm-up.ts), with the throwaway
   * gateway's bus and store. None by default; `tickwire gateway` makes WARM_UP_CONNECTIONS.
   */
  readonly warmUp?: WarmUpOptions;
}

/**
 * The warm-up of a `tickwire` process: about the first batch of a reconnect burst. Measured: it halves what the
 * first connects of a cold process cost, without removing all of it (docs/PERFORMANCE.md, "Connect p99: the first
 * connects of a cold process").
 */
export const WARM_UP_CONNECTIONS = 200;

/** The account side of the gateway. */
export interface AccountChannelOptions {
  readonly hub: AccountHub;
  /** An account channel sends at most one message per this period (default 250 ms; 0: every change). */
  readonly throttleMs?: number;
  /** Fills in the `trades` snapshot (default 100). */
  readonly recentFills?: number;
}

/** Limits of the market channels (docs/PROTOCOL.md, "Market channels"). */
export interface MarketChannelOptions extends MarketRoomOptions {
  /** Deepest `book` a client may ask for (default and maximum: the levels the ingest side publishes, 50). */
  readonly maxBookDepth?: number;
  /** `depth` of a book subscribe that names none (default 10). */
  readonly defaultBookDepth?: number;
}

export interface Gateway {
  readonly port: number;
  /** ws://host:port (a wildcard listen host is given as the loopback address). */
  readonly url: string;
  stats(): WsStats;
  /**
   * Re-sends every open candle room's newest bars from the store (after the bus lost messages): the bar in
   * progress as an update, the one before it as its final state. Rooms drop what their clients already have.
   */
  resync(): Promise<void>;
  /** Closes every client with 1001, stops timers and the bus subscription, and stops listening. */
  close(): Promise<void>;
}

/** After the bus is back, wait for the store's next flush plus this before re-reading bars. */
const RESYNC_SETTLE_MS = 250;

/**
 * Runs the connection path's warm-up (src/gateway/warm-up.ts) for a gateway of `config`, and logs how long it took.
 * Never rejects: a warm-up that fails is logged, and the first clients then meet a cold process. startGateway runs
 * it before it listens when given `warmUp`; `tickwire demo` runs it while its simulator's thread starts.
 */
export async function warmUpGateway(config: Config, warmUp: WarmUpOptions, logger: Logger): Promise<void> {
  if (warmUp.connections <= 0) return;
  const start: StartWarmUpTarget = (warmConfig, warmBus, warmStore) =>
    startGateway({ config: warmConfig, bus: warmBus, store: warmStore, logger: silentLogger() });
  try {
    const ms = await warmUpConnectionPath(start, config, warmUp);
    logger.info(
      { connections: warmUp.connections, ms: Math.round(ms) },
      'gateway: connection path warmed up',
    );
  } catch (err) {
    logger.warn({ err }, 'gateway: the warm-up failed; the first clients meet a cold process');
  }
}

/**
 * Starts the HTTP + WebSocket gateway: candle rooms fed by the bus, `initial` history from the store, the market
 * and alerts channels, the limits of `config.gateway`, and /health, /health/ws-stats and the source status
 * endpoints. Resolves once listening (port 0 picks a free port).
 *
 * The gateway is composed of parts: the channels (candle rooms, market rooms, alerts), the client connections
 * that dispatch client messages to them, the HTTP routes, and the metrics. A new kind of subscription is one
 * more `Channel` in the list.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, bus, store, logger } = options;
  const limits = config.gateway;
  const clock = options.clock ?? systemClock;
  if (options.warmUp !== undefined) await warmUpGateway(config, options.warmUp, logger);
  const startedAt = clock.now();
  const marketOptions = options.market ?? {};
  const maxBookDepth = Math.min(marketOptions.maxBookDepth ?? BOOK_SNAPSHOT_LEVELS, BOOK_SNAPSHOT_LEVELS);
  const defaultBookDepth = Math.min(marketOptions.defaultBookDepth ?? DEFAULT_BOOK_DEPTH, maxBookDepth);
  const rules: ProtocolRules = {
    symbols: config.symbols,
    maxInitialBars: limits.maxInitialBars,
    defaultInitialBars: limits.defaultInitialBars,
    venues: config.venues,
    maxBookDepth,
    defaultBookDepth,
  };
  const { sources } = options;
  const errors = new ClientErrors();

  // The parts are built before any timer or bus subscription exists: a bad option throws here, leaving nothing.
  const hub = options.accounts?.hub;
  // The token checks (and the JWT library) are loaded only by a gateway that serves accounts.
  const auth =
    hub === undefined
      ? undefined
      : (await import('./auth.ts')).AccountAuth.fromConfig(config, () => clock.now());
  // Account alerts reach the connections of their account only: the alerts channel asks who each one is.
  const alerts = new AlertFeed(options.alerts, clock, (sink) => accounts.accountOf(sink as ClientSink));
  const accounts: AccountChannels = new AccountChannels({
    hub,
    auth,
    clock,
    logger,
    errors,
    throttleMs: options.accounts?.throttleMs ?? 250,
    recentFills: options.accounts?.recentFills ?? 100,
    joinAlerts: (client) => alerts.join(client, { minSeverity: 'info' }),
  });
  const candles = new CandleRooms({
    store,
    clock,
    logger,
    errors,
    throttleMs: limits.throttleMs,
    closeGraceMs: config.candles.closeGraceMs,
    historyStatus: {
      view: sources ?? (() => ({ instruments: [] })),
      // Without a feed to ask, nothing is known to be loading: the store's history is the whole of it.
      inStartup: (view) =>
        sources !== undefined &&
        (view?.inStartupGrace ?? clock.now() - startedAt < config.failover.startupGraceMs),
      onError: (err) => logger.warn({ err }, 'gateway: source status provider failed'),
    },
    ...(options.historyLoad ? { historyLoad: options.historyLoad } : {}),
    ...(options.historyRetry ? { historyRetry: options.historyRetry } : {}),
    ...(options.onCandle ? { onCandle: options.onCandle } : {}),
    ...(options.localCandles ? { localCandles: options.localCandles } : {}),
  });
  const market = new MarketRooms(marketOptions, clock, options.compositeTicker, options.localBooks);
  // The order of /health/ws-stats rooms, and of a disconnected client's leaving.
  const channels: readonly Channel[] = [candles, market, alerts, accounts];
  const apiRateLimit = new ApiRateLimiter({
    max: limits.apiRateLimit,
    windowMs: limits.apiRateLimitWindowMs,
    trustedProxies: limits.trustedProxies,
    now: () => clock.now(),
    ...(options.apiRateWindows
      ? {
          shared: options.apiRateWindows,
          onShared: (up: boolean, err?: unknown) => {
            if (up) logger.info('gateway: /api/ rate limit counted in Redis again, shared by every gateway');
            else logger.warn({ err }, 'gateway: /api/ rate limit counted in this process while Redis fails');
          },
        }
      : {}),
  });

  const intake = new BusIntake(bus, logger);
  const stopListening = channels.map((channel) => channel.listen(intake));
  /** An alert about this gateway itself: logged and sent to its own alerts subscribers (not over the bus). */
  const localAlert = (input: AlertInput): void => {
    const alert = newAlert(input, () => clock.now());
    logger[ALERT_LOG_LEVEL[alert.severity]]({ alert }, alert.message);
    alerts.onAlert(alert, clock.now());
  };
  const stopWatchingBus = watchBusOutages({
    bus,
    clock,
    alert: localAlert,
    resync: () => candles.resync(),
    resyncAfterMs: config.storage.flushMs + RESYNC_SETTLE_MS,
  });
  const admission = new ConnectionAdmission(limits);
  const historyBudget = new HistoryBudget(limits, clock);
  const connections = new ClientConnections({
    limits,
    rules,
    channels,
    admission,
    historyBudget,
    errors,
    clock,
    logger,
    accounts,
  });

  function stats(): WsStats {
    const rooms: RoomStats[] = [];
    let totalRooms = 0;
    for (const channel of channels) {
      rooms.push(...channel.roomStats());
      totalRooms += channel.roomCount;
    }
    let aggregator: WsStats['aggregator'];
    try {
      aggregator = options.aggregatorStats?.() ?? { oneMinuteCandlesCount: 0, inProcess: false };
    } catch (err) {
      logger.warn({ err }, 'gateway: aggregator stats failed');
      aggregator = { oneMinuteCandlesCount: 0, inProcess: true, error: 'unavailable' };
    }
    return {
      connections: connections.size,
      broadcaster: { totalRooms, totalClients: connections.subscribedCount, rooms },
      aggregator,
      gateway: {
        ...gatewayCounters(connections.counters, candles.counters, errors.byCode, intake.skipped),
        ...admission.counters,
        ...market.counters,
        ...alerts.counters,
      },
    };
  }

  /** The seed's fields, then the verdict on the feed (src/gateway/health.ts): 503 unless every instrument is live. */
  function health(): { status: number; body: unknown } {
    const uptimeMs = clock.now() - startedAt;
    const fields = {
      uptimeMs,
      connections: connections.size,
      rooms: candles.roomCount,
      symbols: config.symbols,
    };
    const feed = sources
      ? { sources, symbols: config.symbols, uptimeMs, startupGraceMs: config.failover.startupGraceMs }
      : null;
    return answerHealth(fields, feed, (err) =>
      logger.warn({ err }, 'gateway: source status provider failed'),
    );
  }

  if (options.metrics) {
    registerGatewayMetrics(options.metrics, {
      connections: () => connections.size,
      candleRooms: () => candles.roomCount,
      marketRooms: () => market.roomCount,
      connectionsOpened: () => connections.counters.connectionsOpened,
      updatesBroadcast: () => candles.counters.updatesBroadcast,
      updatesMerged: () => candles.counters.updatesMerged,
      droppedSlowClients: () => connections.counters.droppedSlowClients,
      sendQueueDropped: () => connections.counters.sendQueueDropped,
      messagesSent: () => connections.sent.messagesSent,
      bytesSent: () => connections.sent.bytesSent,
      messagesReceived: () => connections.counters.messagesReceived,
      badBusMessages: () => intake.skipped,
      busUp: () => bus.status().state === 'up',
    });
  }

  // A process's first gateway (the warm-up's, or the real one without it) runs all of this code for the first
  // time, and V8 compiles each function at its first call: the parts and the routes built in one turn held the
  // event loop 35–50 ms on a slow unit, while the process's feeds were already running. The routes come a turn later.
  await nextTurn();
  const server = createServer(
    httpRoutes({
      health,
      wsStats: stats,
      sources,
      metrics: options.metrics,
      history: {
        store,
        rules: {
          symbols: config.symbols,
          maxBars: limits.maxInitialBars,
          defaultBars: Math.max(1, limits.defaultInitialBars),
          closeGraceMs: config.candles.closeGraceMs,
        },
        isLoading: (symbol) => candles.isHistoryLoading(symbol),
        budget: (req, bars) => historyBudget.chargeAddress(clientKey(req, limits.trustedProxies), bars),
      },
      apiRateLimit,
      recentLogs: options.recentLogs,
      now: () => clock.now(),
      logger,
      market: {
        symbols: config.symbols,
        venues: config.venues,
        maxBookDepth,
        defaultBookDepth,
        current: (channel, venue, symbol, depth) => market.currentMessage(channel, venue, symbol, depth),
        recentTrades: (venue, symbol, limit) => market.recentTradesMessage(venue, symbol, limit),
        recentAlerts: () => alerts.recent(),
      },
      accounts: {
        hub,
        auth,
        addresses: new Map(config.accounts.flatMap((a) => (a.venue === 'dydx' ? [[a.id, a.address]] : []))),
      },
      ...(options.dashboardDir === undefined
        ? {}
        : { staticFiles: staticFiles({ root: options.dashboardDir, logger }) }),
    }),
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    connections.upgrade(req, socket, head),
  );

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      stopWatchingBus();
      for (const stop of stopListening) stop();
      for (const channel of channels) channel.stop();
      await connections.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })();
    return closing;
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // A port that is taken: stop the timers and bus subscriptions started above, so the process can end.
    await close();
    throw err;
  }
  server.on('error', (err) => logger.error({ err }, 'gateway: server error'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `ws://${urlHost(config.host)}:${port}`;
  logger.info({ url }, 'gateway: listening');

  return { port, url, stats, resync: () => candles.resync(), close };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
