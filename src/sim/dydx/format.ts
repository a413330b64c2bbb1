/**
 * dYdX v4 Indexer payloads built from the simulated markets: trades (one per fill), candles, markets, book levels.
 * Field names and number formats follow the indexer (prices and sizes as plain decimal strings, times ISO-8601,
 * heights as decimal strings, candle lists newest first).
 */
import { DAY_MS, MINUTE_MS } from '../../domain/interval.ts';
import { aggregateWindowToOpenMinute, type AggregatedBar } from '../market/bars.ts';
import { fixedRule, type BucketRule } from '../market/buckets.ts';
import { fillLots, type SimTrade } from '../market/market.ts';
import type { DydxSimInstrument } from './instruments.ts';

export type DydxSimResolution = '1MIN' | '5MINS' | '15MINS' | '30MINS' | '1HOUR' | '4HOURS' | '1DAY';

/** Every resolution the indexer serves and its bucket rule (UTC, from the epoch). */
export const RESOLUTIONS: ReadonlyMap<string, BucketRule> = new Map<DydxSimResolution, BucketRule>([
  ['1MIN', fixedRule(MINUTE_MS)],
  ['5MINS', fixedRule(5 * MINUTE_MS)],
  ['15MINS', fixedRule(15 * MINUTE_MS)],
  ['30MINS', fixedRule(30 * MINUTE_MS)],
  ['1HOUR', fixedRule(60 * MINUTE_MS)],
  ['4HOURS', fixedRule(240 * MINUTE_MS)],
  ['1DAY', fixedRule(DAY_MS)],
]);

export interface DydxSimTrade {
  id: string;
  side: 'BUY' | 'SELL';
  size: string;
  price: string;
  type: 'LIMIT' | 'LIQUIDATED' | 'DELEVERAGED';
  createdAt: string;
  createdAtHeight?: string;
}

export interface DydxSimCandle {
  startedAt: string;
  ticker: string;
  resolution: string;
  low: string;
  high: string;
  open: string;
  close: string;
  baseTokenVolume: string;
  usdVolume: string;
  trades: number;
  startingOpenInterest: string;
}

export interface DydxSimMarket {
  clobPairId: string;
  ticker: string;
  status: 'ACTIVE';
  oraclePrice: string;
  priceChange24H: string;
  volume24H: string;
  trades24H: number;
  nextFundingRate: string;
  initialMarginFraction: string;
  maintenanceMarginFraction: string;
  openInterest: string;
  atomicResolution: number;
  quantumConversionExponent: number;
  tickSize: string;
  stepSize: string;
  stepBaseQuantums: number;
  subticksPerTick: number;
  marketType: 'CROSS';
  openInterestLowerCap: string;
  openInterestUpperCap: string;
  baseOpenInterest: string;
}

/** Liquidations and deleveragings are rare fills; which ones is a fixed function of the fill number. */
function tradeType(fillId: number): DydxSimTrade['type'] {
  if (fillId % 997 === 13) return 'DELEVERAGED';
  if (fillId % 89 === 7) return 'LIQUIDATED';
  return 'LIMIT';
}

/** One indexer trade per individual fill of `trade`, in fill order; `withHeight` adds createdAtHeight (REST). */
export function fillTrades(
  instrument: DydxSimInstrument,
  trade: SimTrade,
  withHeight: boolean,
): DydxSimTrade[] {
  const height = instrument.height(trade.T);
  const createdAt = new Date(instrument.blockTime(height)).toISOString();
  const out: DydxSimTrade[] = [];
  for (let id = trade.f; id <= trade.l; id++) {
    const item: DydxSimTrade = {
      id: instrument.tradeId(trade, id),
      side: trade.buyerMaker ? 'SELL' : 'BUY',
      size: instrument.size(fillLots(trade, id - trade.f)),
      price: instrument.price(trade.ticks),
      type: tradeType(id),
      createdAt,
    };
    if (withHeight) item.createdAtHeight = String(height);
    out.push(item);
  }
  return out;
}

/** A candle object of `bar`. startingOpenInterest is a fixed figure: the simulator has no positions. */
export function candleObject(
  instrument: DydxSimInstrument,
  resolution: string,
  bar: AggregatedBar,
): DydxSimCandle {
  return {
    startedAt: new Date(bar.openTime).toISOString(),
    ticker: instrument.ticker,
    resolution,
    low: instrument.price(bar.l),
    high: instrument.price(bar.h),
    open: instrument.price(bar.o),
    close: instrument.price(bar.c),
    baseTokenVolume: instrument.size(bar.v),
    usdVolume: instrument.usd(bar.q),
    trades: bar.n,
    startingOpenInterest: '1000',
  };
}

/** The market object of /v4/perpetualMarkets and v4_markets; 24 h figures from the last 1440 minutes. */
export function marketObject(instrument: DydxSimInstrument): DydxSimMarket {
  const { market, params } = instrument;
  const minutes = market.minutes;
  const to = minutes.length;
  const from = Math.max(0, to - 1440);
  // A minute without trades adds nothing to either sum, so the sums of the traded minutes are the day's.
  const { q, n } = aggregateWindowToOpenMinute(minutes, from, to, 0, 0);
  const last = market.lastTicks;
  return {
    clobPairId: String(params.clobPairId),
    ticker: instrument.ticker,
    status: 'ACTIVE',
    oraclePrice: instrument.price(last),
    priceChange24H: instrument.price(last - (from < to ? minutes.open(from) : last)),
    volume24H: instrument.usd(q),
    trades24H: n,
    nextFundingRate: '0',
    initialMarginFraction: '0.05',
    maintenanceMarginFraction: '0.03',
    openInterest: '1000',
    atomicResolution: params.atomicResolution,
    quantumConversionExponent: params.quantumConversionExponent,
    tickSize: instrument.price(1),
    stepSize: instrument.size(1),
    stepBaseQuantums: params.stepBaseQuantums,
    subticksPerTick: params.subticksPerTick,
    marketType: 'CROSS',
    openInterestLowerCap: '0',
    openInterestUpperCap: '0',
    baseOpenInterest: '1000',
  };
}
