import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../telemetry/logger.ts';
import { WriteBehind, type StoreStatus, type WriteBehindOptions } from './write-behind.ts';

// BufferedCandleStore's tests run this queue against real databases; these pin its rules with a plain function
// as the database write.

interface Item {
  readonly key: string;
  readonly version: number;
}

async function waitUntil(done: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 15_000;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A database write that records each batch it accepted and fails while `failing` is set. */
class Target {
  failing = false;
  readonly batches: string[][] = [];
  readonly write = async (items: Item[]): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failing) throw new Error('connection refused');
    this.batches.push(items.map((i) => `${i.key}${i.version}`));
  };
}

function recordingLogger(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino(sink), lines };
}

/**
 * Settles like `promise`, polling meanwhile: the queue's timers do not hold the process open (unref), so a test
 * that only awaited the queue would end before they fire.
 */
async function settled<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => (done = true));
  tracked.catch(() => undefined);
  await waitUntil(() => done, 'the promise to settle');
  return tracked;
}

function queue(target: Target, options: Partial<WriteBehindOptions> = {}): WriteBehind<Item> {
  return new WriteBehind(target.write, (i) => i.key, {
    logger: silentLogger(),
    noun: 'items',
    retryMinMs: 5,
    retryMaxMs: 20,
    ...options,
  });
}

const item = (key: string, version = 1): Item => ({ key, version });

describe('WriteBehind', () => {
  it('coalesces items of one key: the newer replaces the queued one and moves to the end', async () => {
    const target = new Target();
    const q = queue(target, { flushMs: 60_000 });
    q.add([item('a'), item('b'), item('c')]);
    q.add([item('a', 2)]);
    assert.equal(q.stats().pending, 3);
    await q.close();
    assert.deepEqual(target.batches, [['b1', 'c1', 'a2']]);
  });

  it('keeps every item when there is no key function', async () => {
    const target = new Target();
    const q = new WriteBehind(target.write, undefined, {
      logger: silentLogger(),
      noun: 'items',
      flushMs: 60_000,
    });
    q.add([item('a'), item('a'), item('b')]);
    await q.close();
    assert.deepEqual(target.batches, [['a1', 'a1', 'b1']]);
  });

  it('writes after flushMs, and a full batch at once', async () => {
    const target = new Target();
    const q = queue(target, { flushMs: 60_000, batchSize: 2 });
    q.add([item('a')]);
    q.add([item('b'), item('c'), item('d')]);
    // Two full batches go out at once; the fifth item would wait for the flush timer.
    await waitUntil(() => target.batches.length === 2, 'two full batches');
    assert.deepEqual(target.batches, [
      ['a1', 'b1'],
      ['c1', 'd1'],
    ]);
    const timed = queue(target, { flushMs: 10 });
    timed.add([item('e')]);
    await waitUntil(() => target.batches.length === 3, 'the batch after flushMs');
    await Promise.all([q.close(), timed.close()]);
  });

  it('retries a failed batch, newer versions of its keys winning, and reports down and up once each', async () => {
    const target = new Target();
    const q = queue(target, { flushMs: 1 });
    const statuses: StoreStatus[] = [];
    q.onStatus((s) => statuses.push(s));
    target.failing = true;
    q.add([item('a'), item('b')]);
    await waitUntil(() => q.stats().failedFlushes >= 3, 'three failed flushes');
    q.add([item('a', 2), item('c')]);
    const down = q.stats();
    assert.equal(down.status, 'down');
    assert.equal(down.lastError, 'connection refused');
    assert.equal(down.pending, 3);
    target.failing = false;
    await waitUntil(() => q.stats().pending === 0, 'the queue to drain');
    assert.deepEqual(target.batches.flat(), ['b1', 'a2', 'c1']);
    assert.deepEqual(statuses, [{ state: 'down', error: 'connection refused' }, { state: 'up' }]);
    const up = q.stats();
    assert.equal(up.status, 'up');
    assert.equal(up.written, 3);
    assert.ok(up.lastFlushAt !== undefined);
    await q.close();
  });

  it('drops the oldest queued items past maxPending, counts them and logs an error', async () => {
    const target = new Target();
    const { logger, lines } = recordingLogger();
    const q = queue(target, { flushMs: 60_000, batchSize: 2, maxPending: 3, logger });
    q.add(['a', 'b', 'c', 'd', 'e'].map((k) => item(k)));
    assert.equal(q.stats().dropped, 2);
    assert.equal(q.stats().pending, 3);
    assert.ok(lines.some((l) => l.level === 50 && l.msg.includes('write buffer full')));
    await q.close();
    assert.deepEqual(target.batches.flat(), ['c1', 'd1', 'e1']);
  });

  it('gives up at closeTimeoutMs when the database does not answer, and logs what is left', async () => {
    const { logger, lines } = recordingLogger();
    const q = new WriteBehind<Item>(() => new Promise<void>(() => undefined), undefined, {
      logger,
      noun: 'items',
      flushMs: 60_000,
      closeTimeoutMs: 50,
    });
    q.add([item('a'), item('b')]);
    await q.close();
    assert.ok(lines.some((l) => l.level === 50 && l.msg.includes('closing with 2 items not written')));
    assert.throws(() => q.add([item('c')]), /after close/);
  });

  it('flushed() resolves once the items added before it are written, waiting through failures', async () => {
    const target = new Target();
    const q = queue(target, { flushMs: 60_000, batchSize: 2 });
    target.failing = true;
    q.add([item('a'), item('b')]);
    let stored = false;
    const flushed = q.flushed().then(() => (stored = true));
    // Added after the call: not waited for (it stays queued, under a full batch, until the flush timer).
    q.add([item('c')]);
    await waitUntil(() => q.stats().failedFlushes >= 3, 'three failed flushes');
    assert.equal(stored, false, 'not flushed while the database fails');
    target.failing = false;
    await settled(flushed);
    assert.deepEqual(target.batches.flat(), ['a1', 'b1']);
    assert.equal(q.stats().pending, 1);
    await q.close();
  });

  it('flushed() waits for an item replaced after the call through its replacement', async () => {
    const target = new Target();
    const q = queue(target, { flushMs: 1, batchSize: 1 });
    q.add([item('a'), item('b')]);
    const flushed = q.flushed().then(() => [...target.batches.flat()]);
    q.add([item('a', 2)]);
    // b1 is written first; a1 is never written, a2 stands in for it.
    assert.deepEqual(await settled(flushed), ['b1', 'a2']);
    await q.close();
  });

  it('flushed() waits for a failed batch whose keys were written again meanwhile', async () => {
    // A database whose writes the test answers one by one.
    const calls: { items: string[]; answer: (err?: Error) => void }[] = [];
    const written: string[] = [];
    const q = new WriteBehind<Item>(
      (items) =>
        new Promise<void>((resolve, reject) => {
          const names = items.map((i) => `${i.key}${i.version}`);
          calls.push({
            items: names,
            answer: (err) => (err ? reject(err) : (written.push(...names), resolve())),
          });
        }),
      (i) => i.key,
      { logger: silentLogger(), noun: 'items', flushMs: 1, batchSize: 1, retryMinMs: 5, retryMaxMs: 20 },
    );
    q.add([item('a')]);
    await waitUntil(() => calls.length === 1, 'a1 being written');
    const flushed = q.flushed().then(() => [...written]);
    q.add([item('b'), item('a', 2)]);
    calls[0]!.answer(new Error('connection reset'));
    // a2 now carries a1's write: b1 alone is not enough.
    await waitUntil(() => calls.length === 2, 'the retry');
    assert.deepEqual(calls[1]!.items, ['b1']);
    calls[1]!.answer();
    await waitUntil(() => calls.length === 3, 'a2 being written');
    calls[2]!.answer();
    assert.deepEqual(await settled(flushed), ['b1', 'a2']);
    await q.close();
  });

  it('flushed() resolves at once when nothing waits, and rejects when what it waits for is dropped', async () => {
    const target = new Target();
    const q = queue(target, { flushMs: 60_000, batchSize: 2, maxPending: 3 });
    await q.flushed();
    q.add([item('a'), item('b')]);
    const lost = q.flushed();
    q.add(['c', 'd', 'e'].map((k) => item(k)));
    await assert.rejects(lost, /items dropped from the full write buffer/);
    const kept = q.flushed();
    await q.close();
    await kept;
    assert.deepEqual(target.batches.flat(), ['c1', 'd1', 'e1']);
  });

  it('flushed() rejects when close() gives up with the items it waits for unwritten', async () => {
    const q = new WriteBehind<Item>(() => new Promise<void>(() => undefined), undefined, {
      logger: silentLogger(),
      noun: 'items',
      flushMs: 60_000,
      closeTimeoutMs: 50,
    });
    q.add([item('a')]);
    const waiting = q.flushed();
    await q.close();
    await assert.rejects(waiting, /store closed with items not written/);
    await assert.rejects(q.flushed(), /store closed with items not written/);
  });

  it('refuses limits that do not fit together', () => {
    const target = new Target();
    assert.throws(() => queue(target, { batchSize: 10, maxPending: 5 }), RangeError);
    assert.throws(() => queue(target, { flushMs: 0 }), RangeError);
    assert.throws(() => queue(target, { retryMinMs: 100, retryMaxMs: 50 }), RangeError);
  });
});
