import { isCanonicalSymbol } from '../../domain/instrument.ts';
import type { BookRules } from '../../domain/book-rules.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Clock } from '../../util/clock.ts';
import type { MarketStreamHandlers, MarketStreamOptions, VenueAdapter, VenueModule } from '../venue.ts';
import { TickwireError } from '../../domain/errors.ts';
import { createDydxAccountSource } from './account-source.ts';
import { openDydxMarketStream, type DydxMarketStream, type DydxStreamOptions } from './feed.ts';
import { DydxRest, type DydxRestOptions } from './rest.ts';

export interface DydxAdapterOptions extends Omit<DydxStreamOptions, 'logger' | 'clock' | 'rest'> {
  /** The socket URL: wss://indexer.dydx.trade/v4/ws, or the simulator's ws://127.0.0.1:PORT/dydx/v4/ws. */
  readonly wsUrl: string;
  /** Base of REST /v4: https://indexer.dydx.trade, or the simulator's http://127.0.0.1:PORT/dydx. */
  readonly restUrl: string;
  readonly logger: Logger;
  /** Time of the stream and of the REST history windows, and the stream's timers. Default the system clock. */
  readonly clock?: Clock;
  /** REST pacing, retries and caps; see DydxRestOptions. */
  readonly rest?: Omit<DydxRestOptions, 'restUrl' | 'logger' | 'now'>;
}

/**
 * dYdX v4 `v4_orderbook`: the subscription starts with a snapshot; updates carry no per-book sequence and no
 * checksum, so the only checks are the connection-wide message_id (done by the feed, which resubscribes the books
 * after a jump) and uncrossing: the indexer can leave stale levels on one side, which the book removes.
 */
export const DYDX_BOOK_RULES: BookRules = {
  snapshotSource: 'stream',
  sequence: 'none',
  checksum: 'none',
  checksumSnapshots: false,
  uncross: true,
};

/** The dYdX v4 Indexer adapter (perpetuals quoted in USD): REST history and the indexer socket. */
export interface DydxAdapter extends VenueAdapter {
  readonly rest: DydxRest;
  openMarketStream(
    symbols: readonly string[],
    handlers: MarketStreamHandlers,
    options?: MarketStreamOptions,
  ): DydxMarketStream;
}

export function createDydxAdapter(options: DydxAdapterOptions): DydxAdapter {
  const { restUrl, rest: restOptions, ...streamOptions } = options;
  const clock = options.clock;
  const rest = new DydxRest({
    ...restOptions,
    restUrl,
    logger: options.logger,
    ...(clock ? { now: () => clock.now() } : {}),
  });
  return {
    venue: 'dydx',
    rest,
    bookRules: DYDX_BOOK_RULES,
    // Trade ids are hex and unordered: no sequence, dedupe by id.
    contiguousTradeSeq: false,
    // dYdX v4 lists USD-quoted perpetuals only ("BTC/USD").
    supportsSymbol: (symbol) => isCanonicalSymbol(symbol) && symbol.endsWith('/USD'),
    openMarketStream(symbols, handlers, streamOpts) {
      return openDydxMarketStream(symbols, handlers, { ...streamOptions, rest }, streamOpts);
    },
  };
}

/** dYdX in the venue registry: its production endpoints (the defaults of `urls.dydx`) and its adapter. */
export const dydxVenue: VenueModule<'dydx'> = {
  id: 'dydx',
  defaultUrls: { wsUrl: 'wss://indexer.dydx.trade/v4/ws', restUrl: 'https://indexer.dydx.trade' },
  createAdapter: (options) => createDydxAdapter(options),
  createAccountSource: (options) => {
    const { address, subaccountNumber } = options.settings;
    if (typeof address !== 'string' || typeof subaccountNumber !== 'number')
      throw new TickwireError(
        'CONFIG_INVALID',
        `dYdX account ${options.account.id}: address and subaccountNumber are required`,
      );
    return createDydxAccountSource({
      account: options.account,
      address,
      subaccountNumber,
      wsUrl: options.wsUrl,
      restUrl: options.restUrl,
      logger: options.logger,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  },
};

export { DydxRest, createDydxRest, type DydxRestOptions } from './rest.ts';
export {
  openDydxMarketStream,
  type DydxMarketStream,
  type DydxStreamCounters,
  type DydxStreamOptions,
} from './feed.ts';
export { DYDX_RESOLUTIONS, fromDydxTicker, toDydxTicker } from './symbols.ts';
export * from './units.ts';
