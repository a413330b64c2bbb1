import { crc32 } from 'node:zlib';
import type { OrderBook } from './order-book.ts';

/** Levels per side that OKX and Bitget `books` checksums cover. */
export const CHECKSUM_DEPTH = 25;

/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) of the UTF-8 bytes of `text`, as a signed 32-bit integer — the form
 * OKX and Bitget print. `crc32Signed('123456789') === -873187034` (0xCBF43926).
 */
export function crc32Signed(text: string): number {
  return crc32(text) | 0;
}

/**
 * The OKX/Bitget book checksum of `book`: CRC-32 over `bid1px:bid1sz:ask1px:ask1sz:bid2px:...` of the first
 * `depth` (default 25) levels per side, best first, using the venue's original strings; when one side is shorter
 * its missing entries are skipped. Returned as a signed 32-bit integer, to compare with the venue's `checksum`.
 */
export function bookChecksum(book: OrderBook, depth: number = CHECKSUM_DEPTH): number {
  const n = Math.max(Math.min(depth, Math.max(book.bidCount, book.askCount)), 0);
  // The text is written into one reused buffer and handed to one native CRC call: OKX and Bitget books are
  // checked at every delta (hundreds a second), and joining the levels into a string allocated a string per level.
  let at = 0;
  for (let i = 0; i < n; i++) {
    const bp = book.priceAt('bid', i);
    if (bp !== undefined) at = writeLevel(at, bp, book.sizeAt('bid', i) as string);
    const ap = book.priceAt('ask', i);
    if (ap !== undefined) at = writeLevel(at, ap, book.sizeAt('ask', i) as string);
  }
  return crc32(scratch.subarray(0, at)) | 0;
}

/** Grows as needed; level texts are short, so 25 levels a side fit in the first size. */
let scratch = Buffer.allocUnsafe(4096);

/** Appends `price:size` (after a `:` unless first) at `at` as UTF-8; returns the new end. */
function writeLevel(at: number, price: string, size: string): number {
  const need = at + 3 * (price.length + size.length + 2);
  if (need > scratch.length) {
    const grown = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
    scratch.copy(grown, 0, 0, at);
    scratch = grown;
  }
  if (at > 0) scratch[at++] = 58; /* : */
  at = writeText(at, price);
  scratch[at++] = 58;
  return writeText(at, size);
}

/**
 * Writes `text` at `at` as UTF-8; returns the new end. Level texts are ASCII digits: they are copied a character
 * at a time (a native `Buffer.write` per text cost more in the call than in the copy); anything else is encoded.
 */
function writeText(at: number, text: string): number {
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return at + scratch.write(text, at, 'utf8');
    scratch[at + i] = c;
  }
  return at + length;
}
