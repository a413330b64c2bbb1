/**
 * Default market parameters per simulated symbol: starting price, tick size, lot step, daily volatility and the
 * median trade notional. Unknown symbols get the generic defaults (price about 100, tick 0.01, step 0.001), so any
 * canonical symbol can be simulated.
 */
import { parseDecimal, type Decimal } from '../../domain/decimal.ts';
import { splitSymbol } from '../../domain/instrument.ts';

export interface SimSymbolSpec {
  /** Canonical "BASE/QUOTE". */
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** Price the walk is anchored to (weak mean reversion keeps it in the neighbourhood). */
  readonly anchorPrice: number;
  readonly tick: Decimal;
  readonly step: Decimal;
  /** Standard deviation of the daily log return in calm regimes. */
  readonly dailyVolatility: number;
  /** Median notional of one aggregate trade, in quote units; sizes are Pareto-tailed around it. */
  readonly medianNotional: number;
}

interface Defaults {
  readonly price: number;
  readonly tick: string;
  readonly step: string;
  readonly vol: number;
  readonly notional: number;
}

const KNOWN: Readonly<Record<string, Defaults>> = {
  BTC: { price: 67_000, tick: '0.01', step: '0.00001', vol: 0.025, notional: 250 },
  ETH: { price: 3_500, tick: '0.01', step: '0.0001', vol: 0.032, notional: 180 },
  SOL: { price: 150, tick: '0.01', step: '0.001', vol: 0.045, notional: 90 },
};

const GENERIC: Defaults = { price: 100, tick: '0.01', step: '0.001', vol: 0.04, notional: 60 };

/** The spec of a canonical symbol ("BTC/USDT"); throws on a symbol that is not canonical. */
export function symbolSpec(symbol: string): SimSymbolSpec {
  const { base, quote } = splitSymbol(symbol);
  const d = KNOWN[base] ?? GENERIC;
  return {
    symbol,
    base,
    quote,
    anchorPrice: d.price,
    tick: parseDecimal(d.tick),
    step: parseDecimal(d.step),
    dailyVolatility: d.vol,
    medianNotional: d.notional,
  };
}
