/**
 * The simulated Bitget instruments: for each canonical symbol ("BTC/USDT"), a SPOT instrument and a USDT-FUTURES
 * one when the pair is USDT-quoted (index.ts `bitgetLists`), both named "BTCUSDT" on the wire, each with its own market (a perpetual trades near, not at, the spot
 * price). Numbers are printed the Bitget way: prices and trade sizes without trailing zeros ("83715.7"), book sizes
 * at the lot precision ("1600.00"), so a client that checksums re-formatted numbers instead of the original
 * strings fails.
 */
import { normalize, toFixedString, toPlainString, type Decimal } from '../../domain/decimal.ts';
import type { AggregatedBar } from '../market/bars.ts';
import { fixedRule, MONDAY_ORIGIN_MS, type BucketRule } from '../market/buckets.ts';
import type { SimMarket } from '../market/market.ts';
import type { SimSymbolSpec } from '../market/symbol-specs.ts';

export type BitgetSimInstType = 'SPOT' | 'USDT-FUTURES';

export const BITGET_SIM_INST_TYPES: readonly BitgetSimInstType[] = ['SPOT', 'USDT-FUTURES'];

/** Prints prices (ticks), sizes (lots) and quote amounts (ticks × lots) of one symbol. */
export class BitgetNumberFormat {
  private readonly quoteUnit: Decimal;

  constructor(readonly spec: SimSymbolSpec) {
    this.quoteUnit = { coef: spec.tick.coef * spec.step.coef, scale: spec.tick.scale + spec.step.scale };
  }

  price(ticks: number): string {
    return toPlainString({ coef: BigInt(ticks) * this.spec.tick.coef, scale: this.spec.tick.scale });
  }

  size(lots: number | bigint): string {
    return toPlainString({ coef: BigInt(lots) * this.spec.step.coef, scale: this.spec.step.scale });
  }

  /** Size with every lot digit kept, as Bitget prints book levels. */
  bookSize(lots: number): string {
    const value: Decimal = { coef: BigInt(lots) * this.spec.step.coef, scale: this.spec.step.scale };
    return toFixedString(value, Math.max(2, normalize(this.spec.step).scale));
  }

  quote(units: bigint): string {
    return toPlainString({ coef: units * this.quoteUnit.coef, scale: this.quoteUnit.scale });
  }
}

export interface BitgetSimInstrument {
  readonly instType: BitgetSimInstType;
  /** "BTCUSDT". */
  readonly instId: string;
  /** The market's canonical pair ("BTC/USDT"). */
  readonly symbol: string;
  /**
   * The name fault injection addresses: the pair for spot, "BTC/USDT:USDT" for the perpetual (Tickwire's canonical
   * form of a USDT perpetual), so a fault can target one of the two.
   */
  readonly faultSymbol: string;
  readonly market: SimMarket;
  readonly fmt: BitgetNumberFormat;
}

/** "BTC/USDT" → "BTCUSDT". */
export function bitgetInstId(canonical: string): string {
  return canonical.replace('/', '');
}

export class BitgetSimInstruments {
  private readonly byKey = new Map<string, BitgetSimInstrument>();
  private readonly byMarket = new Map<SimMarket, BitgetSimInstrument>();

  add(instType: BitgetSimInstType, market: SimMarket): void {
    const instId = bitgetInstId(market.spec.symbol);
    const instrument: BitgetSimInstrument = {
      instType,
      instId,
      symbol: market.spec.symbol,
      faultSymbol: instType === 'SPOT' ? market.spec.symbol : `${market.spec.symbol}:USDT`,
      market,
      fmt: new BitgetNumberFormat(market.spec),
    };
    this.byKey.set(`${instType}|${instId}`, instrument);
    this.byMarket.set(market, instrument);
  }

  /** By family and wire name; instIds are case-sensitive upper case as on Bitget. */
  get(instType: string, instId: string): BitgetSimInstrument | undefined {
    return this.byKey.get(`${instType}|${instId}`);
  }

  of(market: SimMarket): BitgetSimInstrument {
    const instrument = this.byMarket.get(market);
    if (instrument === undefined) throw new Error(`market ${market.spec.symbol} is not a Bitget instrument`);
    return instrument;
  }

  all(): IterableIterator<BitgetSimInstrument> {
    return this.byKey.values();
  }
}

/**
 * Candle row of a bar: `[ts, open, high, low, close, baseVolume, quoteVolume, usdtVolume]`; futures REST rows stop
 * after quoteVolume (7 items). In the simulator every quote is USDT-like, so usdtVolume = quoteVolume.
 */
export function candleRow(bar: AggregatedBar, fmt: BitgetNumberFormat, items: 7 | 8): string[] {
  const quote = fmt.quote(bar.q);
  const row = [
    String(bar.openTime),
    fmt.price(bar.o),
    fmt.price(bar.h),
    fmt.price(bar.l),
    fmt.price(bar.c),
    fmt.size(bar.v),
    quote,
  ];
  if (items === 8) row.push(quote);
  return row;
}

/**
 * Bitget-style trade id of aggregate trade `a`: increasing with `a` but with gaps (ids are not contiguous on
 * Bitget), and beyond 2^53 like the real ones, so a client must keep them as text.
 */
export function bitgetTradeId(a: number): string {
  return (1_200_000_000_000_000_000n + BigInt(a) * 4099n + BigInt((a * 7919) % 4093)).toString();
}

const MINUTE = 60_000;
const WEEK = 7 * 1440 * MINUTE;

/** UTC bucket rule of a bar size: weeks start on Monday 00:00 UTC, everything else counts from the epoch. */
export function bucketRuleOf(ms: number): BucketRule {
  return ms === WEEK ? fixedRule(ms, MONDAY_ORIGIN_MS) : fixedRule(ms);
}

/** Intervals served (UTC buckets only): WebSocket channel / REST granularity → bar size in ms. */
export const BITGET_CHANNEL_INTERVALS: ReadonlyMap<string, number> = new Map([
  ['candle1m', MINUTE],
  ['candle5m', 5 * MINUTE],
  ['candle15m', 15 * MINUTE],
  ['candle30m', 30 * MINUTE],
  ['candle1H', 60 * MINUTE],
  ['candle4H', 240 * MINUTE],
  ['candle6Hutc', 360 * MINUTE],
  ['candle12Hutc', 720 * MINUTE],
  ['candle1Dutc', 1440 * MINUTE],
  ['candle1Wutc', 7 * 1440 * MINUTE],
]);

export const BITGET_SPOT_GRANULARITIES: ReadonlyMap<string, number> = new Map([
  ['1min', MINUTE],
  ['5min', 5 * MINUTE],
  ['15min', 15 * MINUTE],
  ['30min', 30 * MINUTE],
  ['1h', 60 * MINUTE],
  ['4h', 240 * MINUTE],
  ['6Hutc', 360 * MINUTE],
  ['12Hutc', 720 * MINUTE],
  ['1Dutc', 1440 * MINUTE],
  ['1Wutc', 7 * 1440 * MINUTE],
]);

export const BITGET_MIX_GRANULARITIES: ReadonlyMap<string, number> = new Map([
  ['1m', MINUTE],
  ['5m', 5 * MINUTE],
  ['15m', 15 * MINUTE],
  ['30m', 30 * MINUTE],
  ['1H', 60 * MINUTE],
  ['4H', 240 * MINUTE],
  ['6Hutc', 360 * MINUTE],
  ['12Hutc', 720 * MINUTE],
  ['1Dutc', 1440 * MINUTE],
  ['1Wutc', 7 * 1440 * MINUTE],
]);
