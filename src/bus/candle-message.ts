import type { Candle, CandleState, CandleUpdate } from '../domain/candle.ts';
import { parseDecimal } from '../domain/decimal.ts';
import { isVenueId, type VenueId } from '../domain/instrument.ts';
import { isInterval } from '../domain/interval.ts';
import { plainText } from './market-message.ts';

/**
 * Bus encoding of a CandleUpdate: JSON with decimals as exact strings (`plainText`: the text `toPlainString` prints,
 * without its BigInt division per trailing zero; every live bar is encoded up to ten times a second).
 */
export function encodeCandleUpdate(update: CandleUpdate): string {
  const b = update.bar;
  return JSON.stringify({
    s: update.symbol,
    i: update.interval,
    st: update.state,
    src: update.sources,
    ...(update.backfilled === true ? { bf: 1 } : {}),
    b: [
      b.time,
      plainText(b.open),
      plainText(b.high),
      plainText(b.low),
      plainText(b.close),
      plainText(b.volume),
      plainText(b.quoteVolume),
      plainText(b.takerBuyVolume),
      plainText(b.takerBuyQuoteVolume),
      b.trades,
    ],
  });
}

/** The fixed start of every candle message: `{"s":"<symbol>","i":"<interval>"` (a symbol needs no escape). */
const ROOM_PREFIX = /^\{"s":"([^"\\]+)","i":"([0-9A-Za-z]+)"/;

/**
 * `symbol:interval` of a candle message, read from its first bytes without decoding it; undefined when the message
 * does not start as `encodeCandleUpdate` writes it (decoding it then tells what is wrong). Lets a gateway skip the
 * decoding of updates of series no client watches (their decimals are most of a decode's cost).
 */
export function candleMessageSeries(message: string): string | undefined {
  const m = ROOM_PREFIX.exec(message);
  return m === null ? undefined : `${m[1] as string}:${m[2] as string}`;
}

const STATES: readonly CandleState[] = ['live', 'closed', 'revised'];

/** Decodes `encodeCandleUpdate` output; throws on anything else. */
export function decodeCandleUpdate(message: string): CandleUpdate {
  const raw = JSON.parse(message) as {
    s?: unknown;
    i?: unknown;
    st?: unknown;
    src?: unknown;
    bf?: unknown;
    b?: unknown;
  };
  const { s, i, st, src, bf, b } = raw;
  if (typeof s !== 'string' || !isInterval(i) || !STATES.includes(st as CandleState)) {
    throw new Error('malformed candle message');
  }
  if (!Array.isArray(b) || b.length !== 10 || typeof b[0] !== 'number' || typeof b[9] !== 'number') {
    throw new Error('malformed candle message bar');
  }
  const sources: VenueId[] = Array.isArray(src) ? src.filter(isVenueId) : [];
  const d = (k: number): ReturnType<typeof parseDecimal> => parseDecimal(String(b[k]));
  const bar: Candle = {
    time: b[0],
    open: d(1),
    high: d(2),
    low: d(3),
    close: d(4),
    volume: d(5),
    quoteVolume: d(6),
    takerBuyVolume: d(7),
    takerBuyQuoteVolume: d(8),
    trades: b[9],
  };
  return { symbol: s, interval: i, state: st as CandleState, bar, sources, backfilled: bf === 1 };
}
