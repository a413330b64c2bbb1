import type { OrderBook } from './order-book.ts';

/** Levels per side that OKX and Bitget `books` checksums cover. */
export const CHECKSUM_DEPTH = 25;

const CRC_TABLE = ((): Int32Array => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** Feeds one byte into a running (pre-inverted) CRC-32 state. */
function crcByte(state: number, byte: number): number {
  return (CRC_TABLE[(state ^ byte) & 0xff] as number) ^ (state >>> 8);
}

/** Feeds the UTF-8 bytes of `text` into a running CRC-32 state without allocating. */
function crcText(state: number, text: string): number {
  let c = state;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      c = crcByte(c, code);
    } else if (code < 0x800) {
      c = crcByte(c, 0xc0 | (code >> 6));
      c = crcByte(c, 0x80 | (code & 0x3f));
    } else {
      if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low < 0xe000) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          i++;
          c = crcByte(c, 0xf0 | (code >> 18));
          c = crcByte(c, 0x80 | ((code >> 12) & 0x3f));
          c = crcByte(c, 0x80 | ((code >> 6) & 0x3f));
          c = crcByte(c, 0x80 | (code & 0x3f));
          continue;
        }
      }
      c = crcByte(c, 0xe0 | (code >> 12));
      c = crcByte(c, 0x80 | ((code >> 6) & 0x3f));
      c = crcByte(c, 0x80 | (code & 0x3f));
    }
  }
  return c;
}

/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) of the UTF-8 bytes of `text`, as a signed 32-bit integer — the form
 * OKX and Bitget print. `crc32Signed('123456789') === -873187034` (0xCBF43926).
 */
export function crc32Signed(text: string): number {
  return ~crcText(-1, text) | 0;
}

const COLON = 0x3a;

/**
 * The OKX/Bitget book checksum of `book`: CRC-32 over `bid1px:bid1sz:ask1px:ask1sz:bid2px:...` of the first
 * `depth` (default 25) levels per side, best first, using the venue's original strings; when one side is shorter
 * its missing entries are skipped. Returned as a signed 32-bit integer, to compare with the venue's `checksum`.
 * Computed without building the string.
 */
export function bookChecksum(book: OrderBook, depth: number = CHECKSUM_DEPTH): number {
  const n = Math.max(Math.min(depth, Math.max(book.bidCount, book.askCount)), 0);
  let c = -1;
  let first = true;
  for (let i = 0; i < n; i++) {
    const bp = book.priceAt('bid', i);
    if (bp !== undefined) {
      if (!first) c = crcByte(c, COLON);
      c = crcText(c, bp);
      c = crcByte(c, COLON);
      c = crcText(c, book.sizeAt('bid', i) as string);
      first = false;
    }
    const ap = book.priceAt('ask', i);
    if (ap !== undefined) {
      if (!first) c = crcByte(c, COLON);
      c = crcText(c, ap);
      c = crcByte(c, COLON);
      c = crcText(c, book.sizeAt('ask', i) as string);
      first = false;
    }
  }
  return ~c | 0;
}
