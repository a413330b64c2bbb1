/**
 * Binance number formatting and frame builders. Binance spot prints prices and quantities with eight fraction
 * digits ("58942.01000000"); the simulator does the same, with more digits only when a value needs them to stay exact.
 */
import { toFixedString, type Decimal } from '../../domain/decimal.ts';
import type { AggregatedBar } from '../market/bars.ts';
import type { SimSymbolSpec } from '../market/symbol-specs.ts';
import type { BinanceSimKlinePayload, BinanceSimKlineRow } from './wire.ts';

const PLACES = 8;

/** `units` × `unit` printed the Binance way. */
export function formatUnits(units: bigint | number, unit: Decimal): string {
  const places = Math.max(PLACES, unit.scale);
  // Prices and sizes (whole ticks and lots) are printed by the thousand a second in depth diffs: their digits are
  // exact in a double, and no digit is dropped (places ≥ scale), so the text is built without BigInt arithmetic.
  if (typeof units === 'number' && Number.isSafeInteger(units) && units >= 0) {
    const product = units * Number(unit.coef);
    if (Number.isSafeInteger(product)) return fixedText(String(product), unit.scale, places);
  }
  const value: Decimal = { coef: BigInt(units) * unit.coef, scale: unit.scale };
  return toFixedString(value, places);
}

/** The digits of a non-negative integer at `scale`, printed with `places` (≥ scale) fraction digits. */
function fixedText(digits: string, scale: number, places: number): string {
  const padded = (digits + '0'.repeat(places - scale)).padStart(places + 1, '0');
  const cut = padded.length - places;
  return places === 0 ? padded : padded.slice(0, cut) + '.' + padded.slice(cut);
}

/** Formats prices (ticks), base sizes (lots) and quote amounts (ticks × lots) of one symbol. */
export class BinanceNumberFormat {
  private readonly quoteUnit: Decimal;

  constructor(readonly spec: SimSymbolSpec) {
    this.quoteUnit = { coef: spec.tick.coef * spec.step.coef, scale: spec.tick.scale + spec.step.scale };
  }

  price(ticks: number): string {
    return formatUnits(ticks, this.spec.tick);
  }

  qty(lots: number | bigint): string {
    return formatUnits(lots, this.spec.step);
  }

  quote(units: bigint): string {
    return formatUnits(units, this.quoteUnit);
  }

  /** The average price of `quoteUnits` over `lots` (a VWAP), to eight fraction digits, truncated. */
  quoteAsPrice(quoteUnits: bigint, lots: bigint): string {
    const scaledTicks = (quoteUnits * 10n ** BigInt(PLACES)) / lots;
    const value: Decimal = { coef: scaledTicks * this.spec.tick.coef, scale: this.spec.tick.scale + PLACES };
    return toFixedString(value, PLACES);
  }
}

/** REST /api/v3/klines row of a bar. */
export function klineRow(bar: AggregatedBar, fmt: BinanceNumberFormat): BinanceSimKlineRow {
  return [
    bar.openTime,
    fmt.price(bar.o),
    fmt.price(bar.h),
    fmt.price(bar.l),
    fmt.price(bar.c),
    fmt.qty(bar.v),
    bar.endTime - 1,
    fmt.quote(bar.q),
    bar.n,
    fmt.qty(bar.vb),
    fmt.quote(bar.qb),
    '0',
  ];
}

/** The `k` object of a kline stream event. */
export function klinePayload(
  bar: AggregatedBar,
  fmt: BinanceNumberFormat,
  name: string,
  interval: string,
  closed: boolean,
): BinanceSimKlinePayload {
  return {
    t: bar.openTime,
    T: bar.endTime - 1,
    s: name,
    i: interval,
    f: bar.f,
    L: bar.L,
    o: fmt.price(bar.o),
    c: fmt.price(bar.c),
    h: fmt.price(bar.h),
    l: fmt.price(bar.l),
    v: fmt.qty(bar.v),
    n: bar.n,
    x: closed,
    q: fmt.quote(bar.q),
    V: fmt.qty(bar.vb),
    Q: fmt.quote(bar.qb),
    B: '0',
  };
}
