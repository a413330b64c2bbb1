import type { Decimal } from './decimal.ts';
import type { VenueId } from './instrument.ts';

/**
 * Best prices and rolling 24 h statistics of one instrument on one venue. Fields a venue does not send are
 * undefined. Volumes are in base units (`volume24h`) and quote units (`quoteVolume24h`), converted from
 * contracts where the venue counts in contracts.
 */
export interface Ticker {
  readonly venue: VenueId;
  readonly symbol: string;
  readonly last: Decimal;
  readonly bid?: Decimal | undefined;
  readonly bidSize?: Decimal | undefined;
  readonly ask?: Decimal | undefined;
  readonly askSize?: Decimal | undefined;
  readonly open24h?: Decimal | undefined;
  readonly high24h?: Decimal | undefined;
  readonly low24h?: Decimal | undefined;
  readonly volume24h?: Decimal | undefined;
  readonly quoteVolume24h?: Decimal | undefined;
  /** Exchange event time, ms UTC. */
  readonly time: number;
  /** Local receive time, ms UTC. */
  readonly receivedAt: number;
}
