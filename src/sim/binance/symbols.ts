/**
 * The simulated Binance instruments: canonical symbol ↔ Binance name ("BTC/USDT" ↔ "BTCUSDT", streams in lower
 * case), each with its market.
 */
import type { SimMarket } from '../market/market.ts';
import { BinanceSimBook } from './book.ts';
import { BinanceNumberFormat } from './format.ts';

export interface BinanceSimInstrument {
  /** "BTCUSDT". */
  readonly name: string;
  /** "btcusdt", as in stream names. */
  readonly streamName: string;
  readonly market: SimMarket;
  readonly fmt: BinanceNumberFormat;
  /** The order book REST depth, `@depth`, `@bookTicker` and the 24 h ticker all read. */
  readonly book: BinanceSimBook;
}

/** "BTC/USDT" → "BTCUSDT". */
export function binanceName(canonical: string): string {
  return canonical.replace('/', '');
}

export class BinanceSimInstruments {
  private readonly byName = new Map<string, BinanceSimInstrument>();
  private readonly byMarket = new Map<SimMarket, BinanceSimInstrument>();

  /** `depthLevels`: levels a side each book keeps (a few more at times). */
  constructor(markets: readonly SimMarket[], seed: number, depthLevels: number) {
    for (const market of markets) {
      const name = binanceName(market.spec.symbol);
      const fmt = new BinanceNumberFormat(market.spec);
      const instrument: BinanceSimInstrument = {
        name,
        streamName: name.toLowerCase(),
        market,
        fmt,
        book: new BinanceSimBook(market, fmt, seed, depthLevels),
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
