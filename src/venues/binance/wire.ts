/**
 * Binance spot wire formats (market streams and REST /api/v3), as sent by the exchange. Field letters are
 * Binance's; see ../../../docs/venues/BINANCE.md and the exchange docs for their meaning.
 */

/** Item of REST GET /api/v3/aggTrades, and the payload of the `<symbol>@aggTrade` stream (which adds e, E, s). */
export interface BinanceAggTrade {
  /** Aggregate trade id. */
  a: number;
  p: string;
  q: string;
  /** First and last individual trade id. */
  f: number;
  l: number;
  /** Trade time, ms (µs with timeUnit=MICROSECOND). */
  T: number;
  /** true when the buyer was the maker, i.e. the taker sold. */
  m: boolean;
  M?: boolean;
}

export interface BinanceAggTradeEvent extends BinanceAggTrade {
  e: 'aggTrade';
  E: number;
  s: string;
}
