import { add, sub, ZERO, type Decimal } from '../domain/decimal.ts';

/** One UTC day, ms. */
export const DAY_MS = 86_400_000;

/** 00:00 UTC of the day holding `time`. */
export function utcDayStart(time: number): number {
  return Math.floor(time / DAY_MS) * DAY_MS;
}

/**
 * Daily PnL of docs/ACCOUNTS.md: Σ (realized PnL − fee) of the fills whose exchange time falls in the current UTC
 * day, plus the change of unrealized PnL since 00:00 UTC. Fills are bucketed by their own time, so a fill of
 * yesterday that arrives after midnight never counts today, and deposits or withdrawals never count at all.
 */
export class DailyPnl {
  private readonly fillPnlByDay = new Map<number, Decimal>();
  private day: number;
  /** Unrealized PnL at the start of `day`; undefined until known. */
  private startUnrealized: Decimal | undefined;

  constructor(now: number) {
    this.day = utcDayStart(now);
  }

  /** The day the figure is for (00:00 UTC, ms). */
  get currentDay(): number {
    return this.day;
  }

  addFill(time: number, realizedPnl: Decimal, fee: Decimal): void {
    const day = utcDayStart(time);
    if (day < this.day - DAY_MS) return;
    this.fillPnlByDay.set(day, add(this.fillPnlByDay.get(day) ?? ZERO, sub(realizedPnl, fee)));
  }

  /**
   * Moves to the day of `now` when it has changed: `unrealizedNow` (the last value known, as midnight passes)
   * becomes the new day's start. Returns whether the day changed.
   */
  roll(now: number, unrealizedNow: Decimal): boolean {
    const day = utcDayStart(now);
    if (day <= this.day) return false;
    this.day = day;
    this.startUnrealized = unrealizedNow;
    // Sums kept: yesterday's (a late fill of it lands there), today's, and later ones (a local clock behind).
    for (const d of this.fillPnlByDay.keys()) if (d < day - DAY_MS) this.fillPnlByDay.delete(d);
    return true;
  }

  /** Sets the unrealized PnL at the start of the current day (restored from the stored equity curve). */
  setStartUnrealized(value: Decimal): void {
    this.startUnrealized = value;
  }

  /**
   * The first unrealized PnL known in a day with no start yet (a first start mid-day, before any sample) becomes
   * its start: the day's figure then counts from that moment.
   */
  observe(unrealizedNow: Decimal): void {
    this.startUnrealized ??= unrealizedNow;
  }

  value(unrealizedNow: Decimal): Decimal {
    return add(
      this.fillPnlByDay.get(this.day) ?? ZERO,
      sub(unrealizedNow, this.startUnrealized ?? unrealizedNow),
    );
  }
}
