import { TickwireError } from '../../domain/errors.ts';
import { isCanonicalSymbol, splitSymbol } from '../../domain/instrument.ts';
import type { Interval } from '../../domain/interval.ts';
import type { BitgetInstType } from './wire.ts';

/**
 * Bitget spellings of Tickwire names.
 *
 * Spot pairs: canonical "BTC/USDT" ↔ instType SPOT, instId "BTCUSDT".
 * USDT-margined perpetuals: canonical "BTC/USDT:USDT" (BASE/QUOTE:SETTLE, the settle-currency suffix used by
 * CCXT) ↔ instType USDT-FUTURES, instId "BTCUSDT". The suffix keeps a perpetual distinct from the spot pair of the
 * same assets, whose prices differ.
 *
 * Bitget's instIds cannot be split back without knowing the assets, so the way back goes through a map built from
 * the symbols a caller asked for.
 */

/** Suffix of a USDT-margined perpetual in canonical form. */
export const USDT_PERP_SUFFIX = ':USDT';

export interface BitgetInstrument {
  readonly instType: BitgetInstType;
  readonly instId: string;
}

/** True for "BTC/USDT" and "BTC/USDT:USDT" (the forms this adapter maps). */
export function isBitgetSymbol(symbol: string): boolean {
  return symbol.endsWith(USDT_PERP_SUFFIX)
    ? isCanonicalSymbol(symbol.slice(0, -USDT_PERP_SUFFIX.length))
    : isCanonicalSymbol(symbol);
}

/**
 * "BTC/USDT" → SPOT BTCUSDT; "BTC/USDT:USDT" → USDT-FUTURES BTCUSDT. Throws TickwireError INVALID_SYMBOL for any
 * other form (and for a ":USDT" perpetual whose quote is not USDT).
 */
export function toBitgetInstrument(symbol: string): BitgetInstrument {
  const perp = symbol.endsWith(USDT_PERP_SUFFIX);
  const pair = perp ? symbol.slice(0, -USDT_PERP_SUFFIX.length) : symbol;
  if (!isCanonicalSymbol(pair)) {
    throw new TickwireError(
      'INVALID_SYMBOL',
      `not a Bitget symbol (BASE/QUOTE for spot, BASE/USDT:USDT for USDT perpetuals): "${symbol}"`,
    );
  }
  const { base, quote } = splitSymbol(pair);
  if (perp && quote !== 'USDT') {
    throw new TickwireError('INVALID_SYMBOL', `a USDT perpetual must be quoted in USDT: "${symbol}"`);
  }
  return { instType: perp ? 'USDT-FUTURES' : 'SPOT', instId: base + quote };
}

/** Key of an instrument in a BitgetSymbolMap: "SPOT|BTCUSDT". */
export function instrumentKey(instType: string, instId: string): string {
  return `${instType}|${instId}`;
}

/** instrumentKey → canonical symbol, for the symbols of one subscription or request. */
export type BitgetSymbolMap = ReadonlyMap<string, string>;

/** Builds the map back from Bitget spelling to canonical symbols. Throws on a symbol this adapter cannot map. */
export function bitgetSymbolMap(symbols: readonly string[]): BitgetSymbolMap {
  const map = new Map<string, string>();
  for (const symbol of symbols) {
    const { instType, instId } = toBitgetInstrument(symbol);
    map.set(instrumentKey(instType, instId), symbol);
  }
  return map;
}

/**
 * WebSocket candle channels. Days and weeks use the `utc` variants: the plain `candle1D`/`candle1W` follow
 * Bitget's UTC+8 day, which would not match Tickwire's UTC buckets. Names are case-sensitive (`candle1h` is
 * refused with 30016).
 */
const CANDLE_CHANNEL: Readonly<Record<Interval, string>> = {
  '1m': 'candle1m',
  '5m': 'candle5m',
  '15m': 'candle15m',
  '1h': 'candle1H',
  '4h': 'candle4H',
  '1D': 'candle1Dutc',
  '1W': 'candle1Wutc',
};

/** Spot REST granularity strings (they differ from the channel names). */
const SPOT_GRANULARITY: Readonly<Record<Interval, string>> = {
  '1m': '1min',
  '5m': '5min',
  '15m': '15min',
  '1h': '1h',
  '4h': '4h',
  '1D': '1Dutc',
  '1W': '1Wutc',
};

/** Futures (mix) REST granularity strings. */
const MIX_GRANULARITY: Readonly<Record<Interval, string>> = {
  '1m': '1m',
  '5m': '5m',
  '15m': '15m',
  '1h': '1H',
  '4h': '4H',
  '1D': '1Dutc',
  '1W': '1Wutc',
};

const FROM_CANDLE_CHANNEL: ReadonlyMap<string, Interval> = new Map(
  (Object.entries(CANDLE_CHANNEL) as [Interval, string][]).map(([ours, theirs]) => [theirs, ours]),
);

/** Tickwire interval → WebSocket channel ("1h" → "candle1H", "1D" → "candle1Dutc"). */
export function candleChannel(interval: Interval): string {
  return CANDLE_CHANNEL[interval];
}

/** WebSocket channel → Tickwire interval; undefined for channels Tickwire does not keep (candle1D, candle30m...). */
export function fromCandleChannel(channel: string): Interval | undefined {
  return FROM_CANDLE_CHANNEL.get(channel);
}

/** Tickwire interval → REST granularity of the instrument family ("1m" → "1min" on spot, "1m" on futures). */
export function restGranularity(interval: Interval, instType: BitgetInstType): string {
  return instType === 'SPOT' ? SPOT_GRANULARITY[interval] : MIX_GRANULARITY[interval];
}

/** REST `productType` of USDT-margined futures. */
export const USDT_PRODUCT_TYPE = 'usdt-futures';
