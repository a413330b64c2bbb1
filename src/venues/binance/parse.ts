import { parseDecimal } from '../../domain/decimal.ts';
import type { Trade } from '../../domain/trade.ts';
import type { BinanceAggTrade } from './wire.ts';

/**
 * Maps one aggregate trade (REST item or stream payload) to a Trade. `m` = buyer is maker, so the taker sold.
 * Throws (DecimalFormatError or Error) when a field is missing or malformed; callers decide whether to skip.
 */
export function parseAggTrade(raw: BinanceAggTrade, symbol: string, receivedAt: number): Trade {
  if (!Number.isSafeInteger(raw.a) || !Number.isSafeInteger(raw.f) || !Number.isSafeInteger(raw.l)) {
    throw new Error('aggTrade ids a/f/l must be integers');
  }
  if (!Number.isFinite(raw.T)) throw new Error('aggTrade time T must be a number');
  if (typeof raw.m !== 'boolean') throw new Error('aggTrade flag m must be a boolean');
  return {
    venue: 'binance',
    symbol,
    id: String(raw.a),
    seq: raw.a,
    price: parseDecimal(raw.p),
    size: parseDecimal(raw.q),
    side: raw.m ? 'sell' : 'buy',
    fills: raw.l - raw.f + 1,
    time: raw.T,
    receivedAt,
  };
}
