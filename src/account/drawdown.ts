import { compare, divide, sub, ZERO, type Decimal } from '../domain/decimal.ts';

/** Fraction digits of the ratios the account side derives (drawdown, win rate, exposure). */
export const RATIO_PLACES = 8;

/**
 * Maximum drawdown of the equity curve, over its samples in time order: the largest (peak − equity) / peak, where
 * peak is the highest equity sampled up to that point. Kept incrementally, so the curve itself need not be held.
 * A peak that is not positive gives no drawdown (a ratio to it means nothing).
 */
export class Drawdown {
  private peak: Decimal | undefined;
  private worst: Decimal = ZERO;

  add(equity: Decimal): void {
    if (this.peak === undefined || compare(equity, this.peak) > 0) {
      this.peak = equity;
      return;
    }
    if (compare(this.peak, ZERO) <= 0) return;
    const fall = divide(sub(this.peak, equity), this.peak, RATIO_PLACES);
    if (compare(fall, this.worst) > 0) this.worst = fall;
  }

  get max(): Decimal {
    return this.worst;
  }
}
