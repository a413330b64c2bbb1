/**
 * OKX number printing: plain decimals without trailing zeros ("67000.1", "0.0021"), from integer ticks and lots.
 */
import { normalize, toPlainString, type Decimal } from '../../domain/decimal.ts';

/** Prices (ticks), sizes (lots) and quote amounts (ticks × lots) of one instrument, printed the OKX way. */
export class OkxNumberFormat {
  private readonly quoteUnit: Decimal;

  constructor(
    private readonly tick: Decimal,
    private readonly step: Decimal,
  ) {
    this.quoteUnit = { coef: tick.coef * step.coef, scale: tick.scale + step.scale };
  }

  price(ticks: number): string {
    return units(ticks, this.tick);
  }

  size(lots: number | bigint): string {
    return units(lots, this.step);
  }

  quote(amount: bigint): string {
    return units(amount, this.quoteUnit);
  }
}

function units(n: number | bigint, unit: Decimal): string {
  return toPlainString(normalize({ coef: BigInt(n) * unit.coef, scale: unit.scale }));
}
