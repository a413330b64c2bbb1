import { createRedisBus } from '../bus/redis-bus.ts';
import type { RedisRateWindows } from '../bus/redis-rate-windows.ts';
import { decodeSourcesView, SOURCES_CHANNEL, type SourcesSnapshot } from '../bus/sources-message.ts';
import type { Config } from '../config/config.ts';
import { DEFAULT_RECENT_ALERTS } from '../gateway/alert-feed.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import type { SourcesView } from '../protocol/source-status.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { LogRing } from '../telemetry/log-ring.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { openApiRateWindows, registerBusMetrics, requireScaleOutServices } from './backends.ts';
import { compositeTickerResolver } from './composite-ticker.ts';
import { connectionWarmUp } from './connection-warm-up.ts';
import { openStorage } from './storage.ts';
import { packageDashboardDir } from './dashboard-dir.ts';
import { checkSymbolsListed } from '../venues/registry.ts';

/** The source status counts as gone when the ingest has not published it for this long. */
const SOURCES_SILENT_AFTER_MS = 5000;

export interface GatewayProcess {
  readonly gateway: Gateway;
  close(): Promise<void>;
}

/**
 * `tickwire gateway`: Redis bus + database → clients. Holds no state that matters: the recent window of every
 * series is mirrored from the bus into memory (older bars come from the database, and each read of them extends
 * memory back), and the source status from the active ingest's snapshots. Run as many as needed behind a load
 * balancer.
 */
export async function startGatewayProcess(
  config: Config,
  logger: Logger,
  deps: { readonly clock?: Clock; readonly recentLogs?: LogRing } = {},
): Promise<GatewayProcess> {
  checkSymbolsListed(config);
  const { redisUrl, databaseUrl } = requireScaleOutServices(config, 'gateway');
  if (config.accounts.length > 0)
    logger.warn('accounts are followed by `tickwire all` only (docs/ACCOUNTS.md); this gateway serves none');
  // The alert log's last entries fill the alerts channel's memory, as if this gateway had run all along.
  const bus = await createRedisBus({
    url: redisUrl,
    prefix: config.redis.prefix,
    logger,
    durableBacklog: DEFAULT_RECENT_ALERTS,
  });
  let storage;
  try {
    storage = await openStorage(config, logger, { databaseUrl, writes: false });
  } catch (err) {
    await bus.close();
    throw err;
  }
  let latest: SourcesSnapshot | null = null;
  const stopSources = bus.subscribe(SOURCES_CHANNEL, (message) => {
    try {
      latest = decodeSourcesView(message);
    } catch (err) {
      logger.warn({ err }, 'gateway: undecodable source status skipped');
    }
  });
  const metrics = new Metrics({ role: 'gateway' });
  registerBusMetrics(metrics, bus);
  storage.registerMetrics(metrics);
  const clock = deps.clock ?? systemClock;
  const noSources: SourcesView = { instruments: [] };
  // An ingest publishes its status every second; a silent one (killed, a takeover under way) feeds nothing, so
  // after a few missed snapshots every source is reported down rather than as last seen.
  const sources = (): SourcesView => {
    if (latest === null) return noSources;
    if (clock.now() - latest.at <= SOURCES_SILENT_AFTER_MS) return latest.view;
    return silentIngestView(latest.view);
  };
  let apiRateWindows: RedisRateWindows | undefined;
  let gateway: Gateway;
  try {
    apiRateWindows = await openApiRateWindows(config, logger);
    gateway = await startGateway({
      config,
      bus,
      store: storage.store,
      logger,
      metrics,
      sources,
      compositeTicker: compositeTickerResolver(
        config,
        (symbol) => sources().instruments.find((i) => i.symbol === symbol)?.activeSource ?? undefined,
      ),
      // The gateway decodes each bar once and gives it to memory before any room sends it.
      onCandle: (update) => storage.memory.mirror(update),
      clock,
      ...(deps.recentLogs ? { recentLogs: deps.recentLogs } : {}),
      dashboardDir: packageDashboardDir(),
      ...(apiRateWindows ? { apiRateWindows } : {}),
      warmUp: connectionWarmUp(),
    });
  } catch (err) {
    await apiRateWindows?.close();
    stopSources();
    await storage.close();
    await bus.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    gateway,
    close: () =>
      (closing ??= (async () => {
        await gateway.close();
        await apiRateWindows?.close();
        stopSources();
        await storage.close();
        await bus.close();
      })()),
  };
}

/** The last view with every source marked down: no ingest is feeding them now. */
function silentIngestView(view: SourcesView): SourcesView {
  return {
    inStartupGrace: false,
    instruments: view.instruments.map((i) => ({
      ...i,
      sources: i.sources.map((s) => ({ ...s, connected: false, healthy: false, reason: 'no-ingest' })),
    })),
  };
}
