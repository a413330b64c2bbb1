import type { Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { Trade } from '../domain/trade.ts';
import { createIngestPipeline, type IngestPipeline } from '../ingest/ingest-pipeline.ts';
import type { CandleStore } from '../store/candle-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { mainThreadTurns } from '../util/turn-budget.ts';
import { checkSymbolsListed, createVenueAdapter } from '../venues/registry.ts';

export interface PipelineOptions {
  readonly config: Config;
  /** Where candle updates, trades, tickers, books, alerts and the source status go. */
  readonly bus: Bus;
  /** Where the composite bars are written (start-up history included). */
  readonly store: CandleStore;
  readonly logger: Logger;
  /** Time and timers of the stage and its venues (a test's shifted clock); default the system clock. */
  readonly clock?: Clock;
  /** Given every new trade when trades are stored. */
  readonly tradeSink?: (trades: readonly Trade[]) => void;
  /** Resolves once the store has room for more background history (Storage.historyRoom). */
  readonly historyRoom?: () => Promise<void>;
}

/**
 * The ingest stage (src/ingest/) on the configured venues, shared by `tickwire all` and `tickwire ingest`.
 * Throws TickwireError CONFIG_INVALID when no configured venue lists a configured symbol.
 */
export function createPipeline(options: PipelineOptions): IngestPipeline {
  const { config, bus, store, logger } = options;
  checkSymbolsListed(config);
  const clock = options.clock ?? systemClock;
  return createIngestPipeline({
    adapters: config.venues.map((venue) => createVenueAdapter(venue, config.urls[venue], logger, clock)),
    config,
    bus,
    store,
    logger,
    clock,
    ...(options.tradeSink ? { tradeSink: options.tradeSink } : {}),
    ...(options.historyRoom ? { historyRoom: options.historyRoom } : {}),
    // An instrument's start-up history is applied under the budget the venues' frames and REST answers share.
    historyTurn: (owner) => mainThreadTurns.turn(owner),
  });
}
