import { TickwireError } from '../../domain/errors.ts';
import { isCanonicalSymbol, splitSymbol } from '../../domain/instrument.ts';
import type { Interval } from '../../domain/interval.ts';

/**
 * Binance spellings of Tickwire names. Binance writes a spot pair with no separator ("BTCUSDT") and stream names in
 * lower case ("btcusdt@aggTrade"). Because "BTCUSDT" cannot be split back without knowing the assets, the way back
 * always goes through a map built from the symbols a caller asked for.
 */

const TO_BINANCE_INTERVAL: Readonly<Record<Interval, string>> = {
  '1m': '1m',
  '5m': '5m',
  '15m': '15m',
  '1h': '1h',
  '4h': '4h',
  '1D': '1d',
  '1W': '1w',
};

const FROM_BINANCE_INTERVAL: ReadonlyMap<string, Interval> = new Map(
  (Object.entries(TO_BINANCE_INTERVAL) as [Interval, string][]).map(([ours, theirs]) => [theirs, ours]),
);

/** "BTC/USDT" → "BTCUSDT". Throws TickwireError INVALID_SYMBOL for a symbol that is not canonical. */
export function toBinanceSymbol(symbol: string): string {
  if (!isCanonicalSymbol(symbol)) {
    throw new TickwireError('INVALID_SYMBOL', `not a canonical symbol (BASE/QUOTE): "${symbol}"`);
  }
  const { base, quote } = splitSymbol(symbol);
  return base + quote;
}

/** Binance symbol ("BTCUSDT") → canonical symbol, for the symbols of one subscription or request. */
export type BinanceSymbolMap = ReadonlyMap<string, string>;

/** Builds the map back from Binance spelling to canonical symbols. Throws on a non-canonical symbol. */
export function binanceSymbolMap(symbols: readonly string[]): BinanceSymbolMap {
  const map = new Map<string, string>();
  for (const symbol of symbols) map.set(toBinanceSymbol(symbol), symbol);
  return map;
}

/** Tickwire interval → Binance interval name ("1D" → "1d"). */
export function toBinanceInterval(interval: Interval): string {
  return TO_BINANCE_INTERVAL[interval];
}

/** Binance interval name → Tickwire interval; undefined for intervals Tickwire does not keep (1s, 3m, 1M...). */
export function fromBinanceInterval(name: string): Interval | undefined {
  return FROM_BINANCE_INTERVAL.get(name);
}

/** Trade stream kinds Binance offers: one aggregated trade per taker order at one price, or every fill. */
export type BinanceTradeStream = 'aggTrade' | 'trade';

/** "BTC/USDT", "aggTrade" → "btcusdt@aggTrade". */
export function tradeStreamName(symbol: string, kind: BinanceTradeStream = 'aggTrade'): string {
  return `${toBinanceSymbol(symbol).toLowerCase()}@${kind}`;
}

/** "BTC/USDT", "1m" → "btcusdt@kline_1m". */
export function klineStreamName(symbol: string, interval: Interval): string {
  return `${toBinanceSymbol(symbol).toLowerCase()}@kline_${toBinanceInterval(interval)}`;
}

/**
 * The Binance symbol a stream name refers to, upper case ("ethusdt@depth20" → "ETHUSDT"); undefined for the
 * all-market streams ("!bookTicker", "!ticker@arr").
 */
export function streamSymbol(stream: string): string | undefined {
  if (stream.startsWith('!')) return undefined;
  const at = stream.indexOf('@');
  return (at < 0 ? stream : stream.slice(0, at)).toUpperCase();
}
