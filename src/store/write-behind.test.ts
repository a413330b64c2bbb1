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

  it('refuses limits that do not fit together', () => {
    const target = new Target();
    assert.throws(() => queue(target, { batchSize: 10, maxPending: 5 }), RangeError);
    assert.throws(() => queue(target, { flushMs: 0 }), RangeError);
    assert.throws(() => queue(target, { retryMinMs: 100, retryMaxMs: 50 }), RangeError);
  });
});
