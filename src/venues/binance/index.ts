import { isCanonicalSymbol } from '../../domain/instrument.ts';
import type { BookRules } from '../../domain/book-rules.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Clock } from '../../util/clock.ts';
import type {
  MarketStream,
  MarketStreamHandlers,
  MarketStreamOptions,
  VenueAdapter,
  VenueModule,
} from '../venue.ts';
import { openBinanceMarketStream, type BinanceStreamOptions } from './feed.ts';
import { BinanceRest, type BinanceRestOptions } from './rest.ts';

export interface BinanceAdapterOptions extends Omit<
  BinanceStreamOptions,
  'logger' | 'clock' | 'pollSource' | 'channels'
> {
  /** Base of the market streams: wss://stream.binance.com:9443, or the simulator's ws://127.0.0.1:PORT/binance. */
  readonly wsUrl: string;
  /** Base of REST /api/v3: https://api.binance.com, or the simulator's http://127.0.0.1:PORT/binance. */
  readonly restUrl: string;
  readonly logger: Logger;
  /** Time of the stream and of the REST history windows, and the stream's timers. Default the system clock. */
  readonly clock?: Clock;
  /** REST pacing, retries and caps; see BinanceRestOptions. */
  readonly rest?: Omit<BinanceRestOptions, 'restUrl' | 'logger' | 'now'>;
}

/**
 * Binance diff-depth streams carry only deltas with `U`/`u`; the book starts from `GET /api/v3/depth` fetched after
 * the deltas start arriving.
 */
export const BINANCE_BOOK_RULES: BookRules = {
  snapshotSource: 'rest',
  sequence: 'binance-range',
  checksum: 'none',
  checksumSnapshots: false,
  uncross: false,
  snapshotDepth: 1000,
};

/** The Binance spot adapter: REST history and the combined market stream, behind the VenueAdapter contract. */
export function createBinanceAdapter(
  options: BinanceAdapterOptions,
): VenueAdapter & { readonly rest: BinanceRest } {
  const { restUrl, rest: restOptions, ...streamOptions } = options;
  const clock = options.clock;
  const rest = new BinanceRest({
    ...restOptions,
    restUrl,
    logger: options.logger,
    ...(clock ? { now: () => clock.now() } : {}),
  });
  return {
    venue: 'binance',
    rest,
    bookRules: BINANCE_BOOK_RULES,
    // Aggregate trade ids run without holes: a jump is a gap to backfill.
    contiguousTradeSeq: true,
    // Binance spot quotes in stablecoins and crypto, never in plain USD.
    supportsSymbol: (symbol) => isCanonicalSymbol(symbol) && !symbol.endsWith('/USD'),
    openMarketStream(
      symbols: readonly string[],
      handlers: MarketStreamHandlers,
      options?: MarketStreamOptions,
    ): MarketStream {
      return openBinanceMarketStream(symbols, handlers, {
        ...streamOptions,
        ...(options?.channels ? { channels: options.channels } : {}),
        ...(options?.books ? { books: options.books } : {}),
        pollSource: rest,
      });
    },
  };
}

/** Binance in the venue registry: its production endpoints (the defaults of `urls.binance`) and its adapter. */
export const binanceVenue: VenueModule<'binance'> = {
  id: 'binance',
  defaultUrls: { wsUrl: 'wss://stream.binance.com:9443', restUrl: 'https://api.binance.com' },
  createAdapter: (options) => createBinanceAdapter(options),
};

export { BinanceRest, createBinanceRest, type BinanceRestOptions } from './rest.ts';
export {
  openBinanceMarketStream,
  type BinancePollSource,
  type BinanceStreamOptions,
  type BinanceReconnectOptions,
} from './feed.ts';
