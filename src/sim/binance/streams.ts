/**
 * Binance market stream names the simulator serves: `<symbol>@aggTrade`, `@trade`, `@kline_<interval>`,
 * `@bookTicker`, `@ticker` and the diff-depth streams `@depth` / `@depth@100ms`. A name that parses but names an unknown symbol or kind is still accepted and listed
 * (Binance acknowledges such subscriptions and then sends nothing); it simply never carries data.
 */
import type { BucketRule } from '../market/buckets.ts';
import { BINANCE_INTERVALS } from './intervals.ts';

export type BinanceStreamKind =
  | { readonly type: 'aggTrade' | 'trade' | 'bookTicker' | 'ticker' }
  | { readonly type: 'depth'; readonly speedMs: 100 | 1000 }
  | { readonly type: 'kline'; readonly interval: string; readonly rule: BucketRule };

export interface ParsedStream {
  /** Lower-case symbol part, e.g. "btcusdt". */
  readonly symbol: string;
  readonly kind: BinanceStreamKind;
  /** Canonical key used to index subscribers ("btcusdt@kline_1m"). */
  readonly key: string;
}

/** Parses a stream name; undefined for names the simulator does not produce (never an exception). */
export function parseStreamName(name: string): ParsedStream | undefined {
  const at = name.indexOf('@');
  if (at <= 0) return undefined;
  const symbol = name.slice(0, at).toLowerCase();
  const rest = name.slice(at + 1);
  if (rest === 'aggTrade' || rest === 'trade' || rest === 'bookTicker' || rest === 'ticker') {
    return { symbol, kind: { type: rest }, key: `${symbol}@${rest}` };
  }
  if (rest === 'depth' || rest === 'depth@1000ms' || rest === 'depth@100ms') {
    const speedMs = rest === 'depth@100ms' ? 100 : 1000;
    return {
      symbol,
      kind: { type: 'depth', speedMs },
      key: `${symbol}@${speedMs === 100 ? 'depth@100ms' : 'depth'}`,
    };
  }
  if (rest.startsWith('kline_')) {
    const interval = rest.slice('kline_'.length);
    const rule = BINANCE_INTERVALS.get(interval);
    if (rule === undefined) return undefined;
    return { symbol, kind: { type: 'kline', interval, rule }, key: `${symbol}@kline_${interval}` };
  }
  return undefined;
}
