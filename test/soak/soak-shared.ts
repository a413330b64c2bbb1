/**
 * What the soak's driver (soak.ts) and its gateway process (soak-server.ts) share. A module of its own: importing
 * soak-server.ts would start a second gateway inside the driver.
 */
import type { VenueId } from '../../src/domain/instrument.ts';

export const SOAK_SYMBOLS = ['BTC/USDT', 'ETH/USDT'];
export const SOAK_VENUES: VenueId[] = ['binance', 'okx'];

/** One sample of the gateway process. */
export interface Sample {
  readonly rss: number;
  readonly heapUsed: number;
  /** Active handles and requests (process.getActiveResourcesInfo), by kind. */
  readonly resources: Record<string, number>;
  readonly connections: number;
  readonly rooms: number;
  /** Clients the gateway closed as slow consumers (4008) so far. */
  readonly slowClosed: number;
}
