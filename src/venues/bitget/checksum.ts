import { crc32 } from 'node:zlib';
import type { BookLevel } from '../../domain/book.ts';

/** Levels per side that Bitget's book checksum covers. */
export const CHECKSUM_DEPTH = 25;

/**
 * Bitget's `books` checksum: the first 25 bids and asks interleaved as `bid1px:bid1sz:ask1px:ask1sz:...` (a side
 * that runs out is skipped), over the venue's original strings, as a signed 32-bit CRC-32. `bids` are best first
 * (descending), `asks` best first (ascending).
 */
export function bitgetChecksum(bids: readonly BookLevel[], asks: readonly BookLevel[]): number {
  const parts: string[] = [];
  const n = Math.min(CHECKSUM_DEPTH, Math.max(bids.length, asks.length));
  for (let i = 0; i < n; i++) {
    const bid = bids[i];
    const ask = asks[i];
    if (bid !== undefined) parts.push(bid.price, bid.size);
    if (ask !== undefined) parts.push(ask.price, ask.size);
  }
  return crc32(parts.join(':')) | 0;
}
