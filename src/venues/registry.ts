import { TickwireError } from '../domain/errors.ts';
import type { VenueId } from '../domain/instrument.ts';
import { silentLogger, type Logger } from '../telemetry/logger.ts';
import type { Clock } from '../util/clock.ts';
import { createBinanceAdapter } from './binance/index.ts';
import { createBitgetAdapter } from './bitget/index.ts';
import { createDydxAdapter } from './dydx/index.ts';
import { createOkxAdapter } from './okx/index.ts';
import type { VenueAdapter } from './venue.ts';

/** What every venue factory receives: the configured endpoints, a logger and the clock. */
export interface VenueAdapterOptions {
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export type VenueFactory = (options: VenueAdapterOptions) => VenueAdapter;

/** The venues Tickwire can connect to. Adding a venue is one line here. */
export const VENUE_FACTORIES: Readonly<Partial<Record<VenueId, VenueFactory>>> = {
  binance: createBinanceAdapter,
  bitget: createBitgetAdapter,
  okx: createOkxAdapter,
  dydx: createDydxAdapter,
};

/** Venues with an adapter, in the order of VENUE_FACTORIES. */
export function supportedVenues(): VenueId[] {
  return Object.keys(VENUE_FACTORIES) as VenueId[];
}

/**
 * Creates the adapter of `venue` for the configured `urls`. Throws TickwireError CONFIG_INVALID for a venue that
 * has no adapter yet.
 */
export function createVenueAdapter(
  venue: VenueId,
  urls: { readonly wsUrl: string; readonly restUrl: string },
  logger: Logger,
  clock?: Clock,
): VenueAdapter {
  const factory = VENUE_FACTORIES[venue];
  if (!factory) {
    throw new TickwireError(
      'CONFIG_INVALID',
      `venue "${venue}" has no adapter yet; supported: ${supportedVenues().join(', ')}`,
    );
  }
  return factory({ wsUrl: urls.wsUrl, restUrl: urls.restUrl, logger, ...(clock ? { clock } : {}) });
}

/** The venues with an adapter that list `symbol` (the order of VENUE_FACTORIES). */
export function venuesListing(
  symbol: string,
  urls: Readonly<Record<VenueId, { readonly wsUrl: string; readonly restUrl: string }>>,
): VenueId[] {
  const logger = silentLogger();
  return supportedVenues().filter(
    (venue) => createVenueAdapter(venue, urls[venue], logger).supportsSymbol?.(symbol) ?? true,
  );
}

/**
 * Checks at start that every configured symbol is listed by at least one configured venue: a symbol nobody
 * streams would never have data. Throws TickwireError CONFIG_INVALID naming each such symbol and the venues that
 * do list it (e.g. SYMBOLS=ETH/USDT with VENUES=dydx, which lists USD perpetuals such as ETH/USD).
 */
export function checkSymbolsListed(config: {
  readonly symbols: readonly string[];
  readonly venues: readonly VenueId[];
  readonly urls: Readonly<Record<VenueId, { readonly wsUrl: string; readonly restUrl: string }>>;
}): void {
  const lines: string[] = [];
  for (const symbol of config.symbols) {
    const listing = venuesListing(symbol, config.urls);
    if (listing.some((venue) => config.venues.includes(venue))) continue;
    const where =
      listing.length > 0 ? `venues that list it: ${listing.join(', ')}` : 'no supported venue lists it';
    lines.push(
      `  symbols: ${symbol} is listed by none of the configured venues (${config.venues.join(', ')}); ${where}`,
    );
  }
  if (lines.length > 0)
    throw new TickwireError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
}
