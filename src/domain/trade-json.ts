/**
 * Tickwire's JSON form of a normalized Trade ("tickwire-json"), one object per line in trade files:
 *
 *   {"venue":"binance","symbol":"XRP/ETH","id":"13519807","seq":13519807,"price":"0.00141342","size":"23",
 *    "side":"sell","fills":1,"time":1570752011620,"receivedAt":1570752011700}
 *
 * - price and size are decimal strings, kept exact (a JSON number is accepted on input but may already have lost
 *   digits in whoever wrote it);
 * - id is a string (venue ids can exceed 2^53); seq is an optional safe integer;
 * - side is the taker's side, "buy" or "sell"; fills defaults to 1; time and receivedAt are ms UTC, receivedAt
 *   defaults to time.
 */
import { toPlainString, tryParseDecimal } from './decimal.ts';
import { TickwireError } from './errors.ts';
import { isVenueId } from './instrument.ts';
import type { Trade } from './trade.ts';

/** The JSON text of a trade (no trailing newline). */
export function encodeTradeJson(trade: Trade): string {
  return JSON.stringify({
    venue: trade.venue,
    symbol: trade.symbol,
    id: trade.id,
    ...(trade.seq === undefined ? {} : { seq: trade.seq }),
    price: toPlainString(trade.price),
    size: toPlainString(trade.size),
    side: trade.side,
    fills: trade.fills,
    time: trade.time,
    receivedAt: trade.receivedAt,
  });
}

function invalid(reason: string): TickwireError {
  return new TickwireError('INPUT_INVALID', `tickwire-json trade: ${reason}`);
}

/** Parses `encodeTradeJson` output. Throws a TickwireError (INPUT_INVALID) naming the bad field. */
export function decodeTradeJson(text: string): Trade {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid('not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (!isVenueId(o.venue)) throw invalid(`unknown venue ${JSON.stringify(o.venue)}`);
  if (typeof o.symbol !== 'string' || o.symbol === '') throw invalid('symbol must be a non-empty string');
  if (typeof o.id !== 'string' && typeof o.id !== 'number') throw invalid('id must be a string');
  if (o.seq !== undefined && !Number.isSafeInteger(o.seq)) throw invalid('seq must be a safe integer');
  const price = tryParseDecimal(o.price);
  if (price === undefined) throw invalid('price must be a decimal string');
  const size = tryParseDecimal(o.size);
  if (size === undefined) throw invalid('size must be a decimal string');
  if (o.side !== 'buy' && o.side !== 'sell') throw invalid('side must be "buy" or "sell"');
  const fills = o.fills ?? 1;
  if (!Number.isSafeInteger(fills) || (fills as number) < 1)
    throw invalid('fills must be a positive integer');
  if (!Number.isSafeInteger(o.time)) throw invalid('time must be an integer (ms UTC)');
  const receivedAt = o.receivedAt ?? o.time;
  if (!Number.isSafeInteger(receivedAt)) throw invalid('receivedAt must be an integer (ms UTC)');
  return {
    venue: o.venue,
    symbol: o.symbol,
    id: String(o.id),
    seq: o.seq as number | undefined,
    price,
    size,
    side: o.side,
    fills: fills as number,
    time: o.time as number,
    receivedAt: receivedAt as number,
  };
}
