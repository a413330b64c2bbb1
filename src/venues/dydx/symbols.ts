import { TickwireError } from '../../domain/errors.ts';
import { isCanonicalSymbol, splitSymbol } from '../../domain/instrument.ts';
import type { Interval } from '../../domain/interval.ts';
import type { DydxResolution } from './wire.ts';

/**
 * dYdX spellings of Tickwire names. dYdX v4 lists perpetuals quoted in USD as "BASE-USD"; Tickwire writes them
 * "BASE/USD". Candle resolutions have their own names; dYdX has no weekly resolution, so 1W is built from 1DAY bars.
 */

const TO_RESOLUTION: Readonly<Record<Exclude<Interval, '1W'>, DydxResolution>> = {
  '1m': '1MIN',
  '5m': '5MINS',
  '15m': '15MINS',
  '1h': '1HOUR',
  '4h': '4HOURS',
  '1D': '1DAY',
};

const FROM_RESOLUTION: ReadonlyMap<string, Interval> = new Map(
  (Object.entries(TO_RESOLUTION) as [Interval, DydxResolution][]).map(([ours, theirs]) => [theirs, ours]),
);

/** Every resolution the indexer serves (30MINS has no Tickwire interval). */
export const DYDX_RESOLUTIONS: readonly DydxResolution[] = [
  '1MIN',
  '5MINS',
  '15MINS',
  '30MINS',
  '1HOUR',
  '4HOURS',
  '1DAY',
];

/** "BTC/USD" → "BTC-USD". Throws TickwireError INVALID_SYMBOL for a symbol that is not canonical. */
export function toDydxTicker(symbol: string): string {
  if (!isCanonicalSymbol(symbol)) {
    throw new TickwireError('INVALID_SYMBOL', `not a canonical symbol (BASE/QUOTE): "${symbol}"`);
  }
  const { base, quote } = splitSymbol(symbol);
  return `${base}-${quote}`;
}

/**
 * "BTC-USD" → "BTC/USD"; undefined for a ticker with no canonical form (dYdX lists some markets under long
 * identifiers such as "BUFFI,UNISWAP_V3,0X4C…-USD").
 */
export function fromDydxTicker(ticker: string): string | undefined {
  // Every book, trade and candle frame names its ticker: the answer is kept rather than rebuilt and re-checked
  // by a regular expression each time. The indexer lists a few hundred markets; a full cache starts again.
  const known = symbolOfTicker.get(ticker);
  if (known !== undefined || symbolOfTicker.has(ticker)) return known;
  const dash = ticker.lastIndexOf('-');
  const symbol = dash <= 0 ? undefined : `${ticker.slice(0, dash)}/${ticker.slice(dash + 1)}`;
  const canonical = symbol !== undefined && isCanonicalSymbol(symbol) ? symbol : undefined;
  if (symbolOfTicker.size >= MAX_KNOWN_TICKERS) symbolOfTicker.clear();
  symbolOfTicker.set(ticker, canonical);
  return canonical;
}

const MAX_KNOWN_TICKERS = 4096;
const symbolOfTicker = new Map<string, string | undefined>();

/** dYdX ticker → canonical symbol, for the symbols of one subscription or request. */
export type DydxSymbolMap = ReadonlyMap<string, string>;

/** Builds the map from dYdX tickers back to the canonical symbols asked for. Throws on a non-canonical symbol. */
export function dydxSymbolMap(symbols: readonly string[]): DydxSymbolMap {
  const map = new Map<string, string>();
  for (const symbol of symbols) map.set(toDydxTicker(symbol), symbol);
  return map;
}

/** Tickwire interval → dYdX resolution; undefined for 1W, which dYdX does not serve. */
export function toDydxResolution(interval: Interval): DydxResolution | undefined {
  return interval === '1W' ? undefined : TO_RESOLUTION[interval];
}

/** dYdX resolution → Tickwire interval; undefined for 30MINS and unknown names. */
export function fromDydxResolution(resolution: string): Interval | undefined {
  return FROM_RESOLUTION.get(resolution);
}

/** The v4_candles subscription id: "BTC/USD", "1m" → "BTC-USD/1MIN". Throws for 1W. */
export function candleChannelId(symbol: string, interval: Interval): string {
  const resolution = toDydxResolution(interval);
  if (resolution === undefined) {
    throw new TickwireError('VENUE_REJECTED', `dydx has no ${interval} candles; build them from 1DAY`);
  }
  return `${toDydxTicker(symbol)}/${resolution}`;
}

/** Splits a v4_candles id "BTC-USD/1MIN" into ticker and resolution; undefined when it has no "/". */
export function splitCandleChannelId(id: string): { ticker: string; resolution: string } | undefined {
  const slash = id.lastIndexOf('/');
  if (slash <= 0) return undefined;
  return { ticker: id.slice(0, slash), resolution: id.slice(slash + 1) };
}
