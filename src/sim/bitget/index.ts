/**
 * The simulated Bitget venue (API v2): a spot market per symbol and a USDT-futures one per USDT-quoted symbol,
 * REST under `/api/v2/...` and the public socket at `/v2/ws/public`, all below the simulator's `/bitget` prefix; and the private side
 * (account-side.ts): simulated trader accounts on the private socket `/v2/ws/private` and the signed account REST.
 */
import { demoAccounts } from '../accounts/config.ts';
import type { SimMarket, SimQuoting } from '../market/market.ts';
import { AssembledSimVenue, createSimMarket } from '../venue-kit.ts';
import type { SimVenue, SimVenueContext, SimVenueDefinition } from '../venue.ts';
import { BitgetAccountSide, type BitgetAccountSettings } from './account-side.ts';
import { BITGET_SIM_INST_TYPES, BitgetSimInstruments, type BitgetSimInstType } from './instruments.ts';
import { BitgetSimRest, type BitgetRestSettings } from './rest.ts';
import { BitgetStreamServer, type BitgetStreamSettings } from './stream-server.ts';

export type BitgetSimSettings = Omit<BitgetStreamSettings, 'seed'> &
  BitgetRestSettings &
  BitgetAccountSettings;

/** Bitget's published limits; tests shorten the timings. */
export const BITGET_SIM_DEFAULTS: BitgetSimSettings = {
  pingTimeoutMs: 120_000,
  tickerPushMs: 1_000,
  bookPushMs: 200,
  candlePushMs: 1_000,
  candleSnapshotBars: 200,
  tradeSnapshotSize: 50,
  bookDepth: 60,
  maxIncomingPerSecond: 10,
  maxSubscribesPerHour: 240,
  maxChannelsPerConnection: 1000,
  maxPayloadBytes: 64 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  connectionLifetimeMs: 24 * 60 * 60 * 1000,
  restRequestsPerSecond: 20,
  accounts: demoAccounts.bitget,
  accountPushMs: 5_000,
  fundingPeriodMs: 8 * 60 * 60 * 1000,
};

/** Spot near the leader, 120 ms behind; the perpetual at a small premium (funding keeps it close). */
export const BITGET_SIM_QUOTING: Readonly<Record<BitgetSimInstType, SimQuoting>> = {
  SPOT: { basisBps: 0.5, lagMs: 120 },
  'USDT-FUTURES': { basisBps: 2, lagMs: 120 },
};

export interface BitgetSimUrls {
  /** The public socket: ws://127.0.0.1:PORT/bitget/v2/ws/public. */
  readonly wsUrl: string;
  /** The private socket: ws://127.0.0.1:PORT/bitget/v2/ws/private. */
  readonly privateWsUrl: string;
  /** Base for REST: append `/api/v2/...`. */
  readonly restUrl: string;
}

/**
 * Whether the simulated Bitget has an instrument of this family for a canonical pair: SPOT for every pair asked for;
 * USDT-FUTURES (the USDT-M futures account's family) only for USDT-quoted pairs, as on Bitget, whose "BTCUSD" is a
 * coin-margined contract (COIN-FUTURES), not a USDT one. A "BTC/USD" asked for another venue (dYdX) so makes no
 * USDT perpetual here, and the futures account never trades one.
 */
export function bitgetLists(instType: BitgetSimInstType, symbol: string): boolean {
  return instType === 'SPOT' || symbol.endsWith('/USDT');
}

function createBitgetSimVenue(context: SimVenueContext, settings: BitgetSimSettings): SimVenue {
  const instruments = new BitgetSimInstruments();
  const markets: SimMarket[] = [];
  for (const instType of BITGET_SIM_INST_TYPES) {
    for (const symbol of context.symbols.filter((s) => bitgetLists(instType, s))) {
      const market = createSimMarket(context, symbol, BITGET_SIM_QUOTING[instType], 'bitget', instType);
      instruments.add(instType, market);
      markets.push(market);
    }
  }
  const streams = new BitgetStreamServer(
    instruments,
    context.faults,
    context.now,
    { ...settings, seed: context.seed },
    context.logger,
  );
  const rest = new BitgetSimRest(instruments, streams, context.faults, context.now, settings);
  const accounts = new BitgetAccountSide(context, instruments, settings);
  return accounts.wrap(new AssembledSimVenue('bitget', markets, rest, streams));
}

/** Registry entry; `settings` overrides BITGET_SIM_DEFAULTS field by field. */
export function bitgetSimVenue(settings: Partial<BitgetSimSettings> = {}): SimVenueDefinition<BitgetSimUrls> {
  return {
    id: 'bitget',
    create: (context) => createBitgetSimVenue(context, { ...BITGET_SIM_DEFAULTS, ...settings }),
    urls: (httpBase, wsBase) => ({
      wsUrl: `${wsBase}/bitget/v2/ws/public`,
      privateWsUrl: `${wsBase}/bitget/v2/ws/private`,
      restUrl: `${httpBase}/bitget`,
    }),
  };
}
