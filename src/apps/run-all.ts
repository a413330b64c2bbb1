import type { Config } from '../config/config.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { LogRing } from '../telemetry/log-ring.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { RedisRateWindows } from '../bus/redis-rate-windows.ts';
import { openApiRateWindows, openBus, registerBusMetrics } from './backends.ts';
import { raiseAlert } from '../ingest/raise-alert.ts';
import { registerSourceMetrics } from '../ingest/source-metrics.ts';
import { registerVenueMetrics } from '../ingest/venue-metrics.ts';
import type { SourceMonitor } from '../ingest/source-monitor.ts';
import { localBookSource, type VenueIngest } from '../ingest/venue-ingest.ts';
import { localCandleSource } from '../ingest/composite-candles.ts';
import { createPipeline } from './pipeline.ts';
import { compositeTickerResolver } from './composite-ticker.ts';
import { connectionWarmUp } from './connection-warm-up.ts';
import type { MismatchedHistory } from '../store/upstreams.ts';
import { startStorage, type openDatabase } from './storage.ts';
import { startAccounts } from './accounts.ts';
import { packageDashboardDir } from './dashboard-dir.ts';
import { checkSymbolsListed } from '../venues/registry.ts';
import { allSourcesLive } from '../gateway/health.ts';

/** How often the feed's status is read, once start-up has ended, until every venue is live. */
const READY_POLL_MS = 250;

export interface RunningSystem {
  readonly gateway: Gateway;
  readonly ingests: readonly VenueIngest[];
  readonly monitor: SourceMonitor;
  /**
   * Resolves once every venue has loaded its history and streams (start-up goes on after startAll returns), or
   * start-up ended (stopped, or failed: logged).
   */
  readonly live: Promise<void>;
  /**
   * Resolves the first time every venue is live (`allSourcesLive`: every source of every instrument healthy and
   * its history loaded), the moment `ready: all venues live` is printed; never resolves when that never happens.
   */
  readonly ready: Promise<void>;
  /**
   * Rejects, after the system has closed, when the history database cannot be opened (a lock held by another
   * process, an unreachable DATABASE_URL); never resolves otherwise. The process should stop with that error.
   */
  readonly failed: Promise<never>;
  close(): Promise<void>;
}

/**
 * `tickwire all`: venues → candles → storage and bus → gateway, in one process. History is kept in PostgreSQL
 * (DATABASE_URL) or the embedded database under DATA_DIR; with REDIS_URL the stream is also published on Redis
 * for extra gateway processes. Resolves as soon as the gateway listens: the database opens (creating a first
 * embedded one takes seconds) while the venues connect and load their history. Bars are published as soon as
 * they are built and kept in memory; their writes queue in the write buffer until the database is there, and
 * history reads meanwhile answer from memory (partial: history counts as loading until it is stored); `live`
 * tells when every venue streams.
 */
export async function startAll(
  config: Config,
  logger: Logger,
  deps: {
    /** Time and timers of the whole system (a test's shifted clock); default the system clock. */
    readonly clock?: Clock;
    /** What happens to stored bars of another upstream (store/upstreams.ts); default 'archive'. */
    readonly mismatchedHistory?: MismatchedHistory;
    /** Opens the history database; tests hold it back to see the system work before it is open. */
    readonly openDatabase?: typeof openDatabase;
    /** The process's recent warnings and errors (the logger writes them), served at GET /api/logs. */
    readonly recentLogs?: LogRing;
    /** The built dashboard served at `/`; default this package's dist/dashboard. */
    readonly dashboardDir?: string;
    /** False when the caller ran the gateway's warm-up itself (warmUpGateway); by default the gateway runs it. */
    readonly warmUp?: boolean;
  } = {},
): Promise<RunningSystem> {
  checkSymbolsListed(config);
  const clock = deps.clock ?? systemClock;
  const bus = await openBus(config, logger);
  const alert = (input: Parameters<typeof raiseAlert>[2]): void => raiseAlert(bus, logger, input, clock.now);
  const storage = startStorage(config, logger, {
    upstreams: config.urls,
    alert,
    ...(deps.mismatchedHistory ? { mismatchedHistory: deps.mismatchedHistory } : {}),
    ...(deps.openDatabase ? { openDatabase: deps.openDatabase } : {}),
  });
  const store = storage.store;
  const closeStorage = (): Promise<void> => storage.close();
  const pipeline = createPipeline({
    config,
    bus,
    store,
    logger,
    clock,
    ...(config.storage.storeTrades ? { tradeSink: (trades) => storage.tradeSink?.(trades) } : {}),
    historyRoom: () => storage.historyRoom(),
  });
  const metrics = new Metrics({ role: 'all' });
  registerBusMetrics(metrics, bus);
  storage.registerMetrics(metrics);
  registerSourceMetrics(metrics, () => pipeline.sources(), clock.now);
  const venueMetrics = registerVenueMetrics(metrics, {
    venues: () => pipeline.aggregatorStats().venues,
    now: clock.now,
  });
  pipeline.monitor.onSwitch(venueMetrics.countFailover);
  const accounts = startAccounts(config, logger, {
    bus,
    clock,
    store: () => storage.accountStore(),
  });
  let apiRateWindows: RedisRateWindows | undefined;
  let gateway: Gateway;
  try {
    apiRateWindows = await openApiRateWindows(config, logger);
    gateway = await startGateway({
      config,
      bus,
      store,
      logger,
      metrics,
      clock,
      sources: () => pipeline.sources(),
      compositeTicker: compositeTickerResolver(config, (symbol) => pipeline.monitor.activeSource(symbol)),
      // Without Redis this gateway is the only reader of books and candles: only what a room watches is published.
      ...(config.redis.url === undefined
        ? { localBooks: localBookSource(pipeline.ingests), localCandles: localCandleSource(pipeline.candles) }
        : {}),
      aggregatorStats: () => pipeline.aggregatorStats(),
      ...(deps.recentLogs ? { recentLogs: deps.recentLogs } : {}),
      ...(accounts ? { accounts: { hub: accounts.hub } } : {}),
      dashboardDir: deps.dashboardDir ?? packageDashboardDir(),
      ...(apiRateWindows ? { apiRateWindows } : {}),
      ...(deps.warmUp === false ? {} : { warmUp: connectionWarmUp() }),
    });
  } catch (err) {
    await apiRateWindows?.close();
    await accounts?.close();
    await closeStorage();
    await bus.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  let readyPoll: ReturnType<Clock['setInterval']> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      clock.clearTimer(readyPoll);
      await gateway.close();
      await apiRateWindows?.close();
      await accounts?.close();
      await pipeline.close();
      await closeStorage();
      await bus.close();
    })());
  const failed = storage.opened.then(
    () => {
      logger.info('history store ready');
      return new Promise<never>(() => undefined);
    },
    async (err: unknown) => {
      logger.fatal({ err }, 'the history store could not be opened; stopping');
      await close();
      throw err;
    },
  );
  // The caller may only wait for a signal; the failure is logged above either way.
  failed.catch(() => undefined);
  const live = pipeline.start().then(
    () => {
      // A stop during start-up also ends pipeline.start(); only a real start is reported.
      if (closing === null)
        logger.info({ venues: pipeline.ingests.map((i) => i.venue) }, 'every venue is live');
    },
    (err: unknown) => logger.error({ err }, 'the venues could not start'),
  );
  // Start-up has ended for every venue once `live` resolves; a source may still be reconnecting or catching up
  // then, so readiness is judged from the status itself, as /health judges it.
  const ready = live.then(
    () =>
      new Promise<void>((resolve) => {
        const check = (): boolean => {
          if (closing !== null || !allSourcesLive(pipeline.sources(), config.symbols)) return false;
          clock.clearTimer(readyPoll);
          resolve();
          return true;
        };
        if (!check() && closing === null) readyPoll = clock.setInterval(check, READY_POLL_MS);
      }),
  );
  return { gateway, ingests: pipeline.ingests, monitor: pipeline.monitor, live, ready, failed, close };
}
