import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readLineSpans } from './read-lines.ts';

async function ours(chunks: readonly (string | Buffer)[]): Promise<string[]> {
  const out: string[] = [];
  for await (const spans of readLineSpans(Readable.from(chunks)))
    for (let i = 0; i < spans.count; i++) out.push(spans.text(i));
  return out;
}

async function readline(chunks: readonly (string | Buffer)[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of createInterface({ input: Readable.from(chunks), crlfDelay: Infinity }))
    out.push(line);
  return out;
}

describe('readLineSpans', () => {
  it('reads the lines readline reads, however the text is cut into chunks', async () => {
    const texts = [
      'a\nb\nc',
      'a\r\nb\r\n',
      'a\rb\r\rc\n',
      '\n\nx\n\n',
      'one\r\ntwo\rthree\nfour\r',
      'é€😀\nπ\r\n',
      '',
    ];
    for (const text of texts) {
      const bytes = Buffer.from(text);
      const want = await readline([text]);
      assert.deepEqual(await ours([text]), want, JSON.stringify(text));
      for (let cut = 1; cut < bytes.length; cut++) {
        const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
        assert.deepEqual(await ours(chunks), want, `${JSON.stringify(text)} cut at byte ${cut}`);
      }
      const single = [...bytes].map((b) => Buffer.from([b]));
      assert.deepEqual(await ours(single), want, `${JSON.stringify(text)} byte by byte`);
    }
  });

  it('hands out where each line lies in the bytes, its break excluded, a cut line whole with the next chunk', async () => {
    const got: [string, number, number][][] = [];
    for await (const spans of readLineSpans(
      Readable.from([Buffer.from('ab\r\ncd\ref\ng'), Buffer.from('h\r')]),
    )) {
      const batch: [string, number, number][] = [];
      for (let i = 0; i < spans.count; i++) batch.push([spans.text(i), spans.start(i), spans.end(i)]);
      got.push(batch);
    }
    assert.deepEqual(got, [
      [
        ['ab', 0, 2],
        ['cd', 4, 6],
        ['ef', 7, 9],
      ],
      [['gh', 0, 2]],
    ]);
  });
});
