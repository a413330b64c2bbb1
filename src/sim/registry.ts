/**
 * The venues the simulator serves, one line each. A venue is a folder under src/sim/ exporting a function from its
 * settings to a SimVenueDefinition; its settings (`SimulatorOptions.<id>`) and its URLs (`Simulator.urls.<id>`)
 * are typed from this table, whose order is the order of `Simulator.urls` and of VENUES in `tickwire sim --env`.
 * The simulator keeps its own list rather than the adapters' registry: it is written independently of them.
 */
import type { VenueId } from '../domain/instrument.ts';
import { binanceSimVenue } from './binance/index.ts';
import { bitgetSimVenue } from './bitget/index.ts';
import { dydxSimVenue } from './dydx/index.ts';
import { okxSimVenue } from './okx/index.ts';
import type { SimVenueDefinition } from './venue.ts';

const SIM_VENUES = {
  binance: binanceSimVenue,
  bitget: bitgetSimVenue,
  okx: okxSimVenue,
  dydx: dydxSimVenue,
} satisfies { readonly [Id in VenueId]: (settings?: never) => SimVenueDefinition<unknown> };

type SimVenueTable = typeof SIM_VENUES;

/** Per-venue tuning (timings, limits), each overriding that venue's defaults. */
export type SimVenueSettings = {
  readonly [Id in keyof SimVenueTable]?: Parameters<SimVenueTable[Id]>[0];
};

type SimVenueDefinitions = { readonly [Id in keyof SimVenueTable]: ReturnType<SimVenueTable[Id]> };

/** The definition of every simulated venue, each with its settings from `settings`. */
export function simVenueDefinitions(settings: SimVenueSettings = {}): SimVenueDefinitions {
  const entries = Object.entries(SIM_VENUES).map(([id, define]) => {
    // Each venue's settings have its own type; SimVenueSettings pairs them with the venue by id.
    const own = settings[id as VenueId] as never;
    return [id, define(own)];
  });
  return Object.fromEntries(entries) as SimVenueDefinitions;
}

/** Client URLs per venue, e.g. `urls.binance.wsUrl`. */
export type SimulatorUrls = {
  readonly [Id in keyof SimVenueDefinitions]: ReturnType<SimVenueDefinitions[Id]['urls']>;
};
