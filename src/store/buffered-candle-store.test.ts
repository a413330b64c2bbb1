import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleUpdate } from '../domain/candle.ts';
import { toPlainString } from '../domain/decimal.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { BufferedCandleStore } from './buffered-candle-store.ts';
import { makeUpdate } from './candle-store.contract.ts';
import type { StoredCandle } from './candle-store.ts';
import { decodeCandleRow, type CandleRow, type CandleRowStore } from './candle-row.ts';
import { MemoryCandleStore } from './memory-candle-store.ts';

const logger = silentLogger();
const MINUTE = 60_000;
const CHECKPOINT_MS = 5000;

/** A database held in memory that records every row it is given, in order, as "venue interval minute state close". */
class RecordingDatabase implements CandleRowStore {
  private readonly bars = new MemoryCandleStore();
  readonly rows: string[] = [];

  async write(updates: readonly CandleUpdate[]): Promise<void> {
    for (const u of updates) {
      this.rows.push(
        `${u.sources[0] ?? ''} ${u.interval} ${u.bar.time / MINUTE} ${u.state} ${toPlainString(u.bar.close)}`,
      );
    }
    await this.bars.write(updates);
  }

  writeRows(rows: readonly CandleRow[]): Promise<void> {
    return this.write(rows.map(decodeCandleRow));
  }

  recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    return this.bars.recent(symbol, interval, limit, end);
  }

  async flushed(): Promise<void> {}
  async close(): Promise<void> {}
}

function setUp(): { clock: ManualClock; target: RecordingDatabase; store: BufferedCandleStore } {
  const clock = new ManualClock(0);
  const target = new RecordingDatabase();
  // The write buffer's own batches run on real timers; flushMs is short so that flushed() answers quickly.
  const store = new BufferedCandleStore(target, {
    logger,
    flushMs: 10,
    liveCheckpointMs: CHECKPOINT_MS,
    clock,
  });
  return { clock, target, store };
}

const live = (minute: number, close: string, venue: VenueId = 'binance'): CandleUpdate =>
  makeUpdate('BTC/USDT', minute * MINUTE, { state: 'live', close, sources: [venue] });
const closed = (minute: number, close: string, venue: VenueId = 'binance'): CandleUpdate =>
  makeUpdate('BTC/USDT', minute * MINUTE, { state: 'closed', close, sources: [venue] });

/** Waits until the target has `rows` rows: the write buffer's batches run on a real 10 ms timer. */
async function written(target: RecordingDatabase, rows: number): Promise<void> {
  const until = Date.now() + 30_000;
  while (target.rows.length < rows) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${rows} rows`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Awaits `promise` with the event loop kept alive: the write buffer's own timers do not hold the process open. */
async function keptAlive<T>(promise: Promise<T>): Promise<T> {
  const alive = setInterval(() => undefined, 1000);
  try {
    return await promise;
  } finally {
    clearInterval(alive);
  }
}

describe('BufferedCandleStore: bars in progress written at the checkpoint period', () => {
  it('holds live bars until the checkpoint and writes only the newest state of each', async () => {
    const { clock, target, store } = setUp();
    for (const close of ['1', '2', '3']) await store.write([live(0, close)]);
    clock.advance(CHECKPOINT_MS - 1);
    assert.equal(store.stats().pending, 1, 'held, counted as waiting');
    assert.deepEqual(
      (await store.recent('BTC/USDT', '1m', 5)).map((s) => toPlainString(s.bar.close)),
      ['3'],
      'readers see the held bar',
    );
    assert.equal(store.stats().heldLive, 1, 'nothing queued for the database before the checkpoint');
    clock.advance(1);
    assert.equal(store.stats().heldLive, 0);
    await written(target, 1);
    assert.deepEqual(target.rows, ['binance 1m 0 live 3']);
    // The next checkpoint period starts with the next live write.
    await store.write([live(0, '4')]);
    clock.advance(CHECKPOINT_MS);
    await written(target, 2);
    assert.deepEqual(target.rows, ['binance 1m 0 live 3', 'binance 1m 0 live 4']);
    await keptAlive(store.close());
  });

  it('writes a closed bar at once, after the live bars held before it, in the order of their writes', async () => {
    const { target, store } = setUp();
    // A failover within minute 1: the old venue's live bar is held when the new venue's bars take over.
    await store.write([live(1, '10', 'okx')]);
    await store.write([live(1, '11', 'binance'), closed(0, '9', 'binance')]);
    await store.write([closed(1, '12', 'binance'), live(2, '13', 'binance')]);
    assert.equal(store.stats().heldLive, 1, 'the new live bar is held');
    await written(target, 3);
    // The new venue's live bar of minute 1 was queued before its closed state replaced it in the queue.
    assert.deepEqual(target.rows, ['okx 1m 1 live 10', 'binance 1m 0 closed 9', 'binance 1m 1 closed 12']);
    // The database's composite is the row written last: the new venue's closed bar, not the old venue's live one.
    assert.deepEqual(
      (await target.recent('BTC/USDT', '1m', 5)).map((s) => [s.sources[0], toPlainString(s.bar.close)]),
      [
        ['binance', '9'],
        ['binance', '12'],
      ],
    );
    await keptAlive(store.close());
  });

  it('a closed bar replaces its own held live state, which is never written', async () => {
    const { target, store } = setUp();
    await store.write([live(0, '1')]);
    await store.write([live(0, '2')]);
    await store.write([closed(0, '3')]);
    await keptAlive(store.flushed());
    assert.deepEqual(target.rows, ['binance 1m 0 closed 3']);
    await keptAlive(store.close());
  });

  it('flushed() and close() write the held live bars without waiting for the checkpoint', async () => {
    const { target, store } = setUp();
    await store.write([live(0, '1')]);
    await keptAlive(store.flushed());
    assert.deepEqual(target.rows, ['binance 1m 0 live 1']);
    await store.write([live(0, '2')]);
    await keptAlive(store.close());
    assert.deepEqual(target.rows, ['binance 1m 0 live 1', 'binance 1m 0 live 2']);
    await assert.rejects(store.write([live(0, '3')]), /write of bars after close/);
  });

  it('refuses a checkpoint period that is not a positive whole number of ms', () => {
    for (const liveCheckpointMs of [0, 1.5]) {
      assert.throws(
        () => new BufferedCandleStore(new RecordingDatabase(), { logger, liveCheckpointMs }),
        /liveCheckpointMs must be a positive integer/,
      );
    }
  });
});
