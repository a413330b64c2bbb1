import { isBitgetSymbol } from './symbols.ts';
import type { BookRules } from '../../domain/book-rules.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Clock } from '../../util/clock.ts';
import { TickwireError } from '../../domain/errors.ts';
import type {
  AccountSourceOptions,
  MarketStreamHandlers,
  MarketStreamOptions,
  VenueAdapter,
  VenueModule,
} from '../venue.ts';
import { BitgetAccountSource } from './account-source.ts';
import { openBitgetMarketStream, type BitgetMarketStream, type BitgetStreamOptions } from './feed.ts';
import { BitgetRest, type BitgetRestOptions } from './rest.ts';

export interface BitgetAdapterOptions extends Omit<
  BitgetStreamOptions,
  'logger' | 'clock' | 'rest' | 'channels' | 'books'
> {
  /** The public socket: wss://ws.bitget.com/v2/ws/public, or the simulator's ws://127.0.0.1:PORT/bitget/v2/ws/public. */
  readonly wsUrl: string;
  /** Base of REST /api/v2: https://api.bitget.com, or the simulator's http://127.0.0.1:PORT/bitget. */
  readonly restUrl: string;
  readonly logger: Logger;
  /** Time of the stream and of the REST history windows, and the stream's timers. Default the system clock. */
  readonly clock?: Clock;
  /** REST pacing, retries and caps; see BitgetRestOptions. */
  readonly rest?: Omit<BitgetRestOptions, 'restUrl' | 'logger' | 'now'>;
}

/**
 * Bitget `books`: the subscription starts with a snapshot (checksum 0, not verified); each update's `pseq` must
 * equal the previous `seq`, and its checksum covers the top 25 levels after applying. Pushes captured before 2025
 * lack seq/pseq: the checksum alone guards those. A resync is an unsubscribe + subscribe.
 */
export const BITGET_BOOK_RULES: BookRules = {
  snapshotSource: 'stream',
  sequence: 'prev-seq',
  sequenceExceptions: { allowMissing: true },
  checksum: 'crc32-top25',
  checksumSnapshots: false,
  uncross: false,
};

/**
 * The Bitget v2 adapter (spot "BTC/USDT" and USDT perpetuals "BTC/USDT:USDT"): REST history and the public
 * stream on the connection runner, behind the VenueAdapter contract.
 */
export function createBitgetAdapter(options: BitgetAdapterOptions): VenueAdapter & {
  readonly rest: BitgetRest;
  openMarketStream(
    symbols: readonly string[],
    handlers: MarketStreamHandlers,
    streamOptions?: MarketStreamOptions,
  ): BitgetMarketStream;
} {
  const { restUrl, rest: restOptions, ...streamOptions } = options;
  const clock = options.clock;
  const rest = new BitgetRest({
    ...restOptions,
    restUrl,
    logger: options.logger,
    ...(clock ? { now: () => clock.now() } : {}),
  });
  return {
    venue: 'bitget',
    rest,
    bookRules: BITGET_BOOK_RULES,
    // Trade ids only increase; a jump is not a hole.
    contiguousTradeSeq: false,
    // Spot and USDT-margined perpetuals; nothing is quoted in plain USD.
    supportsSymbol: (symbol) => isBitgetSymbol(symbol) && !symbol.endsWith('/USD'),
    openMarketStream(symbols, handlers, open) {
      return openBitgetMarketStream(symbols, handlers, {
        ...streamOptions,
        rest,
        ...(open?.channels ? { channels: open.channels } : {}),
        ...(open?.books ? { books: open.books } : {}),
      });
    },
  };
}

/** Bitget in the venue registry: its production endpoints (the defaults of `urls.bitget`) and its adapter. */
export const bitgetVenue: VenueModule<'bitget'> = {
  id: 'bitget',
  defaultUrls: { wsUrl: 'wss://ws.bitget.com/v2/ws/public', restUrl: 'https://api.bitget.com' },
  createAdapter: (options) => createBitgetAdapter(options),
  createAccountSource: (options) =>
    new BitgetAccountSource({
      account: options.account,
      credentials: {
        apiKey: accountSetting(options, 'apiKey'),
        secret: accountSetting(options, 'secret'),
        passphrase: accountSetting(options, 'passphrase'),
      },
      wsUrl: bitgetPrivateWsUrl(options.wsUrl),
      restUrl: options.restUrl,
      logger: options.logger,
      ...(options.clock ? { clock: options.clock } : {}),
    }),
};

/**
 * The private socket next to a configured public one: `…/v2/ws/public` → `…/v2/ws/private` (production, demo
 * trading and the simulator all pair them so); any other URL gets `/v2/ws/private` at its host.
 */
export function bitgetPrivateWsUrl(publicWsUrl: string): string {
  if (/\/public\/?$/.test(publicWsUrl)) return publicWsUrl.replace(/\/public\/?$/, '/private');
  return new URL('/v2/ws/private', publicWsUrl).toString();
}

function accountSetting(options: AccountSourceOptions, name: string): string {
  const value = options.settings[name];
  if (typeof value !== 'string' || value === '')
    throw new TickwireError('CONFIG_INVALID', `Bitget account ${options.account.id}: ${name} is missing`);
  return value;
}

export { BitgetRest, createBitgetRest, type BitgetRestOptions } from './rest.ts';
export { openBitgetMarketStream, type BitgetMarketStream, type BitgetStreamOptions } from './feed.ts';
export { bitgetChecksum } from './checksum.ts';
export { toBitgetInstrument, USDT_PERP_SUFFIX } from './symbols.ts';
