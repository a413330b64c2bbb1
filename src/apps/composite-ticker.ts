import type { Config } from '../config/config.ts';
import type { VenueId } from '../domain/instrument.ts';
import { resolveTicker } from '../feed/conflict-resolution.ts';
import type { CompositeTickerResolver } from '../gateway/gateway.ts';

/**
 * The gateway's composite ticker: CONFLICT_RESOLUTION applied to every venue's latest ticker of the instrument,
 * with the failover's active source (the configured primary when unknown) as the tie-breaker. Built here, where
 * the feed and the gateway are wired, so that the gateway needs nothing of the feed.
 */
export function compositeTickerResolver(
  config: Config,
  activeSource: (symbol: string) => VenueId | undefined,
): CompositeTickerResolver {
  const { conflictResolution, staleAfterMs, outlierBandBps, primary } = config.failover;
  return (tickers, at) => {
    const symbol = tickers[0]?.symbol;
    const active = (symbol !== undefined ? activeSource(symbol) : undefined) ?? primary;
    const resolved = resolveTicker(conflictResolution, tickers, at, { active, staleAfterMs, outlierBandBps });
    if (resolved === undefined) return undefined;
    return {
      ticker: resolved.ticker,
      info: {
        resolution: conflictResolution,
        sources: resolved.sources,
        baseVenue: resolved.ticker.venue,
        fallback: resolved.fallback,
      },
    };
  };
}
