import type { Candle, CandleState, CandleUpdate } from '../domain/candle.ts';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import { isVenueId, type VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import type { CandleStore } from './candle-store.ts';

/**
 * The identity of a stored bar and what a store accepts. A persistent store keeps one row per venue that built
 * a bar, so the row key is (venue, symbol, interval, time), the venue being the first source ('' when unknown).
 */

/** The venue a row belongs to: the bar's first source, '' when the update names none. */
export function rowVenue(update: CandleUpdate): string {
  return update.sources[0] ?? '';
}

/**
 * The row key of an update, as one string (for maps that coalesce updates of the same row): the same string as
 * `candleRowKey` of its CandleRow.
 */
export function rowKey(update: CandleUpdate): string {
  return `${rowVenue(update)},${update.symbol},${update.interval},${update.bar.time}`;
}

/** Latest instant a JavaScript Date can hold; a bar time past it cannot be stored as a timestamp. */
const MAX_TIME_MS = 8.64e15;

/**
 * Throws a RangeError naming the bar when an update cannot be stored: a time that is not whole milliseconds
 * between the epoch and the end of Date's range, a trade count that is not a whole number, text with a NUL
 * character (PostgreSQL refuses it), or a comma or line break in its text (the separators of CandleRow; a
 * canonical symbol holds neither). Checked before a write is queued, because a bar the database refuses would
 * otherwise fail its whole batch on every retry.
 */
export function checkStorable(update: CandleUpdate): void {
  const { bar } = update;
  // Called twice for every bar stored (thousands per history piece): nothing is allocated unless it throws.
  if (!Number.isSafeInteger(bar.time) || bar.time < 0 || bar.time > MAX_TIME_MS) {
    throw new RangeError(`candle ${where(update)}: time must be whole milliseconds from 0 to ${MAX_TIME_MS}`);
  }
  if (!Number.isSafeInteger(bar.trades) || bar.trades < 0) {
    throw new RangeError(
      `candle ${where(update)}: trades must be a whole number >= 0, got ${String(bar.trades)}`,
    );
  }
  if (hasReserved(update.symbol) || hasReserved(update.interval) || update.sources.some(hasReserved)) {
    throw new RangeError(`candle ${where(update)}: text contains a NUL character, a comma or a line break`);
  }
}

function where(update: CandleUpdate): string {
  return `${update.symbol} ${update.interval} at ${String(update.bar.time)}`;
}

function hasReserved(text: string): boolean {
  return text.includes('\u0000') || text.includes(',') || text.includes('\n');
}

/**
 * A bar update as one line of text, the form in which the write buffer keeps bars until the database has them
 * and in which they travel to it: `venue,symbol,interval,time,open,high,low,close,volume,quote_volume,
 * taker_buy_volume,taker_buy_quote_volume,trades,state,backfilled,sources` (time in ms, decimals as their exact
 * text, backfilled `t` or `f`, sources separated by spaces). The start-up history waits for the embedded database
 * by the thousand bars: as updates, each was 18 objects (the bar, eight decimals and their BigInts) that every
 * young-generation collection had to copy, which made those collections the longest pauses of a start
 * (docs/PERFORMANCE.md, "Start-up stalls"); as a row it is one string.
 */
export type CandleRow = string;

/** Fields of a CandleRow. */
const ROW_FIELDS = 16;

/** A store that also takes bars as CandleRows (SqlCandleStore), as the write buffer hands them on. */
export interface CandleRowStore extends CandleStore {
  /** Stores the rows as `write` stores their updates. */
  writeRows(rows: readonly CandleRow[]): Promise<void>;
}

/** `update` as a CandleRow; check it with checkStorable first. */
export function encodeCandleRow(update: CandleUpdate): CandleRow {
  const b = update.bar;
  // join makes one flat string; concatenation would leave a tree of its parts, an object each, to be kept.
  return [
    rowVenue(update),
    update.symbol,
    update.interval,
    b.time,
    toPlainString(b.open),
    toPlainString(b.high),
    toPlainString(b.low),
    toPlainString(b.close),
    toPlainString(b.volume),
    toPlainString(b.quoteVolume),
    toPlainString(b.takerBuyVolume),
    toPlainString(b.takerBuyQuoteVolume),
    b.trades,
    update.state,
    update.backfilled === true ? 't' : 'f',
    update.sources.join(' '),
  ].join(',');
}

/** The update a CandleRow was made of (`backfilled` always present); throws on text that is not one. */
export function decodeCandleRow(row: CandleRow): CandleUpdate {
  const f = row.split(',');
  if (f.length !== ROW_FIELDS) throw new Error(`not a candle row: ${JSON.stringify(row.slice(0, 80))}`);
  const field = (i: number): string => f[i] as string;
  const sources = field(15) === '' ? [] : field(15).split(' ');
  if (!sources.every(isVenueId))
    throw new Error(`not a candle row: unknown source in ${JSON.stringify(field(15))}`);
  return {
    symbol: field(1),
    interval: field(2) as Interval,
    state: field(13) as CandleState,
    bar: candleOfFields(f, 3),
    sources: sources as VenueId[],
    backfilled: field(14) === 't',
  };
}

/**
 * The bar of ten text fields from `fields[at]` on: time (ms), the eight decimals in column order, the trade count.
 * A CandleRow holds them from its fourth field, a bar read from the database (SqlCandleStore) from its first.
 */
export function candleOfFields(fields: readonly string[], at: number): Candle {
  const field = (i: number): string => fields[at + i] as string;
  return {
    time: Number(field(0)),
    open: parseDecimal(field(1)),
    high: parseDecimal(field(2)),
    low: parseDecimal(field(3)),
    close: parseDecimal(field(4)),
    volume: parseDecimal(field(5)),
    quoteVolume: parseDecimal(field(6)),
    takerBuyVolume: parseDecimal(field(7)),
    takerBuyQuoteVolume: parseDecimal(field(8)),
    trades: Number(field(9)),
  };
}

/** The row key of a CandleRow: its first four fields (venue, symbol, interval, time), as one string. */
export function candleRowKey(row: CandleRow): string {
  let at = -1;
  for (let n = 0; n < 4; n++) at = row.indexOf(',', at + 1);
  return row.slice(0, at);
}

/**
 * True when `row` is a bar of the series (`symbol`, `interval`); `series` is `${symbol},${interval},`. Nothing is
 * allocated: the write buffer's overlay tests every waiting row this way and decodes only the matching ones.
 */
export function isRowOfSeries(row: CandleRow, series: string): boolean {
  return row.startsWith(series, row.indexOf(',') + 1);
}
