import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toPlainString } from '../domain/decimal.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { IncompleteHistoryError, type CandleStore, type StoredCandle } from './candle-store.ts';
import { makeBar, makeUpdate, runCandleStoreContract, uniqueSymbol } from './candle-store.contract.ts';
import { MemoryCandleStore } from './memory-candle-store.ts';
import { sharedPglite } from './shared-pglite.test-support.ts';
import type { SqlCandleStore } from './sql-candle-store.ts';
import { SETTLED_MS, TieredCandleStore } from './tiered-candle-store.ts';
import { ManualClock } from '../util/clock.ts';

const logger = silentLogger();
const MINUTE = 60_000;

// The contract's stores share one database (each test its own symbols); opening is tested in pglite-candle-store's.
const shared = sharedPglite(logger);
// A small window, so that the contract's longer series are answered across the seam of memory and database.
runCandleStoreContract(
  'TieredCandleStore (memory of 100 bars over PGlite)',
  async () =>
    new TieredCandleStore({ memory: new MemoryCandleStore(100), persistent: await shared.store(), logger }),
);

/** Each bar as [minute, close]. */
function summary(bars: readonly StoredCandle[]): [number, string][] {
  return bars.map((s) => [s.bar.time / MINUTE, toPlainString(s.bar.close)]);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe('TieredCandleStore', () => {
  let database: SqlCandleStore;
  const memory = new MemoryCandleStore(1000);
  let tiered: TieredCandleStore;
  const symbol = uniqueSymbol();

  // The database holds minutes 0-99 ('db'); memory holds minutes 90-119 ('mem'), as a gateway started at minute 90
  // would: it overlaps the database, where it wins.
  before(async () => {
    database = await shared.store();
    tiered = new TieredCandleStore({ memory, persistent: database, logger });
    await database.write(range(0, 100).map((i) => makeUpdate(symbol, i * MINUTE, { close: `${i}.1` })));
    for (const i of range(90, 120))
      memory.put(symbol, '1m', makeBar(i * MINUTE, { close: `${i}.2` }), ['okx']);
  });
  after(() => tiered.close());

  it('answers from memory alone when memory holds `limit` bars', async () => {
    const got = await tiered.recent(symbol, '1m', 20);
    assert.deepEqual(
      summary(got),
      range(100, 120).map((i) => [i, `${i}.2`]),
    );
  });

  it('joins the database and memory at the seam without a duplicate or a gap', async () => {
    const got = await tiered.recent(symbol, '1m', 50);
    assert.deepEqual(summary(got), [
      ...range(70, 90).map((i): [number, string] => [i, `${i}.1`]),
      ...range(90, 120).map((i): [number, string] => [i, `${i}.2`]),
    ]);
    assert.deepEqual(got[20]?.sources, ['okx']);
    assert.deepEqual(summary(await tiered.recent(symbol, '1m', 5, 92 * MINUTE)), [
      [87, '87.1'],
      [88, '88.1'],
      [89, '89.1'],
      [90, '90.2'],
      [91, '91.2'],
    ]);
    assert.deepEqual(summary(await tiered.recent(symbol, '1m', 3, 50 * MINUTE)), [
      [47, '47.1'],
      [48, '48.1'],
      [49, '49.1'],
    ]);
  });

  it('fills from the database a hole in memory (a late revision of a bar older than the window)', async () => {
    memory.put(symbol, '1m', makeBar(60 * MINUTE, { close: '60.3' }), ['okx']);
    const got = await tiered.recent(symbol, '1m', 62);
    assert.deepEqual(summary(got), [
      ...range(58, 60).map((i): [number, string] => [i, `${i}.1`]),
      [60, '60.3'],
      ...range(61, 90).map((i): [number, string] => [i, `${i}.1`]),
      ...range(90, 120).map((i): [number, string] => [i, `${i}.2`]),
    ]);
  });

  it('writes to memory at once and to the database', async () => {
    const other = uniqueSymbol();
    const update = makeUpdate(other, 0, { close: '7' });
    const pending = tiered.write([update]);
    assert.equal(memory.count(other, '1m'), 1);
    await pending;
    assert.deepEqual(summary(await database.recent(other, '1m', 10)), [[0, '7']]);
  });

  it('flushed() waits for the persistent store: memory holds the bars, the database decides', async () => {
    let release!: () => void;
    const persistentFlushed = new Promise<void>((resolve) => (release = resolve));
    const persistent = new MemoryCandleStore();
    persistent.flushed = () => persistentFlushed;
    const store = new TieredCandleStore({ memory: new MemoryCandleStore(), persistent, logger });
    await store.write([makeUpdate(uniqueSymbol(), 0)]);
    let flushed = false;
    const waiting = store.flushed().then(() => (flushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(flushed, false, 'not flushed while the persistent store is not');
    release();
    await waiting;
    assert.equal(flushed, true);
  });

  it('never answers a truncated window: memory’s bars come as an IncompleteHistoryError when the database fails', async () => {
    const broken = await shared.store();
    await broken.close();
    const window = new MemoryCandleStore();
    const store = new TieredCandleStore({ memory: window, persistent: broken, logger });
    const s = uniqueSymbol();
    for (const i of range(0, 3)) window.put(s, '1m', makeBar(i * MINUTE, { close: `${i}.5` }));

    const partial = await store.recent(s, '1m', 10).then(
      () => assert.fail('a window memory holds only part of must not resolve'),
      (err: unknown) => err,
    );
    assert.ok(partial instanceof IncompleteHistoryError);
    assert.deepEqual(summary(partial.available), [
      [0, '0.5'],
      [1, '1.5'],
      [2, '2.5'],
    ]);
    assert.ok(partial.cause instanceof Error, 'the database error is the cause');

    const none = await store.recent(s, '1m', 10, 0).catch((err: unknown) => err);
    assert.ok(none instanceof IncompleteHistoryError);
    assert.deepEqual(none.available, [], 'memory holds nothing before `end`');

    // A window memory holds in full is the whole answer: the database is not asked.
    assert.deepEqual(summary(await store.recent(s, '1m', 2)), [
      [1, '1.5'],
      [2, '2.5'],
    ]);
  });

  it('with extendMemoryFromReads, a database read extends memory back: the same read again needs no database', async () => {
    const database = await shared.store();
    const s = uniqueSymbol();
    await database.write(range(0, 100).map((i) => makeUpdate(s, i * MINUTE, { close: `${i}.1` })));
    let databaseReads = 0;
    const counted: CandleStore = {
      write: (updates) => database.write(updates),
      recent: (...args) => {
        databaseReads++;
        return database.recent(...args);
      },
      flushed: () => database.flushed(),
      close: async () => undefined,
    };
    const window = new MemoryCandleStore(1000);
    const store = new TieredCandleStore({
      memory: window,
      persistent: counted,
      logger,
      extendMemoryFromReads: true,
    });
    // A gateway started at minute 95: memory follows the bus from there.
    for (const i of range(95, 102)) window.mirror(makeUpdate(s, i * MINUTE, { close: `${i}.2` }));
    const expected = [
      ...range(52, 95).map((i): [number, string] => [i, `${i}.1`]),
      ...range(95, 102).map((i): [number, string] => [i, `${i}.2`]),
    ];
    assert.deepEqual(summary(await store.recent(s, '1m', 50)), expected);
    assert.equal(databaseReads, 1);
    // The read brought minutes 50-99: memory holds 50-101 now.
    assert.equal(window.count(s, '1m'), 52);
    assert.deepEqual(summary(await store.recent(s, '1m', 50)), expected);
    const older = (from: number, to: number): [number, string][] => range(from, to).map((i) => [i, `${i}.1`]);
    assert.deepEqual(summary(await store.recent(s, '1m', 20, 70 * MINUTE)), older(50, 70));
    assert.equal(databaseReads, 1, 'answered from memory');
    // Deeper than memory reaches: the database, and memory then reaches that far.
    assert.deepEqual(summary(await store.recent(s, '1m', 25, 70 * MINUTE)), older(45, 70));
    assert.equal(databaseReads, 2);
    assert.deepEqual(summary(await store.recent(s, '1m', 25, 70 * MINUTE)), older(45, 70));
    assert.equal(databaseReads, 2);
    // Without the option, memory is only what was written to it.
    const plainWindow = new MemoryCandleStore(1000);
    const plainStore = new TieredCandleStore({ memory: plainWindow, persistent: counted, logger });
    for (const i of range(95, 102)) plainWindow.mirror(makeUpdate(s, i * MINUTE, { close: `${i}.2` }));
    await plainStore.recent(s, '1m', 50);
    await plainStore.recent(s, '1m', 50);
    assert.equal(databaseReads, 4);
    assert.equal(plainWindow.count(s, '1m'), 7);
  });

  it('extends memory back only with a read made SETTLED_MS after the bar before memory’s first ended', async () => {
    const database = await shared.store();
    const s = uniqueSymbol();
    await database.write(range(0, 100).map((i) => makeUpdate(s, i * MINUTE, { close: `${i}.1` })));
    const clock = new ManualClock(95 * MINUTE + 1000);
    const window = new MemoryCandleStore(1000);
    const store = new TieredCandleStore({
      memory: window,
      persistent: database,
      logger,
      extendMemoryFromReads: true,
      clock,
    });
    for (const i of range(95, 102)) window.mirror(makeUpdate(s, i * MINUTE, { close: `${i}.2` }));
    await store.recent(s, '1m', 50);
    assert.equal(window.count(s, '1m'), 7, 'minute 94 ended a second ago: its final state may not be stored');
    clock.advanceTo(95 * MINUTE + SETTLED_MS);
    await store.recent(s, '1m', 50);
    assert.equal(window.count(s, '1m'), 52);
  });
});
