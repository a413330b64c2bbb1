import type { VenueId } from './instrument.ts';

/**
 * One price level exactly as the venue printed it. Book checksums (OKX, Bitget) are computed over the venue's
 * original strings ("0.0010" is not "0.001"), so levels keep their text; size "0" removes the level.
 */
export interface BookLevel {
  readonly price: string;
  readonly size: string;
}

/**
 * A change to one order book, normalized across venues. A `snapshot` replaces the whole book; a `delta` changes
 * the levels it lists. The sequence fields carry each venue's own consistency rule (see src/book/):
 * - `seq`: this message's position (Binance `u`, OKX `seqId`, Bitget `seq`, dYdX `message_id`);
 * - `prevSeq`: the `seq` the book must be at before this delta applies (OKX `prevSeqId`, Bitget `pseq`,
 *   Binance `U - 1`); undefined when the venue gives none;
 * - `checksum`: the venue's signed CRC-32 over the top 25 levels after applying (OKX, Bitget `books`).
 */
export interface BookUpdate {
  readonly venue: VenueId;
  readonly symbol: string;
  readonly kind: 'snapshot' | 'delta';
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  readonly seq?: number | undefined;
  readonly prevSeq?: number | undefined;
  readonly checksum?: number | undefined;
  /** Exchange event time, ms UTC. */
  readonly time: number;
  readonly receivedAt: number;
}

/** A book event the venue layer raises: the venue asks for a fresh snapshot (gap, checksum, doubt). */
export interface BookResyncRequest {
  readonly venue: VenueId;
  readonly symbol: string;
  readonly reason: string;
}
