import { TickwireError } from '../../domain/errors.ts';
import { isCanonicalSymbol, splitSymbol } from '../../domain/instrument.ts';
import type { Interval } from '../../domain/interval.ts';

/**
 * OKX spellings of Tickwire names. Spot instruments are "BASE-QUOTE" ("BTC-USDT"); the way back goes through a
 * map built from the symbols a caller asked for, so frames for other instruments (swaps, futures) are ignored.
 * Bars of 6 h and longer use OKX's UTC-anchored names ("1Dutc"), because the plain ones start at UTC+8.
 */

const TO_OKX_BAR: Readonly<Record<Interval, string>> = {
  '1m': '1m',
  '5m': '5m',
  '15m': '15m',
  '1h': '1H',
  '4h': '4H',
  '1D': '1Dutc',
  '1W': '1Wutc',
};

const FROM_OKX_BAR: ReadonlyMap<string, Interval> = new Map(
  (Object.entries(TO_OKX_BAR) as [Interval, string][]).map(([ours, theirs]) => [theirs, ours]),
);

/** "BTC/USDT" → "BTC-USDT". Throws TickwireError INVALID_SYMBOL for a symbol that is not canonical. */
export function toOkxInstId(symbol: string): string {
  if (!isCanonicalSymbol(symbol)) {
    throw new TickwireError('INVALID_SYMBOL', `not a canonical symbol (BASE/QUOTE): "${symbol}"`);
  }
  const { base, quote } = splitSymbol(symbol);
  return `${base}-${quote}`;
}

/** OKX instId ("BTC-USDT") → canonical symbol, for the symbols of one subscription or request. */
export type OkxSymbolMap = ReadonlyMap<string, string>;

/** Builds the map back from OKX instIds to canonical symbols. Throws on a non-canonical symbol. */
export function okxSymbolMap(symbols: readonly string[]): OkxSymbolMap {
  const map = new Map<string, string>();
  for (const symbol of symbols) map.set(toOkxInstId(symbol), symbol);
  return map;
}

/** Tickwire interval → OKX bar name ("1h" → "1H", "1D" → "1Dutc"). */
export function toOkxBar(interval: Interval): string {
  return TO_OKX_BAR[interval];
}

/** OKX bar name → Tickwire interval; undefined for bars Tickwire does not keep (1s, 3m, UTC+8 days...). */
export function fromOkxBar(bar: string): Interval | undefined {
  return FROM_OKX_BAR.get(bar);
}

/** "1m" → "candle1m", "1D" → "candle1Dutc". */
export function candleChannel(interval: Interval): string {
  return `candle${toOkxBar(interval)}`;
}

/** The interval of a candle channel name ("candle1Dutc" → "1D"); undefined for other channels or bars. */
export function candleChannelInterval(channel: string): Interval | undefined {
  return channel.startsWith('candle') ? fromOkxBar(channel.slice('candle'.length)) : undefined;
}
