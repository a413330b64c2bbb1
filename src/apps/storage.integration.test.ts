/**
 * The write backlog of a writing process's history store (Storage.historyRoom): the background history waits for
 * room before each piece, so that it is fetched no faster than the embedded database stores it. And a reading
 * process's memory, which database reads extend back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/config.ts';
import type { CandleUpdate } from '../domain/candle.ts';
import { MINUTE_MS } from '../domain/interval.ts';
import { bar, settle } from '../ingest/fake-venue.test-support.ts';
import { copyPgliteTemplate } from '../store/pglite-dirs.test-support.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { HISTORY_BACKLOG_BARS, openDatabase, openStorage, startStorage } from './storage.ts';

const T0 = Date.UTC(2024, 0, 1);

function history(count: number): CandleUpdate[] {
  return Array.from({ length: count }, (_, i) => ({
    symbol: 'BTC/USDT',
    interval: '1m' as const,
    state: 'closed' as const,
    bar: bar(T0 + i * MINUTE_MS),
    sources: ['binance' as const],
    backfilled: true,
  }));
}

describe('Storage.historyRoom', () => {
  it('holds the background history while HISTORY_BACKLOG_BARS bars wait for the database, then lets it go on', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tickwire-history-room-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await copyPgliteTemplate(join(dir, 'pglite'));
    const config = loadConfig({ DATA_DIR: dir });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const storage = startStorage(config, silentLogger(), {
      upstreams: config.urls,
      openDatabase: async (...args) => {
        await held;
        return openDatabase(...args);
      },
    });
    t.after(() => storage.close());

    await storage.historyRoom();
    await storage.store.write(history(HISTORY_BACKLOG_BARS));
    let room = false;
    const waiting = storage.historyRoom().then(() => (room = true));
    await settle();
    assert.equal(room, false, 'no room while the database has not taken the backlog');
    assert.equal(storage.memory.count('BTC/USDT', '1m'), HISTORY_BACKLOG_BARS, 'memory has them at once');

    release();
    await waiting;
    assert.equal(room, true);
    await storage.store.flushed();
    const stored = await storage.store.recent('BTC/USDT', '1m', 10, T0 + 10 * MINUTE_MS);
    assert.deepEqual(
      stored.map((s) => s.bar.time),
      Array.from({ length: 10 }, (_, i) => T0 + i * MINUTE_MS),
    );
  });
});

describe('a reading process’s storage (the gateway role)', () => {
  it('extends memory back with a read of the database, so that the same read needs no database again', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tickwire-reading-storage-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await copyPgliteTemplate(join(dir, 'pglite'));
    const config = loadConfig({ DATA_DIR: dir });
    const writer = await openDatabase(config, silentLogger());
    await writer.write(history(200));
    await writer.close();

    const storage = await openStorage(config, silentLogger(), { writes: false });
    t.after(() => storage.close());
    // Memory follows the bus from minute 150 on.
    for (const update of history(200).slice(150)) storage.memory.mirror(update);
    const read = await storage.store.recent('BTC/USDT', '1m', 100);
    assert.deepEqual(
      read.map((s) => (s.bar.time - T0) / MINUTE_MS),
      Array.from({ length: 100 }, (_, i) => 100 + i),
    );
    assert.equal(storage.memory.count('BTC/USDT', '1m'), 100, 'memory holds what the read brought');
  });
});
