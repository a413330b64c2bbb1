import type { Position } from '../domain/account.ts';
import { compare, divide, isZero, sub, type Decimal } from '../domain/decimal.ts';
import { RATIO_PLACES } from './drawdown.ts';

/** A position whose liquidation price has just come within the distance. */
export interface NearLiquidation {
  readonly position: Position;
  /** |mark − liquidation| / mark. */
  readonly distance: Decimal;
}

/**
 * The `liquidation_near` condition, fired once per crossing: a position enters "near" when
 * |mark − liquidation| / mark ≤ `maxDistance` and leaves it when the distance grows past it again (or the position
 * ends). Only the entry is reported, so a position hovering near its liquidation price raises one alert, not one
 * per update. A position without a mark or a liquidation price is never near.
 */
export class LiquidationWatch {
  private readonly near = new Set<string>();

  constructor(private readonly maxDistance: Decimal) {}

  /** Checks the account's current positions; returns those that have just come near. */
  check(positions: Iterable<Position>): NearLiquidation[] {
    const entered: NearLiquidation[] = [];
    const present = new Set<string>();
    for (const p of positions) {
      const key = `${p.symbol}|${p.side}`;
      present.add(key);
      const distance = distanceOf(p);
      if (distance === undefined || compare(distance, this.maxDistance) > 0) {
        this.near.delete(key);
        continue;
      }
      if (this.near.has(key)) continue;
      this.near.add(key);
      entered.push({ position: p, distance });
    }
    for (const key of this.near) if (!present.has(key)) this.near.delete(key);
    return entered;
  }
}

function distanceOf(p: Position): Decimal | undefined {
  if (p.markPrice === undefined || p.liquidationPrice === undefined || isZero(p.markPrice)) return undefined;
  const gap = sub(p.markPrice, p.liquidationPrice);
  return divide(gap.coef < 0n ? { coef: -gap.coef, scale: gap.scale } : gap, p.markPrice, RATIO_PLACES);
}
