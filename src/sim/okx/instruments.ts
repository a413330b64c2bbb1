/**
 * The simulated OKX spot instruments: canonical symbol ↔ instId ("BTC/USDT" ↔ "BTC-USDT"), each with its market and
 * OKX's number printing (plain decimals without trailing zeros: "67000.1", "0.0021").
 */
import type { SimMarket } from '../market/market.ts';
import { OkxSimBookModel } from './book.ts';
import { OkxNumberFormat } from './format.ts';

export interface OkxSimInstrumentEntry {
  readonly instId: string;
  readonly symbol: string;
  readonly market: SimMarket;
  readonly fmt: OkxNumberFormat;
  readonly book: OkxSimBookModel;
}

export class OkxSimInstruments {
  private readonly byId = new Map<string, OkxSimInstrumentEntry>();
  private readonly byMarket = new Map<SimMarket, OkxSimInstrumentEntry>();

  constructor(markets: readonly SimMarket[], seed: number, bookDepth: number) {
    for (const market of markets) {
      const { base, quote, symbol, tick, step } = market.spec;
      const instId = `${base}-${quote}`;
      const fmt = new OkxNumberFormat(tick, step);
      const entry: OkxSimInstrumentEntry = {
        instId,
        symbol,
        market,
        fmt,
        book: new OkxSimBookModel(market, fmt, seed, bookDepth),
      };
      this.byId.set(instId, entry);
      this.byMarket.set(market, entry);
    }
  }

  get(instId: string): OkxSimInstrumentEntry | undefined {
    return this.byId.get(instId);
  }

  of(market: SimMarket): OkxSimInstrumentEntry {
    const entry = this.byMarket.get(market);
    if (entry === undefined) throw new Error(`market ${market.spec.symbol} is not an OKX instrument`);
    return entry;
  }

  all(): IterableIterator<OkxSimInstrumentEntry> {
    return this.byId.values();
  }
}
