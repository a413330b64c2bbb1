/**
 * The OKX `tickers` item of an instrument: last trade, top of the simulated book, and rolling 24 h statistics over
 * whole minutes (vol24h in base, volCcy24h in quote, as OKX does for spot).
 */
import { DAY_MS, MINUTE_MS } from '../../domain/interval.ts';
import { aggregateWindowToOpenMinute, type MinuteBars } from '../market/bars.ts';
import type { OkxSimInstrumentEntry } from './instruments.ts';
import type { OkxSimTicker } from './wire.ts';

const DAY_OF_MINUTES = DAY_MS / MINUTE_MS;
const UTC8_MS = 8 * 60 * MINUTE_MS;

/** Price of the minute that opens at `t` (its open, or the previous close when empty). */
function openAt(minutes: MinuteBars, t: number): number | undefined {
  const i = minutes.indexOf(t);
  return i >= 0 && i < minutes.length ? minutes.open(i) : undefined;
}

export function tickerOf(instrument: OkxSimInstrumentEntry, nowMs: number): OkxSimTicker {
  const { market, fmt, book } = instrument;
  const minutes = market.minutes;
  const to = minutes.length;
  const from = Math.max(0, to - DAY_OF_MINUTES);
  const stats = aggregateWindowToOpenMinute(minutes, from, to, minutes.time(from), nowMs);
  const last = market.recentTrades().at(-1);
  const top = book.top(1);
  const bid = top.bids[0];
  const ask = top.asks[0];
  const dayUtc = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const dayUtc8 = Math.floor((nowMs + UTC8_MS) / DAY_MS) * DAY_MS - UTC8_MS;
  return {
    instType: 'SPOT',
    instId: instrument.instId,
    last: fmt.price(market.lastTicks),
    lastSz: fmt.size(last?.lots ?? 0),
    askPx: ask?.[0] ?? '',
    askSz: ask?.[1] ?? '',
    bidPx: bid?.[0] ?? '',
    bidSz: bid?.[1] ?? '',
    open24h: fmt.price(stats.o),
    high24h: fmt.price(stats.h),
    low24h: fmt.price(stats.l),
    volCcy24h: fmt.quote(stats.q),
    vol24h: fmt.size(stats.v),
    sodUtc0: fmt.price(openAt(minutes, dayUtc) ?? stats.o),
    sodUtc8: fmt.price(openAt(minutes, dayUtc8) ?? stats.o),
    ts: String(nowMs),
  };
}
