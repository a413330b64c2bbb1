/**
 * Lines of a text stream, a chunk's worth at a time. Line breaks are "\n", "\r\n" and a lone "\r", as
 * `readline` with `crlfDelay: Infinity` reads them; the last line needs no break. Text is UTF-8.
 *
 * `readline` hands out one line per event, as a string; for files of millions of short lines that costs several
 * times the reading. `readLineSpans` hands out where each line of a chunk lies in its bytes, so that a reader of a
 * known line shape can scan the bytes without a string per line, and decode only the lines it must read as text.
 */
import type { Readable } from 'node:stream';

const LF = 10;
const CR = 13;

/** The lines of one chunk: line `i` is `bytes[start(i), end(i))`, its break excluded. */
export class LineSpans {
  /** Start and end of each line, in turn. */
  private readonly bounds: number[] = [];

  constructor(readonly bytes: Buffer) {}

  get count(): number {
    return this.bounds.length / 2;
  }

  start(i: number): number {
    return this.bounds[2 * i]!;
  }

  end(i: number): number {
    return this.bounds[2 * i + 1]!;
  }

  /** Line `i` decoded as UTF-8. */
  text(i: number): string {
    return this.bytes.toString('utf8', this.bounds[2 * i]!, this.bounds[2 * i + 1]!);
  }

  add(start: number, end: number): void {
    this.bounds.push(start, end);
  }
}

/**
 * The lines of a byte (or text) stream as spans of each chunk's bytes. A line cut by a chunk boundary is handed
 * out whole with the next chunk (its bytes copied once). Breaks are ASCII bytes, which never occur inside a
 * multi-byte UTF-8 character, so decoding each line alone gives the text decoding the whole stream gives.
 */
export async function* readLineSpans(input: Readable): AsyncGenerator<LineSpans> {
  let rest: Buffer | undefined;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const bytes = rest === undefined ? data : Buffer.concat([rest, data]);
    const spans = new LineSpans(bytes);
    const length = bytes.length;
    let from = 0;
    // Found once per pass over the chunk rather than per line: most text has no "\r" at all.
    let cr = bytes.indexOf(CR);
    for (;;) {
      const lf = bytes.indexOf(LF, from);
      if (cr !== -1 && cr < from) cr = bytes.indexOf(CR, from);
      if (cr !== -1 && (lf === -1 || cr < lf - 1)) {
        // A lone "\r" (or one at the very end, which may be the first half of "\r\n": kept for the next chunk).
        if (cr === length - 1) break;
        spans.add(from, cr);
        from = cr + 1;
        continue;
      }
      if (lf === -1) break;
      spans.add(from, cr === lf - 1 ? cr : lf);
      from = lf + 1;
    }
    rest = from < length ? bytes.subarray(from) : undefined;
    if (spans.count > 0) yield spans;
  }
  if (rest !== undefined) {
    const end = rest[rest.length - 1] === CR ? rest.length - 1 : rest.length;
    if (end > 0) {
      const spans = new LineSpans(rest);
      spans.add(0, end);
      yield spans;
    }
  }
}
