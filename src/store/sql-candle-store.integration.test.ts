import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseDecimal } from '../domain/decimal.ts';
import type { Trade } from '../domain/trade.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { SlicingTurns } from '../util/turn-budget.test-support.ts';
import { expected, makeUpdate, plain, uniqueSymbol } from './candle-store.contract.ts';
import { runMigrations } from './migrations.ts';
import { SqlCandleStore } from './sql-candle-store.ts';
import { freshPgliteDir, removePgliteDirs } from './pglite-dirs.test-support.ts';
import { openPgliteWorker } from './pglite-worker-client.ts';
import type { SqlClient } from './sql-client.ts';

// SqlCandleStore passes the CandleStore contract in pglite-candle-store.integration.test.ts and
// postgres-candle-store.integration.test.ts; these tests look at the rows themselves, on a PGlite database in its
// worker thread, as Tickwire runs it (a copy of the shared empty database, rather than seconds of initdb).
describe('SqlCandleStore', () => {
  let client: SqlClient;
  let store: SqlCandleStore;
  before(async () => {
    client = await openPgliteWorker({ dataDir: await freshPgliteDir() });
    await runMigrations(client, silentLogger());
    store = new SqlCandleStore(client);
  });
  after(async () => {
    await store.close();
    await removePgliteDirs();
  });

  async function rows(symbol: string): Promise<{ venue: string; close: string; revision: string }[]> {
    const result = await client.query<{ venue: string; close: string; revision: string }>(
      `SELECT venue, close::text AS close, revision::text AS revision FROM candles WHERE symbol = $1
       ORDER BY "time", venue`,
      [symbol],
    );
    return result.rows;
  }

  it('keeps one row per venue and time, keyed by the first source', async () => {
    const symbol = uniqueSymbol();
    await store.write([
      makeUpdate(symbol, 0, { sources: ['binance', 'okx'], close: '1' }),
      makeUpdate(symbol, 0, { sources: ['okx'], close: '2' }),
      makeUpdate(symbol, 0, { sources: [], close: '3' }),
    ]);
    assert.deepEqual(
      (await rows(symbol)).map((r) => [r.venue, r.close]),
      [
        ['', '3'],
        ['binance', '1'],
        ['okx', '2'],
      ],
    );
  });

  it('runs calls in call order: a later, smaller write of a row does not overtake a larger one before it', async () => {
    const symbol = uniqueSymbol();
    const minute = 60_000;
    // The first call's parameters take several turns to build (candleColumns); the second's take one.
    const large = Array.from({ length: 600 }, (_, i) => makeUpdate(symbol, i * minute, { close: '1' }));
    const first = store.write(large);
    const second = store.write([makeUpdate(symbol, 599 * minute, { close: '2' })]);
    await Promise.all([first, second]);
    const last = (await rows(symbol)).at(-1);
    assert.equal(last?.close, '2');
  });

  it('encodes a long write and decodes a long read a slice at a time under its turn budget', async () => {
    const symbol = uniqueSymbol();
    const minute = 60_000;
    const turns = new SlicingTurns();
    // The same database; not closed here (closing a store closes its client).
    const sliced = new SqlCandleStore(client, turns);
    const updates = Array.from({ length: 1000 }, (_, i) =>
      makeUpdate(symbol, i * minute, { close: `${100 + i}.25` }),
    );
    await sliced.write(updates);
    assert.equal(turns.turns, 4, 'written 250 bars a slice');
    // Each slice waits for a turn of its own (SlicingTurns; the budget's own tests show the loop runs between).
    const got = await sliced.recent(symbol, '1m', 1000);
    assert.deepEqual(got.map(plain), updates.map(expected));
    assert.equal(turns.turns, 4 + 10, 'read 100 bars a slice');
  });

  it('writes a call of more rows than one statement takes, in order, every field as given', async () => {
    const symbol = uniqueSymbol();
    const minute = 60_000;
    // 6,000 bars of one venue (more than one statement's 5,000), then the same times from another venue, which
    // the composite serves as the row written last.
    const first = Array.from({ length: 6000 }, (_, i) =>
      makeUpdate(symbol, i * minute, {
        sources: ['binance', 'okx'],
        close: `${i}.000000000000000001`,
        backfilled: i % 2 === 0,
      }),
    );
    const second = Array.from({ length: 6000 }, (_, i) =>
      makeUpdate(symbol, i * minute, {
        sources: ['okx'],
        close: `${i}.5`,
        state: i === 5999 ? 'live' : 'closed',
      }),
    );
    await store.write([...first, ...second]);
    const got = await store.recent(symbol, '1m', 10_000);
    assert.equal(got.length, 6000);
    assert.deepEqual(got.map(plain), second.map(expected));
    const written = await rows(symbol);
    assert.equal(written.length, 12_000);
    // Every okx row was written after every binance row of the call: higher revisions, and rising in call order.
    const revisions = (venue: string): bigint[] =>
      written.filter((r) => r.venue === venue).map((r) => BigInt(r.revision));
    const [binance, okx] = [revisions('binance'), revisions('okx')];
    assert.ok(binance.every((r, i) => i === 0 || r > (binance[i - 1] as bigint)));
    assert.ok(okx.every((r, i) => i === 0 || r > (okx[i - 1] as bigint)));
    assert.ok((okx[0] as bigint) > (binance[binance.length - 1] as bigint));
    const older = await store.recent(symbol, '1m', 3, 3 * minute);
    assert.deepEqual(older.map(plain), second.slice(0, 3).map(expected));
    const { rows: stored } = await client.query<{ sources: string[]; backfilled: boolean; close: string }>(
      `SELECT sources, backfilled, close::text AS close FROM candles WHERE symbol = $1 AND venue = 'binance'
       AND "time" = 'epoch'::timestamptz + interval '2 minutes'`,
      [symbol],
    );
    assert.deepEqual(stored, [
      { sources: ['binance', 'okx'], backfilled: true, close: '2.000000000000000001' },
    ]);
  });

  it('leaves a row and its revision alone when the same bar is written again', async () => {
    const symbol = uniqueSymbol();
    const update = makeUpdate(symbol, 0, { close: '1.50' });
    await store.write([update]);
    const [before] = await rows(symbol);
    await store.write([update]);
    assert.deepEqual(await rows(symbol), [before]);
    await store.write([makeUpdate(symbol, 0, { close: '1.51' })]);
    const [changed] = await rows(symbol);
    assert.ok(BigInt(changed?.revision ?? 0) > BigInt(before?.revision ?? 0));
  });

  it('refuses bars it cannot store, before writing any of the call', async () => {
    const symbol = uniqueSymbol();
    const good = makeUpdate(symbol, 0);
    const bad = [
      { ...good, bar: { ...good.bar, time: 1.5 } },
      { ...good, bar: { ...good.bar, time: -60_000 } },
      { ...good, bar: { ...good.bar, trades: -1 } },
      { ...good, symbol: 'BTC/\u0000USDT' },
      { ...good, symbol: 'BTC,X/USDT' },
      { ...good, symbol: 'BTC/USDT\n' },
    ];
    for (const update of bad) await assert.rejects(store.write([good, update]), RangeError);
    assert.deepEqual(await rows(symbol), []);
  });

  it('stores each trade once, with exact decimals and both times', async () => {
    const symbol = uniqueSymbol();
    const trade = (id: string, price: string): Trade => ({
      venue: 'binance',
      symbol,
      id,
      price: parseDecimal(price),
      size: parseDecimal('0.00000001'),
      side: 'buy',
      fills: 2,
      time: 1_700_000_000_123,
      receivedAt: 1_700_000_000_456,
    });
    await store.writeTrades([
      trade('1', '65000.12345678'),
      trade('2', '65000.2'),
      trade('1', '65000.12345678'),
    ]);
    await store.writeTrades([trade('2', '65000.2'), trade('3', '1e-8')]);
    const result = await client.query<Record<string, unknown>>(
      `SELECT id, price::text AS price, size::text AS size, side, fills,
              (extract(epoch FROM "time") * 1000)::float8 AS time,
              (extract(epoch FROM received_at) * 1000)::float8 AS received_at
       FROM trades WHERE symbol = $1 ORDER BY id`,
      [symbol],
    );
    assert.deepEqual(result.rows, [
      {
        id: '1',
        price: '65000.12345678',
        size: '0.00000001',
        side: 'buy',
        fills: 2,
        time: 1_700_000_000_123,
        received_at: 1_700_000_000_456,
      },
      {
        id: '2',
        price: '65000.2',
        size: '0.00000001',
        side: 'buy',
        fills: 2,
        time: 1_700_000_000_123,
        received_at: 1_700_000_000_456,
      },
      {
        id: '3',
        price: '0.00000001',
        size: '0.00000001',
        side: 'buy',
        fills: 2,
        time: 1_700_000_000_123,
        received_at: 1_700_000_000_456,
      },
    ]);
  });

  it('writes 10,000 trades in one call (more than one statement holds)', async () => {
    const symbol = uniqueSymbol();
    const trades: Trade[] = Array.from({ length: 10_000 }, (_, i) => ({
      venue: 'okx',
      symbol,
      id: String(i),
      price: parseDecimal('1'),
      size: parseDecimal('1'),
      side: i % 2 === 0 ? 'buy' : 'sell',
      fills: 1,
      time: 1_700_000_000_000 + i,
      receivedAt: 1_700_000_000_000 + i,
    }));
    await store.writeTrades(trades);
    const result = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM trades WHERE symbol = $1',
      [symbol],
    );
    assert.equal(result.rows[0]?.n, 10_000);
  });

  it('refuses a limit that is not a whole number >= 0', async () => {
    await assert.rejects(store.recent('BTC/USDT', '1m', -1), RangeError);
    await assert.rejects(store.recent('BTC/USDT', '1m', 1.5), RangeError);
    await assert.rejects(store.recent('BTC/USDT', '1m', 1, Number.NaN), RangeError);
  });
});
