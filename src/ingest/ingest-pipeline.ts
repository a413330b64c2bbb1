import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { AlertInput } from '../domain/alert.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Trade } from '../domain/trade.ts';
import type { SourcesView } from '../protocol/source-status.ts';
import type { CandleStore } from '../store/candle-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { VenueAdapter } from '../venues/venue.ts';
import { CompositeCandles } from './composite-candles.ts';
import { raiseAlert } from './raise-alert.ts';
import { SourceMonitor } from './source-monitor.ts';
import { sharedIntervals } from './shared-intervals.ts';
import { VenueIngest, type IngestStats } from './venue-ingest.ts';

export interface IngestPipelineOptions {
  /**
   * The venues to ingest, opened by the caller (apps/ picks them); a venue that lists no symbol is left out. The
   * pipeline's close() closes their REST clients (VenueRest.close).
   */
  readonly adapters: readonly VenueAdapter[];
  /** Symbols, candle settings and failover settings of the configuration. */
  readonly config: Pick<Config, 'symbols' | 'candles' | 'failover'>;
  /** Where candle updates, trades, tickers, books, alerts and the source status go. */
  readonly bus: Bus;
  /** Where the composite bars are written (start-up history included). */
  readonly store: CandleStore;
  readonly logger: Logger;
  /** Time and timers of every part. Default the system clock. */
  readonly clock?: Clock;
  /** Given every new trade when trades are stored. */
  readonly tradeSink?: (trades: readonly Trade[]) => void;
  /** Resolves once the store has room for more background history (HistoryLoaderOptions.room). */
  readonly historyRoom?: () => Promise<void>;
  /** Resolves when an instrument's start-up history may be applied (VenueIngestOptions.historyTurn). */
  readonly historyTurn?: (owner: object) => Promise<void>;
}

/**
 * Time between the starts of two venues: spreads their start-up bursts over about half a second for four venues,
 * where the first live bar comes from the first venue anyway.
 */
export const VENUE_START_SPACING_MS = 150;

/** One venue's ingest figures as the /health reports show them. */
export type IngestReport = { readonly venue: string; readonly connected: boolean } & IngestStats;

export interface IngestPipeline {
  readonly ingests: readonly VenueIngest[];
  readonly monitor: SourceMonitor;
  /** The composite candle stream every venue writes to (stored, and published on the bus). */
  readonly candles: CompositeCandles;
  /**
   * Opens every venue, loads history (the gap since the last run included) and goes live; a venue's history is
   * marked loaded in the source status once it is in the database (CandleStore.flushed).
   */
  start(): Promise<void>;
  /** The multi-source feed's status (the /api/websocket endpoints). */
  sources(): SourcesView;
  /** The ingest side of /health. */
  aggregatorStats(): { oneMinuteCandlesCount: number; venues: IngestReport[] };
  /** Raises an alert: logged, and published for the gateways' alerts channel. */
  alert(input: AlertInput): void;
  /** Stops every venue: its REST requests under way (their retries too), stream, timers; flushes what it holds. */
  close(): Promise<void>;
}

/**
 * The ingest side of Tickwire: venues → feed → candles → store + bus. Every venue builds the bars of the symbols
 * it lists; the composite stores and publishes the active source's (failover by the source monitor). Used by
 * `tickwire all` (with the gateway in the same process) and `tickwire ingest` (gateways elsewhere, over Redis).
 */
export function createIngestPipeline(options: IngestPipelineOptions): IngestPipeline {
  const { adapters, config, bus, store, logger } = options;
  // Every venue's flush and bar-close intervals (and the monitor's) tick together: one wake-up per period.
  const clock = sharedIntervals(options.clock ?? systemClock);
  const listed = (adapter: VenueAdapter, symbol: string): boolean => adapter.supportsSymbol?.(symbol) ?? true;
  const venuesBySymbol = new Map(
    config.symbols.map((symbol) => [symbol, adapters.filter((a) => listed(a, symbol)).map((a) => a.venue)]),
  );
  const ingestOf = new Map<VenueId, VenueIngest>();
  const monitor = new SourceMonitor({
    failover: config.failover,
    bus,
    logger,
    venuesBySymbol,
    connectionOf: (venue) => ingestOf.get(venue)?.connectionStatus() ?? null,
    clock,
  });
  const alert = (input: AlertInput): void => raiseAlert(bus, logger, input, () => clock.now());
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
    const symbols = config.symbols.filter((s) => listed(adapter, s));
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
        clock,
        observer: monitor.observer(adapter.venue),
        // An instrument's history counts as loaded once it is readable from the database (see below).
        onHistoryLoaded: (symbol) =>
          void stored(adapter.venue).then((ok) => {
            if (ok && closing === null) monitor.historyLoaded(adapter.venue, symbol);
          }),
        alert,
        ...(options.tradeSink ? { tradeSink: options.tradeSink } : {}),
        ...(options.historyRoom ? { historyRoom: options.historyRoom } : {}),
        ...(options.historyTurn ? { historyTurn: options.historyTurn } : {}),
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
    candles,
    async start() {
      monitor.start();
      const run = async (i: VenueIngest): Promise<void> => {
        await i.start();
        // Loaded means readable from the database: a gateway process reads history there and refills its
        // clients as soon as the status (sent over the bus) says so. During an outage this waits for the
        // database to take the writes.
        if ((await stored(i.venue)) && closing === null) monitor.historyLoaded(i.venue);
      };
      // The first venue starts in a turn of its own, after the loop has polled (the gateway the caller just
      // started answers meanwhile): a zero-delay timer, as a setImmediate queued from an I/O callback would run
      // before the loop polls again. Each next one VENUE_START_SPACING_MS after it. A venue's start (its socket and
      // snapshot, its first history pages, code that runs for the first time in the process) is tens of ms of CPU
      // here and a burst of answers on the exchange's side: all of them in one turn held the event loop for
      // hundreds of ms, and all of them a turn apart still made turns of 50-80 ms, half of it waiting for a core
      // (docs/PERFORMANCE.md, start-up).
      const started: Promise<void>[] = [];
      for (const [n, i] of ingests.entries()) {
        if (n === 0) await sleep(0);
        else await new Promise<void>((resolve) => clock.setTimeout(resolve, VENUE_START_SPACING_MS));
        if (closing !== null) break;
        started.push(run(i));
      }
      await Promise.all(started);
    },
    sources: () => monitor.view(),
    aggregatorStats() {
      const venues = ingests.map((i) => ingestReport(i.stats()));
      return { oneMinuteCandlesCount: venues.reduce((n, v) => n + v.oneMinuteCandlesCount, 0), venues };
    },
    alert,
    close: () =>
      (closing ??= (async () => {
        endWaits();
        monitor.close();
        // Requests under way fail at once rather than wait out their retries (each ingest, closed next in this
        // turn, then ignores the failure).
        for (const adapter of adapters) adapter.rest.close?.();
        await Promise.all(ingests.map((i) => i.close()));
      })()),
  };
}

/**
 * The reports have always shown whether each venue is connected beside its venue name; that fact is read from the
 * connection's status, its one source.
 */
function ingestReport(stats: IngestStats): IngestReport {
  const { venue, ...rest } = stats;
  return { venue, connected: stats.connection?.connected ?? false, ...rest };
}
