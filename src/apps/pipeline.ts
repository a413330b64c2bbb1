import type { Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { AlertInput } from '../domain/alert.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Trade } from '../domain/trade.ts';
import type { SourceStatusView, SourcesView } from '../protocol/source-status.ts';
import type { CandleStore } from '../store/candle-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { checkSymbolsListed, createVenueAdapter } from '../venues/registry.ts';
import { CompositeCandles } from './composite-candles.ts';
import { VenueIngest, type IngestStats } from './ingest.ts';
import { raiseAlert, SourceMonitor } from './source-monitor.ts';

export interface PipelineOptions {
  readonly config: Config;
  /** Where candle updates, trades, tickers, books, alerts and the source status go. */
  readonly bus: Bus;
  /** Where the composite bars are written (start-up history included). */
  readonly store: CandleStore;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Given every new trade when trades are stored. */
  readonly tradeSink?: (trades: readonly Trade[]) => void;
}

export interface Pipeline {
  readonly ingests: readonly VenueIngest[];
  readonly monitor: SourceMonitor;
  /**
   * Opens every venue, loads history (the gap since the last run included) and goes live; a venue's history is
   * marked loaded in the source status once it is in the database (CandleStore.flushed).
   */
  start(): Promise<void>;
  /** The multi-source feed's status (the /api/websocket endpoints). */
  sources(): SourcesView;
  /** The ingest side of /health. */
  aggregatorStats(): { oneMinuteCandlesCount: number; venues: IngestStats[] };
  /** Raises an alert: logged, and published for the gateways' alerts channel. */
  alert(input: AlertInput): void;
  close(): Promise<void>;
}

/**
 * The ingest side of Tickwire: venues → feed → candles → store + bus. Every venue builds the bars of the symbols
 * it lists; the composite stores and publishes the active source's (failover by the source monitor). Used by
 * `tickwire all` (with the gateway in the same process) and `tickwire ingest` (gateways elsewhere, over Redis).
 * Throws TickwireError CONFIG_INVALID when no configured venue lists a configured symbol.
 */
export function createPipeline(options: PipelineOptions): Pipeline {
  const { config, bus, store, logger, now } = options;
  checkSymbolsListed(config);
  const adapters = config.venues.map((venue) => createVenueAdapter(venue, config.urls[venue], logger, now));
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
    ...(now ? { now } : {}),
  });
  const alert = (input: AlertInput): void => raiseAlert(bus, logger, input, now);
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
        ...(now ? { now } : {}),
        observer: monitor.observer(adapter.venue),
        alert,
        ...(options.tradeSink ? { tradeSink: options.tradeSink } : {}),
      }),
    ];
  });
  for (const ingest of ingests) ingestOf.set(ingest.venue, ingest);

  let closing: Promise<void> | null = null;
  let endWaits!: () => void;
  const closed = new Promise<false>((resolve) => (endWaits = () => resolve(false)));
  /** True once every write so far is in the database; false when it cannot be or the pipeline closes first. */
  const stored = (venue: VenueId): Promise<boolean> =>
    Promise.race([
      store.flushed().then(
        () => true,
        (err: unknown) => {
          // At shutdown the store says itself what it could not write.
          if (closing === null) {
            logger.error(
              { err, venue },
              `${venue}: start-up history could not all be stored; it is served as partial until a restart`,
            );
          }
          return false;
        },
      ),
      closed,
    ]);
  return {
    ingests,
    monitor,
    async start() {
      monitor.start();
      await Promise.all(
        ingests.map(async (i) => {
          await i.start();
          // Loaded means readable from the database: a gateway process reads history there and refills its
          // clients as soon as the status (sent over the bus) says so. During an outage this waits for the
          // database to take the writes.
          if ((await stored(i.venue)) && closing === null) monitor.historyLoaded(i.venue);
        }),
      );
    },
    sources: () => monitor.view(),
    aggregatorStats() {
      const venues = ingests.map((i) => i.stats());
      return { oneMinuteCandlesCount: venues.reduce((n, v) => n + v.oneMinuteCandlesCount, 0), venues };
    },
    alert,
    close: () =>
      (closing ??= (async () => {
        endWaits();
        monitor.close();
        await Promise.all(ingests.map((i) => i.close()));
      })()),
  };
}

/**
 * Per source (venue and symbol), the feed's status as Prometheus metrics, read from `view` at scrape time; `view`
 * gives undefined while no feed runs here (a standby ingest), and the metrics are then empty.
 */
export function registerSourceMetrics(metrics: Metrics, view: () => SourcesView | undefined): void {
  const per = (read: (s: SourceStatusView, active: boolean) => number | null) => () => {
    const out: [Record<string, string>, number][] = [];
    for (const instrument of view()?.instruments ?? []) {
      for (const s of instrument.sources) {
        const value = read(s, instrument.activeSource === s.exchange);
        if (value !== null) out.push([{ venue: s.exchange, symbol: instrument.symbol }, value]);
      }
    }
    return out;
  };
  const labels = ['venue', 'symbol'];
  metrics.labelledGauge(
    'tickwire_source_connected',
    '1 while the venue streams the symbol',
    labels,
    per((s) => (s.connected ? 1 : 0)),
  );
  metrics.labelledGauge(
    'tickwire_source_healthy',
    '1 while the source passes the health checks',
    labels,
    per((s) => (s.healthy ? 1 : 0)),
  );
  metrics.labelledGauge(
    'tickwire_source_active',
    '1 for the source the composite stream follows',
    labels,
    per((_, active) => (active ? 1 : 0)),
  );
  metrics.labelledGauge(
    'tickwire_source_latency_ms',
    'Measured latency of the source, ms',
    labels,
    per((s) => s.latency),
  );
  metrics.labelledGauge(
    'tickwire_source_messages_total',
    'Messages received from the source',
    labels,
    per((s) => s.messagesReceived),
  );
  metrics.labelledGauge(
    'tickwire_source_errors_total',
    'Errors counted against the source',
    labels,
    per((s) => s.errors),
  );
}
