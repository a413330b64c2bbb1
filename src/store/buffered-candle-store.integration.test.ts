import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { createTestDatabase, serviceSkip, TEST_DATABASE_URL } from '../../test/support/services.ts';
import { startProxyFor, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import type { CandleUpdate } from '../domain/candle.ts';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import type { Trade } from '../domain/trade.ts';
import { silentLogger, type Logger } from '../telemetry/logger.ts';
import { BufferedCandleStore, BufferedTradeWriter, type StoreStatus } from './buffered-candle-store.ts';
import {
  expected,
  makeUpdate,
  plain,
  runCandleStoreContract,
  uniqueSymbol,
} from './candle-store.contract.ts';
import type { Interval } from '../domain/interval.ts';
import type { StoredCandle } from './candle-store.ts';
import { decodeCandleRow, type CandleRow, type CandleRowStore } from './candle-row.ts';
import { MemoryCandleStore } from './memory-candle-store.ts';
import { openPgliteCandleStore } from './pglite-candle-store.ts';
import { freshPgliteDir } from './pglite-dirs.test-support.ts';
import { sharedPglite } from './shared-pglite.test-support.ts';
import { OpeningCandleStore } from './opening-candle-store.ts';
import { openPostgresCandleStore } from './postgres-candle-store.ts';
import { TieredCandleStore } from './tiered-candle-store.ts';

const logger = silentLogger();
const MINUTE = 60_000;

// The contract's stores share one database (each test its own symbols); opening is tested in pglite-candle-store's.
const shared = sharedPglite(logger);
runCandleStoreContract(
  'BufferedCandleStore over PGlite',
  async () => new BufferedCandleStore(await shared.store(), { logger, flushMs: 20 }),
);

async function waitUntil(done: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function recordingLogger(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as { level: number; msg: string });
      }
      done();
    },
  });
  return { logger: pino(sink), lines };
}

/** A database held in memory whose writes fail while `failing` is set and take `slowMs` each. */
class SlowDatabase implements CandleRowStore {
  private readonly bars = new MemoryCandleStore();
  private count = 0;
  failing = false;
  slowMs = 0;

  async write(updates: readonly CandleUpdate[]): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.slowMs));
    if (this.failing) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    await this.bars.write(updates);
    this.count += updates.length;
  }

  writeRows(rows: readonly CandleRow[]): Promise<void> {
    return this.write(rows.map(decodeCandleRow));
  }

  recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    return this.bars.recent(symbol, interval, limit, end);
  }

  /** Rows written (each update counts once). */
  rows(): number {
    return this.count;
  }

  async flushed(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('BufferedCandleStore', () => {
  it('answers written bars before they reach the database, the newest waiting version winning', async () => {
    const dir = await freshPgliteDir();
    const target = await openPgliteCandleStore({ dataDir: dir, logger });
    // flushMs long enough that nothing is written during the test unless close() writes it.
    const store = new BufferedCandleStore(target, { logger, flushMs: 60_000 });
    const symbol = uniqueSymbol();
    try {
      await target.write([0, 1, 2].map((i) => makeUpdate(symbol, i * MINUTE, { close: '1' })));
      const waiting = [
        makeUpdate(symbol, 2 * MINUTE, { close: '2', sources: ['okx'] }),
        makeUpdate(symbol, 3 * MINUTE, { close: '3' }),
        makeUpdate(symbol, 3 * MINUTE, { close: '4', sources: ['okx'], backfilled: true }),
        makeUpdate(symbol, 3 * MINUTE, { close: '5', interval: '5m' }),
        makeUpdate(uniqueSymbol(), 3 * MINUTE, { close: '6' }),
      ];
      await store.write(waiting);
      assert.equal(store.stats().pending, 5);
      assert.deepEqual(
        (await store.recent(symbol, '1m', 3)).map((s) => [s.bar.time / MINUTE, toPlainString(s.bar.close)]),
        [
          [1, '1'],
          [2, '2'],
          [3, '4'],
        ],
      );
      assert.deepEqual(
        (await store.recent(symbol, '1m', 10, 3 * MINUTE)).map((s) => toPlainString(s.bar.close)),
        ['1', '1', '2'],
      );
    } finally {
      await store.close();
    }
    const reopened = await openPgliteCandleStore({ dataDir: dir, logger });
    try {
      assert.deepEqual(
        (await reopened.recent(symbol, '1m', 10)).map((s) => toPlainString(s.bar.close)),
        ['1', '1', '2', '4'],
        'close() wrote the waiting bars',
      );
    } finally {
      await reopened.close();
    }
  });

  it('flushed() resolves only once the database holds every bar written before it, through failures', async () => {
    const target = new SlowDatabase();
    const store = new BufferedCandleStore(target, { logger, flushMs: 10, retryMinMs: 5, retryMaxMs: 20 });
    const symbol = uniqueSymbol();
    try {
      target.failing = true;
      // Start-up history: more than two batches of 1,000 rows.
      const history = Array.from({ length: 2500 }, (_, i) => makeUpdate(symbol, i * MINUTE, { close: '1' }));
      await store.write(history);
      let stored = false;
      let rowsWhenFlushed = 0;
      const flushed = store.flushed().then(() => {
        stored = true;
        rowsWhenFlushed = target.rows();
      });
      await store.write([makeUpdate(symbol, 2500 * MINUTE, { close: '2', state: 'live' })]);
      await waitUntil(() => store.stats().failedFlushes >= 3, 'three failed batches');
      assert.equal(stored, false, 'the database holds none of it yet');
      assert.equal(target.rows(), 0);

      target.failing = false;
      target.slowMs = 20;
      await waitUntil(() => stored, 'flushed()');
      await flushed;
      assert.ok(rowsWhenFlushed >= 2500, `${rowsWhenFlushed} rows in the database when flushed() resolved`);
      assert.deepEqual(
        (await target.recent(symbol, '1m', 2500, 2500 * MINUTE)).map((s) => s.bar.time),
        history.map((u) => u.bar.time),
      );
    } finally {
      await store.close();
    }
  });

  it('tells how long each batch write took and whether it succeeded (the write-time metric)', async () => {
    const target = new SlowDatabase();
    const writes: { ms: number; ok: boolean }[] = [];
    const store = new BufferedCandleStore(target, {
      logger,
      flushMs: 10,
      retryMinMs: 5,
      retryMaxMs: 20,
      onBatchWritten: (ms, ok) => writes.push({ ms, ok }),
    });
    const symbol = uniqueSymbol();
    try {
      target.failing = true;
      target.slowMs = 30;
      await store.write([makeUpdate(symbol, 0, { close: '1' })]);
      await waitUntil(() => writes.length >= 1, 'a failed batch');
      target.failing = false;
      // The store's retry timer does not hold the process open: wait on one that does.
      await waitUntil(() => writes.at(-1)?.ok === true, 'a successful batch');
      await store.flushed();
      assert.equal(writes[0]?.ok, false);
      assert.equal(writes.at(-1)?.ok, true);
      for (const w of writes) assert.ok(w.ms >= 25, `a batch of a 30 ms database took ${w.ms} ms`);
    } finally {
      await store.close();
    }
  });

  it('refuses a bar it could never store, at write time', async () => {
    const target = await shared.store();
    const store = new BufferedCandleStore(target, { logger });
    try {
      const good = makeUpdate(uniqueSymbol(), 0);
      await assert.rejects(
        store.write([good, { ...good, bar: { ...good.bar, time: Number.NaN } }]),
        RangeError,
      );
      assert.equal(store.stats().pending, 0);
    } finally {
      await store.close();
    }
  });
});

describe('BufferedCandleStore through PostgreSQL outages', { skip: await serviceSkip('postgres') }, () => {
  let db: { url: string; drop(): Promise<void> };
  let proxy: TcpProxy;
  let raw: pg.Client;
  before(async () => {
    db = await createTestDatabase();
    proxy = await startProxyFor(TEST_DATABASE_URL);
    // Migrate directly, so that the tests' stores open through the proxy on a ready schema.
    await (await openPostgresCandleStore({ url: db.url, logger })).close();
    raw = new pg.Client({ connectionString: db.url });
    await raw.connect();
  });
  after(async () => {
    await raw.end();
    await proxy.close();
    await db.drop();
  });

  function proxiedUrl(): string {
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return url.toString();
  }

  /** Rows of `symbol` in the database, as `plain` renders bars, oldest first. */
  async function rowsOf(symbol: string): Promise<{ time: number; close: string; venue: string }[]> {
    const { rows } = await raw.query<{ time: number; close: string; venue: string }>(
      `SELECT (extract(epoch FROM "time") * 1000)::float8 AS time, close::text AS close, venue
       FROM candles WHERE symbol = $1 ORDER BY "time", venue`,
      [symbol],
    );
    return rows;
  }

  it('rides out an outage: down once, bars kept and retried, all written exactly once, up again', async () => {
    proxy.restore();
    const { logger: recording, lines } = recordingLogger();
    const store = new BufferedCandleStore(
      await openPostgresCandleStore({ url: proxiedUrl(), logger: recording }),
      {
        logger: recording,
        flushMs: 20,
        batchSize: 25,
        retryMinMs: 20,
        retryMaxMs: 200,
      },
    );
    const statuses: StoreStatus[] = [];
    store.onStatus((s) => statuses.push(s));
    const symbol = uniqueSymbol();
    const last = new Map<number, CandleUpdate>();
    const write = async (updates: CandleUpdate[]): Promise<void> => {
      for (const u of updates) last.set(u.bar.time, u);
      await store.write(updates);
    };
    try {
      await write([0, 1, 2].map((i) => makeUpdate(symbol, i * MINUTE, { close: `${i}.1` })));
      await waitUntil(() => store.stats().written === 3, 'the first bars to be written');

      proxy.cut();
      // Live bars keep coming during the outage: each minute's bar, and a revision of the one before it.
      for (let i = 3; i < 60; i++) {
        await write([
          makeUpdate(symbol, i * MINUTE, { close: `${i}.1`, state: 'live' }),
          makeUpdate(symbol, (i - 1) * MINUTE, { close: `${i - 1}.2`, state: 'closed' }),
        ]);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await waitUntil(() => store.stats().failedFlushes >= 2, 'writes to fail');
      const down = store.stats();
      assert.equal(down.status, 'down');
      // Minutes 2 to 59: minute 2 was written before the outage and revised during it.
      assert.equal(down.pending, 58);
      assert.equal(down.dropped, 0);
      assert.ok(down.lastError !== undefined);
      assert.equal(statuses.length, 1);
      assert.equal(statuses[0]?.state, 'down');

      proxy.restore();
      await waitUntil(
        () => store.stats().pending === 0 && store.stats().status === 'up',
        'the backlog to drain',
      );
      assert.deepEqual(
        statuses.map((s) => s.state),
        ['down', 'up'],
      );
      assert.ok(lines.some((l) => l.level === 40 && l.msg.includes('failed; kept for a retry')));
      const rows = await rowsOf(symbol);
      assert.equal(rows.length, 60);
      assert.deepEqual(
        rows,
        [...last.values()]
          .sort((a, b) => a.bar.time - b.bar.time)
          .map((u) => ({ time: u.bar.time, close: toPlainString(u.bar.close), venue: 'binance' })),
      );
      assert.deepEqual((await store.recent(symbol, '1m', 60)).map(plain), [...last.values()].map(expected));
    } finally {
      proxy.restore();
      await store.close();
    }
  });

  it('drops the oldest bars past maxPending during an outage, counts them, and writes the rest', async () => {
    proxy.restore();
    const { logger: recording, lines } = recordingLogger();
    const store = new BufferedCandleStore(
      await openPostgresCandleStore({ url: proxiedUrl(), logger: recording }),
      {
        logger: recording,
        flushMs: 20,
        batchSize: 5,
        maxPending: 20,
        retryMinMs: 20,
        retryMaxMs: 200,
      },
    );
    const symbol = uniqueSymbol();
    try {
      proxy.cut();
      await store.write(
        Array.from({ length: 50 }, (_, i) => makeUpdate(symbol, i * MINUTE, { close: String(i) })),
      );
      assert.equal(store.stats().dropped, 30);
      assert.equal(store.stats().pending, 20);
      assert.ok(lines.some((l) => l.level === 50 && l.msg.includes('write buffer full')));
      await waitUntil(() => store.stats().status === 'down', 'the outage to be noticed');
      proxy.restore();
      await waitUntil(() => store.stats().pending === 0, 'the backlog to drain');
      assert.deepEqual(
        (await rowsOf(symbol)).map((r) => r.close),
        Array.from({ length: 20 }, (_, i) => String(30 + i)),
      );
    } finally {
      proxy.restore();
      await store.close();
    }
  });

  it('writes what is waiting on close', async () => {
    proxy.restore();
    const store = new BufferedCandleStore(await openPostgresCandleStore({ url: proxiedUrl(), logger }), {
      logger,
      flushMs: 60_000,
    });
    const symbol = uniqueSymbol();
    await store.write([0, 1, 2].map((i) => makeUpdate(symbol, i * MINUTE)));
    await store.close();
    assert.equal((await rowsOf(symbol)).length, 3);
  });

  it('gives up closing after closeTimeoutMs while the database is away, and says how many bars are lost', async () => {
    proxy.restore();
    const { logger: recording, lines } = recordingLogger();
    const store = new BufferedCandleStore(
      await openPostgresCandleStore({ url: proxiedUrl(), logger: recording }),
      {
        logger: recording,
        flushMs: 60_000,
        closeTimeoutMs: 300,
        retryMinMs: 20,
      },
    );
    proxy.cut();
    try {
      await store.write([0, 1].map((i) => makeUpdate(uniqueSymbol(), i * MINUTE)));
      await store.close();
      assert.ok(lines.some((l) => l.level === 50 && l.msg.includes('closing with 2 bars not written')));
    } finally {
      proxy.restore();
    }
  });

  it('writes trades through an outage, each once', async () => {
    proxy.restore();
    const candles = await openPostgresCandleStore({ url: proxiedUrl(), logger });
    const writer = new BufferedTradeWriter(candles, { logger, flushMs: 20, retryMinMs: 20, retryMaxMs: 200 });
    const symbol = uniqueSymbol();
    const trade = (id: string): Trade => ({
      venue: 'bitget',
      symbol,
      id,
      price: parseDecimal('0.00000123'),
      size: parseDecimal('1000000'),
      side: 'buy',
      fills: 1,
      time: 1_700_000_000_000,
      receivedAt: 1_700_000_000_001,
    });
    try {
      proxy.cut();
      writer.write([trade('1'), trade('2')]);
      writer.write([trade('2'), trade('3')]);
      await waitUntil(() => writer.stats().status === 'down', 'the outage to be noticed');
      assert.equal(writer.stats().pending, 4);
      proxy.restore();
      await waitUntil(() => writer.stats().pending === 0, 'the trades to be written');
      const { rows } = await raw.query<{ id: string; price: string }>(
        'SELECT id, price::text AS price FROM trades WHERE symbol = $1 ORDER BY id',
        [symbol],
      );
      assert.deepEqual(
        rows.map((r) => [r.id, r.price]),
        [
          ['1', '0.00000123'],
          ['2', '0.00000123'],
          ['3', '0.00000123'],
        ],
      );
    } finally {
      proxy.restore();
      await writer.close();
      await candles.close();
    }
  });
});

describe('BufferedCandleStore in front of a PGlite database still opening', () => {
  it('memory answers at once; the bars written meanwhile reach the database in order once it has opened', async () => {
    let open!: () => void;
    const held = new Promise<void>((resolve) => (open = resolve));
    const dir = await freshPgliteDir();
    const opening = held.then(() => openPgliteCandleStore({ dataDir: dir, logger }));
    const database = new OpeningCandleStore(opening, { readsWhileOpening: 'nothing-yet' });
    const buffered = new BufferedCandleStore(database, { logger, flushMs: 5 });
    const store = new TieredCandleStore({ memory: new MemoryCandleStore(100), persistent: buffered, logger });
    const symbol = uniqueSymbol();
    // Two states of one bar and two of the next: the database must end with the last state of each.
    await store.write([makeUpdate(symbol, MINUTE, { close: '100' })]);
    await store.write([
      makeUpdate(symbol, MINUTE, { close: '101' }),
      makeUpdate(symbol, 2 * MINUTE, { close: '102' }),
    ]);
    await store.write([makeUpdate(symbol, 2 * MINUTE, { close: '103' })]);
    assert.deepEqual(
      (await store.recent(symbol, '1m', 10)).map((s) => toPlainString(s.bar.close)),
      ['101', '103'],
      'memory answers before the database is open',
    );
    let flushed = false;
    const flushing = store.flushed().then(() => (flushed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(flushed, false, 'nothing is stored before the database is open');
    assert.equal(buffered.stats().pending, 2);
    open();
    await flushing;
    const stored = await (await opening).recent(symbol, '1m', 10);
    assert.deepEqual(
      stored.map((s) => [s.bar.time / MINUTE, toPlainString(s.bar.close)]),
      [
        [1, '101'],
        [2, '103'],
      ],
    );
    await store.close();
  });
});
