import { MemoryBus } from '../bus/memory-bus.ts';
import type { Config } from '../config/config.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createVenueAdapter } from '../venues/registry.ts';
import type { AlertInput } from '../domain/alert.ts';
import { CompositeCandles } from './composite-candles.ts';
import { VenueIngest } from './ingest.ts';
import { raiseAlert, SourceMonitor } from './source-monitor.ts';

export interface RunningSystem {
  readonly gateway: Gateway;
  readonly ingests: readonly VenueIngest[];
  readonly monitor: SourceMonitor;
  close(): Promise<void>;
}

/**
 * `tickwire all`: venues → candles → in-memory store and bus → gateway, in one process.
 * The gateway listens before history has loaded, so health checks answer during start-up.
 */
export async function startAll(
  config: Config,
  logger: Logger,
  deps: { readonly now?: () => number } = {},
): Promise<RunningSystem> {
  const bus = new MemoryBus();
  const store = new MemoryCandleStore(config.candles.memoryBars);
  const adapters = config.venues.map((venue) =>
    createVenueAdapter(venue, config.urls[venue], logger, deps.now),
  );
  const venuesBySymbol = new Map(
    config.symbols.map((symbol) => [
      symbol,
      adapters.filter((a) => a.supportsSymbol?.(symbol) ?? true).map((a) => a.venue),
    ]),
  );
  const ingestOf = new Map<VenueId, VenueIngest>();
  const monitor = new SourceMonitor({
    config,
    bus,
    logger,
    venuesBySymbol,
    connectionOf: (venue) => ingestOf.get(venue)?.connectionStatus() ?? null,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const alert = (input: AlertInput): void => raiseAlert(bus, logger, input, deps.now);
  for (const [symbol, venues] of venuesBySymbol) {
    if (venues.length === 0)
      logger.warn({ symbol, venues: config.venues }, 'no configured venue lists this symbol');
  }
  // Every venue builds the bars of the symbols it lists; the composite serves the active source's.
  const candles = new CompositeCandles({
    store,
    bus,
    logger,
    activeOf: (symbol) => monitor.activeSource(symbol),
  });
  monitor.onSwitch((change) => {
    const to = ingestOf.get(change.to);
    if (to) void candles.takeOver(change.symbol, change.to, to, change.fromLastAlive);
  });
  const ingests = adapters.flatMap((adapter) => {
    const symbols = config.symbols.filter((s) => adapter.supportsSymbol?.(s) ?? true);
    if (symbols.length === 0) return [];
    return [
      new VenueIngest({
        adapter,
        symbols,
        candles,
        bus,
        logger,
        closeGraceMs: config.candles.closeGraceMs,
        historyBars: config.candles.historyBars,
        ...(deps.now ? { now: deps.now } : {}),
        observer: monitor.observer(adapter.venue),
        alert,
      }),
    ];
  });
  for (const ingest of ingests) ingestOf.set(ingest.venue, ingest);
  const gateway = await startGateway({
    config,
    bus,
    store,
    logger,
    ...(deps.now ? { now: deps.now } : {}),
    sources: () => monitor.view(),
    aggregatorStats: () => {
      const venues = ingests.map((i) => i.stats());
      return { oneMinuteCandlesCount: venues.reduce((n, v) => n + v.oneMinuteCandlesCount, 0), venues };
    },
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      monitor.close();
      await gateway.close();
      await Promise.all(ingests.map((i) => i.close()));
      await store.close();
      await bus.close();
    })());
  monitor.start();
  try {
    await Promise.all(ingests.map((i) => i.start()));
  } catch (err) {
    await close();
    throw err;
  }
  return { gateway, ingests, monitor, close };
}
