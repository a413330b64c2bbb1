import type { Fill, PositionSide } from '../domain/account.ts';
import { add, compare, divide, isZero, min, mul, sub, ZERO, type Decimal } from '../domain/decimal.ts';

/**
 * Round trips rebuilt from an account's fills, for the win rate (docs/ACCOUNTS.md, "Win rate"). A round trip is
 * a position of one perpetual symbol from the fill that opens it (flat → not flat) to the fill that makes it flat
 * again; its PnL is Σ realized PnL − Σ fees of its fills. Only fills are used, never the venue's position
 * pushes, so that the same fills restored from the store after a restart give the same trips.
 */

/** Digits kept when the cost of a partly closed position is split (its entry price is cost / size). */
const COST_PLACES = 18;

interface OpenTrip {
  readonly side: PositionSide;
  /** Open size, base units, > 0. */
  size: Decimal;
  /** Σ price × size of the open part: the entry cost. */
  cost: Decimal;
  /** Σ realized PnL − Σ fees of its fills so far. */
  pnl: Decimal;
}

export interface TripOutcome {
  /** The realized PnL this fill counts for: the venue's, else the one computed from the trip's entry cost. */
  readonly realizedPnl: Decimal;
  /** PnL of the round trip this fill closed, if it closed one. */
  readonly closedTripPnl?: Decimal;
}

export class RoundTrips {
  private readonly open = new Map<string, OpenTrip>();
  wins = 0;
  losses = 0;
  /** Closed trips with a PnL of exactly zero: neither a win nor a loss. */
  breakEven = 0;

  /**
   * Applies one fill (each fill once, in time order). A spot fill makes no trip. A fill that reports a realized
   * PnL while its symbol has no open trip closes a position opened before tracking began: its PnL counts, it
   * makes no trip. A fill that flips the position closes the trip (with the whole fee) and opens the opposite
   * one with the rest of its size.
   */
  apply(fill: Fill): TripOutcome {
    if (fill.market !== 'perpetual') return { realizedPnl: fill.realizedPnl ?? ZERO };
    const side: PositionSide = fill.side === 'buy' ? 'long' : 'short';
    const trip = this.open.get(fill.symbol);
    if (!trip) {
      if (fill.realizedPnl !== undefined && !isZero(fill.realizedPnl))
        return { realizedPnl: fill.realizedPnl };
      this.openTrip(fill.symbol, side, fill.size, fill.price, sub(fill.realizedPnl ?? ZERO, fill.fee));
      return { realizedPnl: fill.realizedPnl ?? ZERO };
    }
    if (trip.side === side) {
      trip.size = add(trip.size, fill.size);
      trip.cost = add(trip.cost, mul(fill.price, fill.size));
      const realizedPnl = fill.realizedPnl ?? ZERO;
      trip.pnl = add(trip.pnl, sub(realizedPnl, fill.fee));
      return { realizedPnl };
    }
    const closing = min(fill.size, trip.size);
    const closedCost =
      compare(closing, trip.size) === 0 ? trip.cost : divide(mul(trip.cost, closing), trip.size, COST_PLACES);
    const proceeds = mul(fill.price, closing);
    const computed = trip.side === 'long' ? sub(proceeds, closedCost) : sub(closedCost, proceeds);
    const realizedPnl = fill.realizedPnl ?? computed;
    trip.pnl = add(trip.pnl, sub(realizedPnl, fill.fee));
    trip.size = sub(trip.size, closing);
    trip.cost = sub(trip.cost, closedCost);
    if (!isZero(trip.size)) return { realizedPnl };
    this.open.delete(fill.symbol);
    this.count(trip.pnl);
    const rest = sub(fill.size, closing);
    if (!isZero(rest)) this.openTrip(fill.symbol, side, rest, fill.price, ZERO);
    return { realizedPnl, closedTripPnl: trip.pnl };
  }

  /** Open trips, for tests and invariants. */
  openTrips(): number {
    return this.open.size;
  }

  private openTrip(symbol: string, side: PositionSide, size: Decimal, price: Decimal, pnl: Decimal): void {
    this.open.set(symbol, { side, size, cost: mul(price, size), pnl });
  }

  private count(pnl: Decimal): void {
    const sign = compare(pnl, ZERO);
    if (sign > 0) this.wins++;
    else if (sign < 0) this.losses++;
    else this.breakEven++;
  }
}
