import { isCanonicalSymbol } from '../../domain/instrument.ts';
import type { BookRules } from '../../domain/book-rules.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Clock } from '../../util/clock.ts';
import type { MarketStreamHandlers, MarketStreamOptions, VenueAdapter, VenueModule } from '../venue.ts';
import { openOkxMarketStream, type OkxMarketStream, type OkxStreamOptions } from './feed.ts';
import { OkxRest, type OkxRestOptions } from './rest.ts';

export interface OkxAdapterOptions extends Omit<OkxStreamOptions, 'logger' | 'clock' | 'rest'> {
  /** Base of the WebSocket endpoints: wss://ws.okx.com:8443, or the simulator's ws://127.0.0.1:PORT/okx. */
  readonly wsUrl: string;
  /** Base of REST /api/v5: https://www.okx.com, or the simulator's http://127.0.0.1:PORT/okx. */
  readonly restUrl: string;
  readonly logger: Logger;
  /** Time of the stream and of the REST history windows, and the stream's timers. Default the system clock. */
  readonly clock?: Clock;
  /** REST pacing, retries and caps; see OkxRestOptions. */
  readonly rest?: Omit<OkxRestOptions, 'restUrl' | 'logger' | 'now'>;
}

/**
 * OKX `books`: the subscription starts with a snapshot; each update's prevSeqId must equal the previous seqId, except
 * the keep-alive (prevSeqId === seqId, no levels) and the restart after maintenance (seqId < prevSeqId). The signed
 * CRC-32 of the top 25 levels is checked on snapshots and updates.
 */
export const OKX_BOOK_RULES: BookRules = {
  snapshotSource: 'stream',
  sequence: 'prev-seq',
  sequenceExceptions: { keepAlive: true, resetOnLowerSeq: true },
  checksum: 'crc32-top25',
  checksumSnapshots: true,
  uncross: false,
};

/** The OKX v5 adapter (spot): REST history and the public + business market connections. */
export interface OkxAdapter extends VenueAdapter {
  readonly rest: OkxRest;
  /**
   * OKX trade ids increase per instrument but are not contiguous (one trade carries the last id of `count` fills),
   * so a jump in `seq` is not a gap.
   */
  readonly contiguousTradeSeq: false;
  openMarketStream(
    symbols: readonly string[],
    handlers: MarketStreamHandlers,
    options?: MarketStreamOptions,
  ): OkxMarketStream;
}

export function createOkxAdapter(options: OkxAdapterOptions): OkxAdapter {
  const { restUrl, rest: restOptions, ...streamOptions } = options;
  const clock = options.clock;
  const rest = new OkxRest({
    ...restOptions,
    restUrl,
    logger: options.logger,
    ...(clock ? { now: () => clock.now() } : {}),
  });
  return {
    venue: 'okx',
    rest,
    bookRules: OKX_BOOK_RULES,
    contiguousTradeSeq: false,
    // Spot pairs; OKX's USD-quoted instruments are derivatives, which this adapter does not map.
    supportsSymbol: (symbol) => isCanonicalSymbol(symbol) && !symbol.endsWith('/USD'),
    openMarketStream(symbols, handlers, streamOpts) {
      return openOkxMarketStream(symbols, handlers, { ...streamOptions, rest }, streamOpts);
    },
  };
}

/** OKX in the venue registry: its production endpoints (the defaults of `urls.okx`) and its adapter. */
export const okxVenue: VenueModule<'okx'> = {
  id: 'okx',
  defaultUrls: { wsUrl: 'wss://ws.okx.com:8443/ws/v5/public', restUrl: 'https://www.okx.com' },
  createAdapter: (options) => createOkxAdapter(options),
};

export { OkxRest, createOkxRest, type OkxRestOptions } from './rest.ts';
export { openOkxMarketStream, type OkxMarketStream, type OkxStreamOptions } from './feed.ts';
