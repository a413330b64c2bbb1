import type { Config } from '../config/config.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import type { Logger } from '../telemetry/logger.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { openBus, registerBusMetrics } from './backends.ts';
import type { VenueIngest } from './ingest.ts';
import { createPipeline, registerSourceMetrics } from './pipeline.ts';
import { raiseAlert, type SourceMonitor } from './source-monitor.ts';
import type { MismatchedHistory } from '../store/upstreams.ts';
import { openStorage } from './storage.ts';
import { checkSymbolsListed } from '../venues/registry.ts';

export interface RunningSystem {
  readonly gateway: Gateway;
  readonly ingests: readonly VenueIngest[];
  readonly monitor: SourceMonitor;
  /**
   * Resolves once every venue has loaded its history and streams (start-up goes on after startAll returns), or
   * start-up ended (stopped, or failed: logged).
   */
  readonly live: Promise<void>;
  close(): Promise<void>;
}

/**
 * `tickwire all`: venues → candles → storage and bus → gateway, in one process. History is kept in PostgreSQL
 * (DATABASE_URL) or the embedded database under DATA_DIR; with REDIS_URL the stream is also published on Redis
 * for extra gateway processes. Resolves as soon as storage is open and the gateway listens: the venues load their
 * history in the background (with progress in the log) and `live` tells when all of them stream.
 */
export async function startAll(
  config: Config,
  logger: Logger,
  deps: {
    readonly now?: () => number;
    /** What happens to stored bars of another upstream (store/upstreams.ts); default 'archive'. */
    readonly mismatchedHistory?: MismatchedHistory;
  } = {},
): Promise<RunningSystem> {
  checkSymbolsListed(config);
  const bus = await openBus(config, logger);
  const alert = (input: Parameters<typeof raiseAlert>[2]): void => raiseAlert(bus, logger, input, deps.now);
  let storage;
  try {
    storage = await openStorage(config, logger, {
      writes: true,
      alert,
      ...(deps.mismatchedHistory ? { mismatchedHistory: deps.mismatchedHistory } : {}),
    });
    // Before the gateway serves history: bars of another upstream must never be served as this one's.
    const opened = storage;
    await opened.adoptUpstreams(config.urls).catch(async (err: unknown) => {
      await opened.close();
      throw err;
    });
  } catch (err) {
    await bus.close();
    throw err;
  }
  const pipeline = createPipeline({
    config,
    bus,
    store: storage.store,
    logger,
    ...(deps.now ? { now: deps.now } : {}),
    ...(storage.tradeSink ? { tradeSink: storage.tradeSink } : {}),
  });
  const metrics = new Metrics({ role: 'all' });
  registerBusMetrics(metrics, bus);
  storage.registerMetrics(metrics);
  registerSourceMetrics(metrics, () => pipeline.sources());
  const gateway = await startGateway({
    config,
    bus,
    store: storage.store,
    logger,
    metrics,
    ...(deps.now ? { now: deps.now } : {}),
    sources: () => pipeline.sources(),
    activeSource: (symbol) => pipeline.monitor.activeSource(symbol),
    aggregatorStats: () => pipeline.aggregatorStats(),
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await gateway.close();
      await pipeline.close();
      await storage.close();
      await bus.close();
    })());
  const live = pipeline.start().then(
    () => {
      // A stop during start-up also ends pipeline.start(); only a real start is reported.
      if (closing === null)
        logger.info({ venues: pipeline.ingests.map((i) => i.venue) }, 'every venue is live');
    },
    (err: unknown) => logger.error({ err }, 'the venues could not start'),
  );
  return { gateway, ingests: pipeline.ingests, monitor: pipeline.monitor, live, close };
}
