/**
 * Test support: the captured Binance XRP/ETH candle-aggregation dataset (test/fixtures/SOURCES.md, section
 * "Candle-aggregation dataset") and a reference rollup of official 1m klines into higher intervals.
 */
import { readFileSync } from 'node:fs';
import { type Decimal, add, compare, isZero, parseDecimal } from '../domain/decimal.ts';
import { bucketStart, type Interval } from '../domain/interval.ts';
import { FIXTURES_DIR } from '../../test/fixtures/index.ts';

const DIR = `${FIXTURES_DIR}binance/aggregation`;
const RANGE = '2019-10-11T0000Z_2019-10-12T1600Z';

export const AGG_TRADES_PATH = `${DIR}/binance_spot_XRPETH_aggTrades_rest_${RANGE}.jsonl`;
export const KLINES_1M_PATH = `${DIR}/binance_spot_XRPETH_klines_1m_${RANGE}.json`;
export const KLINES_5M_PATH = `${DIR}/binance_spot_XRPETH_klines_5m_${RANGE}.json`;
/** End of the captured window (exclusive). */
export const WINDOW_END = Date.UTC(2019, 9, 12, 16, 0);

/** An official kline reduced to what the dataset holds. */
export interface RefBar {
  time: number;
  open: Decimal;
  high: Decimal;
  low: Decimal;
  close: Decimal;
  volume: Decimal;
}

/** Official klines; JSON numbers are read back through their shortest decimal text. */
export function loadKlines(path: string): RefBar[] {
  const rows = JSON.parse(readFileSync(path, 'utf8')) as number[][];
  return rows.map((r) => {
    const d = (i: number): Decimal => parseDecimal(String(r[i]));
    return { time: r[0]!, open: d(1), high: d(2), low: d(3), close: d(4), volume: d(5) };
  });
}

/** The aggTrades lines (raw JSON text). */
export function loadAggTradeLines(): string[] {
  return readFileSync(AGG_TRADES_PATH, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/**
 * Reference rollup of official 1m klines: prices from the minutes that traded (volume > 0), flat at the previous
 * close only when the whole bucket traded nothing. The last bucket may be partial.
 */
export function rollUp(minutes: readonly RefBar[], interval: Interval): RefBar[] {
  const out: RefBar[] = [];
  let current: (RefBar & { traded: boolean }) | undefined;
  for (const m of minutes) {
    const bucket = bucketStart(interval, m.time);
    if (current === undefined || current.time !== bucket) {
      if (current !== undefined) out.push(current);
      current = { ...m, time: bucket, traded: !isZero(m.volume) };
      continue;
    }
    if (isZero(m.volume)) continue;
    if (!current.traded) {
      current = { ...m, time: bucket, traded: true };
      continue;
    }
    if (compare(m.high, current.high) > 0) current.high = m.high;
    if (compare(m.low, current.low) < 0) current.low = m.low;
    current.close = m.close;
    current.volume = add(current.volume, m.volume);
  }
  if (current !== undefined) out.push(current);
  return out.map(({ time, open, high, low, close, volume }) => ({ time, open, high, low, close, volume }));
}
