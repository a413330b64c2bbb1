/**
 * How a venue keeps its order book consistent, written as data. Each venue adapter exports one `BookRules`
 * value (`VenueAdapter.bookRules`); `BookSync` (src/book/book-sync.ts) reads it and enforces it, so no venue quirk lives in
 * shared code and adding a venue means describing its rule, not writing a new book.
 *
 * The adapter maps the venue's own fields into `BookUpdate.seq` / `prevSeq` / `checksum` (see src/domain/book.ts);
 * the rules say how those fields relate.
 */

/**
 * Where a full book comes from.
 * - `stream`: the subscription itself starts with a snapshot (OKX `books`, Bitget `books`, dYdX `subscribed`);
 *   a resync is a resubscribe.
 * - `rest`: the stream only sends deltas; the book is seeded from a REST snapshot fetched after the deltas start
 *   arriving (Binance `GET /api/v3/depth`), and deltas received before it are buffered.
 */
export type BookSnapshotSource = 'stream' | 'rest';

/**
 * How consecutive messages chain.
 * - `prev-seq`: each delta's `prevSeq` must equal the `seq` the book is at (OKX `prevSeqId`, Bitget `pseq`), with
 *   the exceptions listed in `BookSequenceExceptions`.
 * - `binance-range`: Binance `U`/`u`, mapped as `prevSeq = U - 1`, `seq = u`. After a REST snapshot with id `L`,
 *   deltas with `seq <= L` are dropped, the first kept one must satisfy `prevSeq <= L < seq`, and each later one
 *   must satisfy `prevSeq === book.seq`; a delta with `seq <= book.seq` is stale and ignored.
 * - `none`: the venue gives no per-book sequence (dYdX `v4_orderbook`); continuity is the adapter's business
 *   (e.g. connection-wide `message_id` jumps reported through `BookSync.gap`).
 */
export type BookSequenceRule = 'prev-seq' | 'binance-range' | 'none';

/** Venue exceptions to the strict `prev-seq` rule. All default to false. */
export interface BookSequenceExceptions {
  /**
   * A delta whose `prevSeq === seq` and that equals the book's `seq` is a keep-alive (OKX sends an empty update
   * after about 60 s without changes); it is accepted and changes nothing.
   */
  readonly keepAlive?: boolean;
  /**
   * A delta whose `seq < prevSeq` is a sequence restart (OKX after maintenance); it is applied and the book
   * continues from its `seq`.
   */
  readonly resetOnLowerSeq?: boolean;
  /**
   * A delta without `seq`/`prevSeq` is applied without a sequence check (older Bitget v2 pushes lack both fields;
   * the checksum still guards them). When false, such a delta is a gap.
   */
  readonly allowMissing?: boolean;
}

/**
 * How a book's content is verified after each message.
 * - `crc32-top25`: signed CRC-32 over `bid1px:bid1sz:ask1px:ask1sz:...` of the first 25 levels per side using the
 *   venue's original strings (OKX, Bitget `books`); see src/book/checksum.ts.
 * - `none`: no checksum.
 */
export type BookChecksumRule = 'crc32-top25' | 'none';

/** A venue's complete order-book consistency rule. */
export interface BookRules {
  readonly snapshotSource: BookSnapshotSource;
  readonly sequence: BookSequenceRule;
  /** Only read when `sequence` is `prev-seq`. */
  readonly sequenceExceptions?: BookSequenceExceptions;
  readonly checksum: BookChecksumRule;
  /**
   * Whether a snapshot's checksum is verified too. OKX snapshots carry a real checksum (true); Bitget v2
   * snapshots carry `checksum: 0` (false). Ignored when `checksum` is `none`.
   */
  readonly checksumSnapshots: boolean;
  /**
   * When true, a book whose best bid is at or above its best ask is repaired by removing the crossed levels of
   * the side that was updated less recently (dYdX: the indexer can deliver the two sides' updates in an order
   * that leaves stale levels behind). When false, a crossed book is left as the venue sent it and only counted
   * (`BookStats.crossed`): venues with a sequence or checksum rule already catch real corruption.
   */
  readonly uncross: boolean;
  /**
   * Levels per side to request when `snapshotSource` is `rest` (Binance accepts up to 5,000); passed to the
   * adapter's `requestSnapshot`. Levels beyond it stay unknown until a delta touches them.
   */
  readonly snapshotDepth?: number;
}
