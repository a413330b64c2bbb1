import { TickwireError } from '../domain/errors.ts';
import { VENUES, type VenueId } from '../domain/instrument.ts';
import { silentLogger, type Logger } from '../telemetry/logger.ts';
import type { Clock } from '../util/clock.ts';
import { binanceVenue } from './binance/index.ts';
import { bitgetVenue } from './bitget/index.ts';
import { dydxVenue } from './dydx/index.ts';
import { okxVenue } from './okx/index.ts';
import type { VenueAdapter, VenueModule, VenueUrls } from './venue.ts';

/**
 * The venues Tickwire can connect to, one line each; the configuration (its `venues`, `urls.<id>` and their
 * variables) is built from this table. The order is the default of `venues`: a symbol's candles come from the
 * first venue that lists it, and failover prefers them in this order. Every id of the domain's VENUES must have
 * its line (the compiler says so), and the venue contract suite (venue.contract.ts) runs for each.
 */
export const VENUE_REGISTRY: { readonly [Id in VenueId]: VenueModule<Id> } = {
  binance: binanceVenue,
  okx: okxVenue,
  bitget: bitgetVenue,
  dydx: dydxVenue,
};

/** The registered venues, in the order of VENUE_REGISTRY (the default `venues`). */
export function supportedVenues(): VenueId[] {
  return Object.keys(VENUE_REGISTRY) as VenueId[];
}

/** The registry entry of every venue, in the order of VENUE_REGISTRY. */
export function venueModules(): VenueModule[] {
  return supportedVenues().map((id) => VENUE_REGISTRY[id]);
}

/** Creates the adapter of `venue` for the configured `urls`. */
export function createVenueAdapter(
  venue: VenueId,
  urls: VenueUrls,
  logger: Logger,
  clock?: Clock,
): VenueAdapter {
  return VENUE_REGISTRY[venue].createAdapter({
    wsUrl: urls.wsUrl,
    restUrl: urls.restUrl,
    logger,
    ...(clock ? { clock } : {}),
  });
}

/** The venues that list `symbol`, in the domain's order of VENUES. */
export function venuesListing(symbol: string, urls: Readonly<Record<VenueId, VenueUrls>>): VenueId[] {
  const logger = silentLogger();
  return VENUES.filter(
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
  readonly urls: Readonly<Record<VenueId, VenueUrls>>;
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
