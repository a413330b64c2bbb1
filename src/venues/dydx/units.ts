import { parseDecimal, shift, type Decimal } from '../../domain/decimal.ts';

/**
 * dYdX v4 on-chain units. The chain stores a position size as integer quantums and a price as integer subticks
 * per quantum; the indexer prints human units, but anything read from chain data (or written to it) converts
 * through a market's parameters:
 *
 *   size  = quantums × 10^atomicResolution
 *   price = subticks × 10^(quantumConversionExponent − atomicResolution − 6)    (6: USDC decimals)
 *   stepSize = stepBaseQuantums × 10^atomicResolution, tickSize = subticksPerTick × 10^(qce − ar − 6)
 *
 * All conversions are exact (scaled integers); a value that does not fall on the unit grid is an error, never
 * silently rounded.
 */

/** USDC, the quote asset, has 6 decimals on chain. */
const QUOTE_DECIMALS = 6;

/** The market parameters the conversions need (fields of /v4/perpetualMarkets and v4_markets). */
export interface DydxMarketUnits {
  readonly atomicResolution: number;
  readonly quantumConversionExponent: number;
  readonly stepBaseQuantums: number | bigint;
  readonly subticksPerTick: number | bigint;
}

/** Thrown when a size or price is not a whole number of quantums or subticks. */
export class DydxUnitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DydxUnitError';
  }
}

function checkExponent(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || Math.abs(value) > 40) {
    throw new DydxUnitError(`${name} must be an integer within ±40, got ${value}`);
  }
}

function toBigInt(value: number | bigint | string, name: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new DydxUnitError(`${name} must be an integer, got ${value}`);
    return BigInt(value);
  }
  if (!/^-?\d+$/.test(value)) throw new DydxUnitError(`${name} must be an integer, got "${value}"`);
  return BigInt(value);
}

/** 10^-n applied exactly: `scaled(x, e)` = x × 10^e. */
function scaled(coef: bigint, exponent: number): Decimal {
  return shift({ coef, scale: 0 }, -exponent);
}

/** The exact integer `value` × 10^exponent; throws when a fraction would remain. */
function toInteger(value: Decimal, exponent: number, what: string): bigint {
  const s = shift(value, -exponent);
  if (s.scale === 0) return s.coef;
  const div = 10n ** BigInt(s.scale);
  if (s.coef % div !== 0n) throw new DydxUnitError(`${what} is not a whole number`);
  return s.coef / div;
}

function priceExponent(m: DydxMarketUnits): number {
  checkExponent(m.atomicResolution, 'atomicResolution');
  checkExponent(m.quantumConversionExponent, 'quantumConversionExponent');
  return m.quantumConversionExponent - m.atomicResolution - QUOTE_DECIMALS;
}

/** Quantums → size in base units (tokens). */
export function quantumsToSize(quantums: number | bigint | string, atomicResolution: number): Decimal {
  checkExponent(atomicResolution, 'atomicResolution');
  return scaled(toBigInt(quantums, 'quantums'), atomicResolution);
}

/** Size in base units → quantums. Throws DydxUnitError when the size is finer than one quantum. */
export function sizeToQuantums(size: Decimal | string, atomicResolution: number): bigint {
  checkExponent(atomicResolution, 'atomicResolution');
  const value = typeof size === 'string' ? parseDecimal(size) : size;
  return toInteger(value, -atomicResolution, `size × 10^${-atomicResolution}`);
}

/** Subticks → price in USD per base unit. */
export function subticksToPrice(subticks: number | bigint | string, market: DydxMarketUnits): Decimal {
  return scaled(toBigInt(subticks, 'subticks'), priceExponent(market));
}

/** Price in USD per base unit → subticks. Throws DydxUnitError when the price is finer than one subtick. */
export function priceToSubticks(price: Decimal | string, market: DydxMarketUnits): bigint {
  const value = typeof price === 'string' ? parseDecimal(price) : price;
  const e = priceExponent(market);
  return toInteger(value, -e, `price × 10^${-e}`);
}

/** The smallest size step, in base units: stepBaseQuantums × 10^atomicResolution. */
export function stepSize(market: DydxMarketUnits): Decimal {
  return quantumsToSize(toBigInt(market.stepBaseQuantums, 'stepBaseQuantums'), market.atomicResolution);
}

/** The price tick, in USD: subticksPerTick × 10^(quantumConversionExponent − atomicResolution − 6). */
export function tickSize(market: DydxMarketUnits): Decimal {
  return subticksToPrice(toBigInt(market.subticksPerTick, 'subticksPerTick'), market);
}
