/**
 * The simulated Binance instruments: canonical symbol ↔ Binance name ("BTC/USDT" ↔ "BTCUSDT", streams in lower
 * case), each with its market.
 */
import type { SimMarket } from '../market/market.ts';
import { BinanceNumberFormat } from './format.ts';

export interface BinanceSimInstrument {
  /** "BTCUSDT". */
  readonly name: string;
  /** "btcusdt", as in stream names. */
  readonly streamName: string;
  readonly market: SimMarket;
  readonly fmt: BinanceNumberFormat;
}

/** "BTC/USDT" → "BTCUSDT". */
export function binanceName(canonical: string): string {
  return canonical.replace('/', '');
}

export class BinanceSimInstruments {
  private readonly byName = new Map<string, BinanceSimInstrument>();
  private readonly byMarket = new Map<SimMarket, BinanceSimInstrument>();

  constructor(markets: readonly SimMarket[]) {
    for (const market of markets) {
      const name = binanceName(market.spec.symbol);
      const instrument: BinanceSimInstrument = {
        name,
        streamName: name.toLowerCase(),
        market,
        fmt: new BinanceNumberFormat(market.spec),
      };
      this.byName.set(name, instrument);
      this.byMarket.set(market, instrument);
    }
  }

  /** By REST name ("BTCUSDT"); REST symbols are case-sensitive upper case as on Binance. */
  get(name: string): BinanceSimInstrument | undefined {
    return this.byName.get(name);
  }

  /** By stream prefix ("btcusdt"). */
  getByStreamName(streamName: string): BinanceSimInstrument | undefined {
    return this.byName.get(streamName.toUpperCase());
  }

  of(market: SimMarket): BinanceSimInstrument {
    const instrument = this.byMarket.get(market);
    if (instrument === undefined) throw new Error(`market ${market.spec.symbol} is not a Binance instrument`);
    return instrument;
  }

  all(): IterableIterator<BinanceSimInstrument> {
    return this.byName.values();
  }
}
