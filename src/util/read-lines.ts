/**
 * Lines of a text stream, a chunk's worth at a time. Line breaks are "\n", "\r\n" and a lone "\r", as
 * `readline` with `crlfDelay: Infinity` reads them; the last line needs no break. Bytes are decoded as UTF-8
 * (a character split across chunks is kept whole).
 *
 * `readline` hands out one line per event; for files of millions of short lines, handing out the lines of each
 * chunk as one array costs a fraction of that.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export async function* readLineBatches(input: Readable): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    // A "\r" at the very end may be the first half of "\r\n": keep it for the next chunk.
    const end = text.endsWith('\r') ? text.length - 1 : text.length;
    const lines: string[] = [];
    let from = 0;
    for (let nl = text.indexOf('\n', from); nl !== -1 && nl < end; nl = text.indexOf('\n', from)) {
      pushLine(lines, text, from, nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      from = nl + 1;
    }
    const tail = text.slice(from, end);
    const cr = tail.lastIndexOf('\r');
    if (cr === -1) rest = text.slice(from);
    else {
      // Lone "\r" breaks in the unfinished tail: what lies before the last one is complete.
      pushLine(lines, text, from, from + cr);
      rest = text.slice(from + cr + 1);
    }
    if (lines.length > 0) yield lines;
  }
  rest += decoder.end();
  if (rest.endsWith('\r')) rest = rest.slice(0, -1);
  if (rest !== '') {
    const lines: string[] = [];
    pushLine(lines, rest, 0, rest.length);
    yield lines;
  }
}

/** Adds text[from, to) as one line, or as several where it holds lone "\r" breaks. */
function pushLine(lines: string[], text: string, from: number, to: number): void {
  const line = text.slice(from, to);
  if (line.indexOf('\r') === -1) lines.push(line);
  else for (const part of line.split('\r')) lines.push(part);
}
