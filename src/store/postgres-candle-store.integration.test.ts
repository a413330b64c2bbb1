import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { createTestDatabase, serviceSkip, TEST_DATABASE_URL } from '../../test/support/services.ts';
import { startProxyFor, viaProxy } from '../../test/support/tcp-proxy.ts';
import { parseDecimal } from '../domain/decimal.ts';
import { TickwireError } from '../domain/errors.ts';
import type { Trade } from '../domain/trade.ts';
import { silentLogger, type Logger } from '../telemetry/logger.ts';
import {
  expected,
  makeUpdate,
  plain,
  runCandleStoreContract,
  uniqueSymbol,
} from './candle-store.contract.ts';
import { runMigrations } from './migrations.ts';
import { openPostgresCandleStore, redactUrl } from './postgres-candle-store.ts';
import { pgPoolClient } from './pg-pool-client.ts';

const logger = silentLogger();

/** A logger whose lines the test can read. */
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

async function waitUntil(done: () => boolean, what: string, deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('PostgreSQL candle store', { skip: await serviceSkip('postgres') }, () => {
  let db: { url: string; drop(): Promise<void> };
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  runCandleStoreContract('SqlCandleStore on PostgreSQL', () =>
    openPostgresCandleStore({ url: db.url, logger }),
  );

  it('keeps the bars across close and reopen', async () => {
    const symbol = uniqueSymbol();
    const updates = [0, 1].map((i) => makeUpdate(symbol, 60_000 * i, { close: `123456789.12345678901${i}` }));
    const first = await openPostgresCandleStore({ url: db.url, logger });
    await first.write(updates);
    await first.close();
    const second = await openPostgresCandleStore({ url: db.url, logger });
    try {
      assert.deepEqual((await second.recent(symbol, '1m', 10)).map(plain), updates.map(expected));
    } finally {
      await second.close();
    }
  });

  it('migrates a new database once when several processes start at the same time', async () => {
    const fresh = await createTestDatabase();
    // One pool each: separate connections, as separate processes would have.
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: fresh.url, max: 1 }));
    try {
      const results = await Promise.all(
        pools.map((pool) =>
          runMigrations(
            pgPoolClient(pool, () => undefined),
            logger,
          ),
        ),
      );
      assert.deepEqual(results.map((r) => r.applied).sort(), [
        [],
        [],
        [],
        ['candles', 'trades', 'upstreams', 'accounts'],
      ]);
      const { rows } = await (pools[0] as pg.Pool).query<{ version: number }>(
        'SELECT version FROM tickwire_migrations ORDER BY version',
      );
      assert.deepEqual(
        rows.map((r) => r.version),
        [1, 2, 3, 4],
      );
      assert.deepEqual(
        (
          await runMigrations(
            pgPoolClient(pools[0] as pg.Pool, () => undefined),
            logger,
          )
        ).applied,
        [],
      );
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
      await fresh.drop();
    }
  });

  it('stores each trade once', async () => {
    const store = await openPostgresCandleStore({ url: db.url, logger });
    const symbol = uniqueSymbol();
    const trade = (id: string): Trade => ({
      venue: 'okx',
      symbol,
      id,
      price: parseDecimal('65000.00000001'),
      size: parseDecimal('2.5'),
      side: 'sell',
      fills: 1,
      time: 1_700_000_000_000,
      receivedAt: 1_700_000_000_010,
    });
    const raw = new pg.Client({ connectionString: db.url });
    await raw.connect();
    try {
      await store.writeTrades([trade('a'), trade('b'), trade('a')]);
      await store.writeTrades([trade('b'), trade('c')]);
      const { rows } = await raw.query<{ id: string; price: string }>(
        'SELECT id, price::text AS price FROM trades WHERE symbol = $1 ORDER BY id',
        [symbol],
      );
      assert.deepEqual(
        rows.map((r) => [r.id, r.price]),
        [
          ['a', '65000.00000001'],
          ['b', '65000.00000001'],
          ['c', '65000.00000001'],
        ],
      );
    } finally {
      await raw.end();
      await store.close();
    }
  });

  it('fails to open with STORE_UNAVAILABLE, the password hidden, when PostgreSQL does not answer', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const url = `postgres://tickwire:secret@127.0.0.1:${port}/tickwire`;
    await assert.rejects(openPostgresCandleStore({ url, logger }), (err: unknown) => {
      assert.ok(err instanceof TickwireError);
      assert.equal(err.code, 'STORE_UNAVAILABLE');
      assert.ok(err.message.includes(`postgres://tickwire:***@127.0.0.1:${port}/tickwire`), err.message);
      assert.ok(!err.message.includes('secret'));
      return true;
    });
    assert.equal(redactUrl('postgres://u@h/d'), 'postgres://u@h/d');
  });

  it('logs the failure of idle connections instead of crashing, and works again once the server is back', async () => {
    const proxy = await startProxyFor(TEST_DATABASE_URL);
    const { logger: recording, lines } = recordingLogger();
    const store = await openPostgresCandleStore({ url: viaProxy(db.url, proxy.port), logger: recording });
    try {
      const symbol = uniqueSymbol();
      await store.write([makeUpdate(symbol, 0, { close: '1' })]);
      proxy.cut();
      await waitUntil(
        () => lines.some((l) => l.level === 50 && l.msg.includes('idle PostgreSQL connection failed')),
        'the idle connection failure to be logged',
      );
      await assert.rejects(store.recent(symbol, '1m', 10));
      proxy.restore();
      await store.write([makeUpdate(symbol, 60_000, { close: '2' })]);
      assert.equal((await store.recent(symbol, '1m', 10)).length, 2);
    } finally {
      await store.close();
      await proxy.close();
    }
  });
});
