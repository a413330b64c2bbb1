/**
 * The simulated dYdX v4 perpetual markets: canonical symbol ↔ ticker ("BTC/USD" ↔ "BTC-USD"), the chain parameters
 * of each market (atomicResolution, quantumConversionExponent, stepBaseQuantums, subticksPerTick) chosen so that
 * they give exactly the simulated market's tick and lot step, block heights, and the indexer's number formats
 * (plain decimals without trailing zeros: "3392.9", "65920").
 */
import { toPlainString, type Decimal } from '../../domain/decimal.ts';
import type { SimMarket, SimTrade } from '../market/market.ts';

/** USDC has 6 decimals on chain. */
const QUOTE_DECIMALS = 6;
/** Height of the first simulated block (2024-01-01T00:00:00Z); heights then count blocks of `blockMs`. */
const HEIGHT_ORIGIN_MS = Date.UTC(2024, 0, 1);
const HEIGHT_BASE = 10_000_000;

/** The chain parameters of a market. */
export interface DydxSimMarketParams {
  readonly clobPairId: number;
  readonly atomicResolution: number;
  readonly quantumConversionExponent: number;
  readonly stepBaseQuantums: number;
  readonly subticksPerTick: number;
}

/**
 * Parameters that reproduce `tick` and `step` exactly: stepSize = stepBaseQuantums × 10^ar and
 * tickSize = subticksPerTick × 10^(qce − ar − 6), with the real markets' choice qce = −9 where it fits.
 */
export function marketParams(clobPairId: number, tick: Decimal, step: Decimal): DydxSimMarketParams {
  const atomicResolution = -(step.scale + 5);
  const quantumConversionExponent = Math.min(-9, atomicResolution + QUOTE_DECIMALS - tick.scale);
  const stepBaseQuantums = Number(step.coef * 10n ** 5n);
  const tickExponent = -tick.scale - quantumConversionExponent + atomicResolution + QUOTE_DECIMALS;
  const subticksPerTick = Number(tick.coef * 10n ** BigInt(tickExponent));
  return { clobPairId, atomicResolution, quantumConversionExponent, stepBaseQuantums, subticksPerTick };
}

function units(count: bigint | number, unit: Decimal): string {
  return toPlainString({ coef: BigInt(count) * unit.coef, scale: unit.scale });
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

export class DydxSimInstrument {
  /** "BTC-USD". */
  readonly ticker: string;
  readonly params: DydxSimMarketParams;
  private readonly quoteUnit: Decimal;

  constructor(
    readonly market: SimMarket,
    clobPairId: number,
    private readonly blockMs: number,
  ) {
    this.ticker = market.spec.symbol.replace('/', '-');
    const { tick, step } = market.spec;
    this.params = marketParams(clobPairId, tick, step);
    this.quoteUnit = { coef: tick.coef * step.coef, scale: tick.scale + step.scale };
  }

  price(ticks: number): string {
    return units(ticks, this.market.spec.tick);
  }

  size(lots: number | bigint): string {
    return units(lots, this.market.spec.step);
  }

  /** A quote amount in tick × lot units, in USD. */
  usd(quoteUnits: bigint): string {
    return units(quoteUnits, this.quoteUnit);
  }

  /** Block height of a trade time. */
  height(timeMs: number): number {
    return HEIGHT_BASE + Math.floor((timeMs - HEIGHT_ORIGIN_MS) / this.blockMs);
  }

  /** Start time of a block (every trade of the block carries it as `createdAt`). */
  blockTime(height: number): number {
    return HEIGHT_ORIGIN_MS + (height - HEIGHT_BASE) * this.blockMs;
  }

  /**
   * The indexer-style id of one fill: block height, a constant event type, and the fill's number, in hex. Unique,
   * but (as on dYdX) not a sequence a client may rely on.
   */
  tradeId(trade: SimTrade, fillId: number): string {
    return `${hex8(this.height(trade.T))}00000002${hex8(fillId)}`;
  }
}

/** The instruments of the simulated venue, by ticker and by market. */
export class DydxSimInstruments {
  private readonly byTicker = new Map<string, DydxSimInstrument>();
  private readonly byMarket = new Map<SimMarket, DydxSimInstrument>();

  constructor(markets: readonly SimMarket[], blockMs: number) {
    markets.forEach((market, i) => {
      const instrument = new DydxSimInstrument(market, i, blockMs);
      this.byTicker.set(instrument.ticker, instrument);
      this.byMarket.set(market, instrument);
    });
  }

  get(ticker: string): DydxSimInstrument | undefined {
    return this.byTicker.get(ticker);
  }

  of(market: SimMarket): DydxSimInstrument {
    const instrument = this.byMarket.get(market);
    if (instrument === undefined) throw new Error(`market ${market.spec.symbol} is not a dYdX instrument`);
    return instrument;
  }

  all(): IterableIterator<DydxSimInstrument> {
    return this.byTicker.values();
  }
}
