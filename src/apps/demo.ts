import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { VENUES, type VenueId } from '../domain/instrument.ts';
import { venuesListing } from '../venues/registry.ts';

/** Where the demo keeps its history, inside DATA_DIR: apart from the history of `tickwire all`. */
export const DEMO_DATA_DIR = 'demo';

export interface DemoMarket {
  readonly venues: readonly VenueId[];
  readonly symbols: readonly string[];
}

/**
 * The venues and instruments of `tickwire demo`: every simulated venue unless VENUES says otherwise, and the USD
 * counterpart of each configured pair where one of those venues lists it (dYdX's USD-quoted perpetuals).
 */
export function demoMarket(config: Config, venuesConfigured: boolean): DemoMarket {
  const venues = venuesConfigured ? config.venues : [...VENUES];
  const listed = (symbol: string): boolean =>
    venuesListing(symbol, config.urls).some((venue) => venues.includes(venue));
  const usd = config.symbols.map((s) => s.replace(/\/USD[TC]$/, '/USD')).filter(listed);
  const symbols = [...new Set([...config.symbols, ...usd])];
  return { venues, symbols };
}

/**
 * The configuration the demo runs `all` with: pointed at the simulator, and with nothing shared with a real run,
 * so that simulated bars can never be served as a venue's. Its history lives in the embedded database under
 * DATA_DIR/demo, even when DATABASE_URL is set, and its bus is in-process, even when REDIS_URL is set (gateways
 * attached to that Redis would otherwise stream simulated bars).
 */
export function demoConfig(
  config: Config,
  market: DemoMarket,
  simUrls: Partial<Record<VenueId, { readonly wsUrl: string; readonly restUrl: string }>>,
): Config {
  const urls = { ...config.urls };
  for (const venue of VENUES) {
    const sim = simUrls[venue];
    if (sim) urls[venue] = { wsUrl: sim.wsUrl, restUrl: sim.restUrl };
  }
  const { databaseUrl: _ignoredDatabase, ...storage } = config.storage;
  const { url: _ignoredRedis, ...redis } = config.redis;
  return Object.freeze({
    ...config,
    venues: [...market.venues],
    symbols: [...market.symbols],
    urls: Object.freeze(urls),
    storage: Object.freeze({ ...storage, dataDir: join(config.storage.dataDir, DEMO_DATA_DIR) }),
    redis: Object.freeze(redis),
  });
}
