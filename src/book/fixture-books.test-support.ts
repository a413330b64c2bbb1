import { readFileSync } from 'node:fs';
import type { BookLevel } from '../domain/book.ts';
import { FIXTURES_DIR } from '../../test/fixtures/index.ts';

export { FIXTURES_DIR };

/** One captured line of a cryptofeed "format 2" JSON-lines file. */
export interface CaptureLine {
  readonly t: string;
  readonly ts?: number;
  readonly url?: string;
  readonly data?: string;
}

/** Reads a capture file (test-only, so a synchronous read is fine). */
export function readCapture(relativePath: string): CaptureLine[] {
  const text = readFileSync(FIXTURES_DIR + relativePath, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as CaptureLine);
}

/** Raw `books` push shared by OKX v5 and Bitget v1/v2: levels are arrays whose first two items are price, size. */
export interface RawBooksPush {
  readonly arg?: { readonly channel?: string; readonly instId?: string; readonly instType?: string };
  readonly action?: 'snapshot' | 'update';
  readonly data?: readonly {
    readonly bids?: readonly (readonly string[])[];
    readonly asks?: readonly (readonly string[])[];
    readonly checksum?: number;
    readonly ts?: string;
  }[];
}

/** The `[price, size, ...]` arrays of a push as levels with the original strings. */
export function levelsOf(raw: readonly (readonly string[])[] | undefined): BookLevel[] {
  return (raw ?? []).map((l) => ({ price: String(l[0]), size: String(l[1]) }));
}

/** The `books` pushes (with an action) of a capture, in order. */
export function booksPushes(lines: readonly CaptureLine[]): RawBooksPush[] {
  const out: RawBooksPush[] = [];
  for (const line of lines) {
    if (line.t !== 'recv' || line.data === undefined || !line.data.startsWith('{')) continue;
    const push = JSON.parse(line.data) as RawBooksPush;
    if (push.arg?.channel === 'books' && push.action !== undefined) out.push(push);
  }
  return out;
}
