/**
 * The venues the simulator serves, one line each. A venue is a folder under src/sim/ exporting a
 * SimVenueDefinition; its URLs appear in `Simulator.urls` under its id, typed from this table.
 */
import { binanceSimVenue, type BinanceSimSettings } from './binance/index.ts';
import { bitgetSimVenue, type BitgetSimSettings } from './bitget/index.ts';
import { dydxSimVenue, type DydxSimSettings } from './dydx/index.ts';
import { okxSimVenue, type OkxSimSettings } from './okx/index.ts';

/** Per-venue tuning (timings, limits), each overriding that venue's defaults. */
export interface SimVenueSettings {
  readonly binance?: Partial<BinanceSimSettings>;
  readonly bitget?: Partial<BitgetSimSettings>;
  readonly okx?: Partial<OkxSimSettings>;
  readonly dydx?: Partial<DydxSimSettings>;
}

export function simVenueDefinitions(settings: SimVenueSettings = {}) {
  return {
    binance: binanceSimVenue(settings.binance),
    bitget: bitgetSimVenue(settings.bitget),
    okx: okxSimVenue(settings.okx),
    dydx: dydxSimVenue(settings.dydx),
  } as const;
}

type Definitions = ReturnType<typeof simVenueDefinitions>;

/** Client URLs per venue, e.g. `urls.binance.wsUrl`. */
export type SimulatorUrls = {
  readonly [K in keyof Definitions]: ReturnType<Definitions[K]['urls']>;
};
