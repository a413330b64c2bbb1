import { add, compare, fromInteger, mul, normalize, sub, type Decimal } from '../domain/decimal.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Ticker } from '../domain/ticker.ts';

/** How one price is chosen when several venues quote the same instrument. */
export const CONFLICT_RESOLUTIONS = ['primary', 'latest', 'average'] as const;
export type ConflictResolution = (typeof CONFLICT_RESOLUTIONS)[number];

/** One venue's latest value of a price (last trade, ticker last, bid or ask). */
export interface PriceQuote {
  readonly venue: VenueId;
  readonly price: Decimal;
  /** Exchange event time, ms UTC. */
  readonly time: number;
  /** Local receive time, ms UTC; freshness is judged on it, so a venue clock that runs late cannot hide. */
  readonly receivedAt: number;
}

export interface ResolveOptions {
  /** The failover's active source. */
  readonly active: VenueId;
  /** A quote received longer ago than this (ms) is stale and ignored. Default 10,000. */
  readonly staleAfterMs?: number;
  /** `average`: quotes farther than this from the median, in basis points of the median, are outliers. Default 100 (1 %). */
  readonly outlierBandBps?: number;
}

export interface ResolvedPrice {
  readonly price: Decimal;
  /** The venues whose quotes make the price (provenance). */
  readonly sources: readonly VenueId[];
  /** Venues left out, and why. */
  readonly excluded: readonly { readonly venue: VenueId; readonly why: 'stale' | 'outlier' }[];
  /**
   * True when the strategy could not apply as asked: `primary` without a fresh quote from the active source
   * (the freshest other quote is used), or `average` without agreement (the active source's quote is used).
   */
  readonly fallback: boolean;
}

const HALF: Decimal = { coef: 5n, scale: 1 };
const BPS: Decimal = fromInteger(10_000);

/**
 * Resolves one price from several venues' quotes at `now`. Undefined when no quote is fresh.
 *
 * - `primary`: the active source's quote; if it has none fresh, the freshest fresh quote (`fallback`).
 * - `latest`: the fresh quote with the latest exchange time (ties: latest receive, then the active source).
 * - `average`: a robust median of the fresh quotes. With one quote, that quote. With two, their exact midpoint
 *   when they lie within the band of each other (relative to the midpoint), else the active source's (or, when it
 *   is not among them, the latest) — two disagreeing venues give no majority to trust. With three or more, the
 *   median m is taken, quotes with |p − m| > band × m are dropped as outliers, and the median of the rest is the
 *   price; if every quote is an outlier of m (no consensus), the active source's quote, else the latest.
 *   The median of an even count is the exact midpoint of the two middle quotes.
 */
export function resolvePrice(
  strategy: ConflictResolution,
  quotes: readonly PriceQuote[],
  now: number,
  options: ResolveOptions,
): ResolvedPrice | undefined {
  const staleAfterMs = options.staleAfterMs ?? 10_000;
  const bandBps = options.outlierBandBps ?? 100;
  if (!Number.isInteger(bandBps) || bandBps < 0 || !Number.isFinite(staleAfterMs) || staleAfterMs < 0)
    throw new RangeError(
      `resolvePrice: outlierBandBps must be a non-negative integer and staleAfterMs non-negative, got ${bandBps} and ${staleAfterMs}`,
    );
  const fresh: PriceQuote[] = [];
  const excluded: { venue: VenueId; why: 'stale' | 'outlier' }[] = [];
  for (const q of quotes) {
    if (now - q.receivedAt > staleAfterMs) excluded.push({ venue: q.venue, why: 'stale' });
    else fresh.push(q);
  }
  if (fresh.length === 0) return undefined;
  const active = fresh.find((q) => q.venue === options.active);
  const latest = latestOf(fresh, options.active);

  switch (strategy) {
    case 'primary':
      return single(active ?? latest, excluded, active === undefined);
    case 'latest':
      return single(latest, excluded, false);
    case 'average': {
      if (fresh.length === 1) return single(fresh[0]!, excluded, false);
      const band = fromInteger(bandBps);
      if (fresh.length === 2) {
        const [a, b] = fresh as [PriceQuote, PriceQuote];
        const mid = midpoint(a.price, b.price);
        if (within(a.price, mid, band) && within(b.price, mid, band))
          return { price: mid, sources: [a.venue, b.venue], excluded, fallback: false };
        return single(active ?? latest, excluded, true);
      }
      const sorted = fresh.slice().sort((x, y) => compare(x.price, y.price));
      const m = median(sorted);
      const kept: PriceQuote[] = [];
      for (const q of sorted) {
        if (within(q.price, m, band)) kept.push(q);
        else excluded.push({ venue: q.venue, why: 'outlier' });
      }
      if (kept.length === 0) {
        const fallback = active ?? latest;
        return single(
          fallback,
          excluded.filter((e) => e.venue !== fallback.venue),
          true,
        );
      }
      return { price: median(kept), sources: kept.map((q) => q.venue), excluded, fallback: false };
    }
  }
}

export interface ResolvedTicker {
  /** The base venue's ticker with `last` replaced by the resolved price. */
  readonly ticker: Ticker;
  /** The venues whose `last` makes the price; the first, for a single source, is the base venue. */
  readonly sources: readonly VenueId[];
  readonly fallback: boolean;
}

/**
 * Resolves one instrument's ticker from several venues' latest tickers at `now` (one per venue). `last` follows
 * `resolvePrice`. Bid, ask, sizes and 24 h statistics come whole from one venue, never mixed: a bid of one venue
 * with an ask of another can cross, and 24 h volumes of different venues are not comparable. That venue is the
 * single source of the price, or for a median of several the active source when it is among them, else the
 * freshest of them. Undefined when no ticker is fresh.
 */
export function resolveTicker(
  strategy: ConflictResolution,
  tickers: readonly Ticker[],
  now: number,
  options: ResolveOptions,
): ResolvedTicker | undefined {
  const quotes: PriceQuote[] = tickers.map((t) => ({
    venue: t.venue,
    price: t.last,
    time: t.time,
    receivedAt: t.receivedAt,
  }));
  const resolved = resolvePrice(strategy, quotes, now, options);
  if (!resolved) return undefined;
  const used = tickers.filter((t) => resolved.sources.includes(t.venue));
  const base =
    used.find((t) => t.venue === options.active) ??
    used.reduce((a, b) => (b.time > a.time || (b.time === a.time && b.receivedAt > a.receivedAt) ? b : a));
  return {
    ticker: resolved.price === base.last ? base : { ...base, last: resolved.price },
    sources: [base.venue, ...resolved.sources.filter((v) => v !== base.venue)],
    fallback: resolved.fallback,
  };
}

function single(
  q: PriceQuote,
  excluded: { venue: VenueId; why: 'stale' | 'outlier' }[],
  fallback: boolean,
): ResolvedPrice {
  return { price: q.price, sources: [q.venue], excluded, fallback };
}

function latestOf(quotes: readonly PriceQuote[], active: VenueId): PriceQuote {
  let best = quotes[0]!;
  for (let i = 1; i < quotes.length; i++) {
    const q = quotes[i]!;
    if (
      q.time > best.time ||
      (q.time === best.time &&
        (q.receivedAt > best.receivedAt || (q.receivedAt === best.receivedAt && q.venue === active)))
    )
      best = q;
  }
  return best;
}

/** Exact midpoint (a + b) / 2. */
function midpoint(a: Decimal, b: Decimal): Decimal {
  return normalize(mul(add(a, b), HALF));
}

/** Median of quotes sorted by price; the exact midpoint of the two middle ones for an even count. */
function median(sorted: readonly PriceQuote[]): Decimal {
  const n = sorted.length;
  const upper = sorted[n >> 1]!.price;
  if (n % 2 === 1) return upper;
  return midpoint(sorted[(n >> 1) - 1]!.price, upper);
}

/** |p − ref| × 10,000 ≤ bandBps × |ref|, exactly. */
function within(p: Decimal, ref: Decimal, bandBps: Decimal): boolean {
  const d = sub(p, ref);
  const dist = d.coef < 0n ? { coef: -d.coef, scale: d.scale } : d;
  const r = ref.coef < 0n ? { coef: -ref.coef, scale: ref.scale } : ref;
  return compare(mul(dist, BPS), mul(bandBps, r)) <= 0;
}
