/**
 * History during a database outage, at the gateway: the gateway reads through a TieredCandleStore (memory in front
 * of a database) whose database can be cut. A client is never given a truncated history as the whole of it:
 * `initial` is marked partial and followed by the whole history once the database answers, and /api/candles marks
 * a partial answer or, when memory holds none of the window, answers 503 with Retry-After.
 * (test/integration/history-outage.test.ts does the same with PostgreSQL behind a cut TCP proxy.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleUpdate } from '../../src/domain/candle.ts';
import type { Interval } from '../../src/domain/interval.ts';
import type { CandleStore, StoredCandle } from '../../src/store/candle-store.ts';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { ManualClock } from '../../src/util/clock.ts';
import {
  iso,
  M,
  makeBar,
  makeUpdate,
  range,
  startTestGateway,
  T0,
  TestClient,
  times,
  type JsonMessage,
  waitFor,
} from './helpers.ts';

const RETRY = { minMs: 5, maxMs: 20 };

/** The database as the gateway sees it: bars in memory behind a switch that makes every call fail like a cut one. */
class CuttableDatabase implements CandleStore {
  readonly bars = new MemoryCandleStore();
  down = false;
  reads = 0;

  async write(updates: readonly CandleUpdate[]): Promise<void> {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    await this.bars.write(updates);
  }

  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    this.reads++;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    return this.bars.recent(symbol, interval, limit, end);
  }

  async flushed(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Lets the store's promises settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves the gateway's clock by `ms`, a millisecond at a time, letting each retry that fires settle. */
async function pass(clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    clock.advance(1);
    await settle();
  }
}

/** Moves the gateway's clock until `check` holds (at most a minute of clock time). */
async function until(clock: ManualClock, check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 60_000) throw new Error(`${what}: not within a minute of clock time`);
    clock.advance(1);
    await settle();
  }
}

/** The database holds minutes 0-19; the gateway's memory (started late, as after a restart) holds 15-19. */
async function setUp(): Promise<{ database: CuttableDatabase; memory: MemoryCandleStore }> {
  const database = new CuttableDatabase();
  const memory = new MemoryCandleStore();
  for (const i of range(0, 20)) {
    const bar = makeBar(T0 + i * M, `${100 + i}.5`, 10);
    await database.write([makeUpdate(bar, 'closed')]);
    if (i >= 15) memory.put('BTC/USDT', '1m', bar, ['binance']);
  }
  return { database, memory };
}

describe('history during a database outage', () => {
  it('initial: memory’s bars marked partial, then the whole history once the database answers', async (t) => {
    const { database, memory } = await setUp();
    const clock = new ManualClock(T0 + 20 * M);
    const g = await startTestGateway(
      { throttleMs: 10 },
      { store: memory, persistent: database, historyRetry: RETRY, clock },
    );
    t.after(() => g.close());
    const client = await TestClient.connect(g.gateway.url);
    t.after(() => client.close());

    database.down = true;
    client.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 20 });
    const error = await client.next((m) => m.type === 'error');
    assert.equal(error['code'], 'HISTORY_UNAVAILABLE');
    assert.equal(error['symbol'], 'BTC/USDT');
    const partial = await client.next((m) => m.type === 'initial');
    assert.equal(partial['partial'], true, 'an initial with fewer bars than there are says so');
    assert.equal(partial['reason'], 'HISTORY_UNAVAILABLE');
    assert.deepEqual(times(partial['bars']), range(15, 20).map(iso));
    assert.ok(
      client.messages.indexOf(error) < client.messages.indexOf(partial),
      'the error comes before the initial',
    );

    // The stream goes on during the outage, and the store is asked again on a schedule.
    g.publish(makeUpdate(makeBar(T0 + 20 * M, '120.5', 1)));
    clock.advance(10);
    await client.next((m) => m.type === 'update' && (m['bar'] as { time: string }).time === iso(20));
    const readsBefore = database.reads;
    await until(clock, () => database.reads >= readsBefore + 3, 'retries while the database is down');
    await client.roundTrip();
    assert.equal(client.messages.filter((m) => m.type === 'initial').length, 1, 'no refill while it is down');

    database.down = false;
    const refilled = client.next((m) => m.type === 'initial' && m !== partial, 5000);
    await until(
      clock,
      () => client.messages.some((m) => m.type === 'initial' && m !== partial),
      'the refill',
    );
    const whole = await refilled;
    assert.equal(whole['partial'], undefined, 'the whole history is not marked partial');
    assert.deepEqual(
      times(whole['bars']),
      range(1, 21).map(iso),
      'the newest 20 bars: the database’s, then memory’s live one',
    );
    const bars = whole['bars'] as { close: number; trades: number }[];
    assert.equal(bars[0]?.close, 101.5);
    assert.equal(bars.at(-1)?.trades, 1);

    // After the refill the stream continues from initial's newest bar: an older state of it is not repeated, a
    // newer one is sent once.
    const afterWhole = client.messages.length;
    g.publish(makeUpdate(makeBar(T0 + 20 * M, '120.5', 1)));
    g.publish(makeUpdate(makeBar(T0 + 21 * M, '121.5', 2)));
    const nextUpdate = client.next((m) => m.type === 'update', 3000, afterWhole);
    // One update per tick: the older state of bar 20 (which initial covers), then bar 21.
    clock.advance(10);
    clock.advance(10);
    const next = await nextUpdate;
    assert.equal((next['bar'] as { time: string }).time, iso(21));
    const stats = g.gateway.stats().gateway;
    assert.equal(stats.partialInitialsSent, 1);
    assert.equal(stats.initialsRefilled, 1);

    // Nothing more is read once the subscription has its whole history.
    const readsAfter = database.reads;
    await pass(clock, RETRY.maxMs * 10);
    assert.equal(database.reads, readsAfter, 'no probe after the refill');
    assert.equal(client.messages.filter((m) => m.type === 'initial').length, 2);
  });

  it('stops retrying when the client unsubscribes or disconnects', async (t) => {
    const { database, memory } = await setUp();
    const clock = new ManualClock(T0 + 20 * M);
    const g = await startTestGateway({}, { store: memory, persistent: database, historyRetry: RETRY, clock });
    t.after(() => g.close());
    database.down = true;

    const leaving = await TestClient.connect(g.gateway.url);
    t.after(() => leaving.close());
    leaving.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 20 });
    await leaving.next((m) => m.type === 'initial' && m['partial'] === true);
    const disconnecting = await TestClient.connect(g.gateway.url);
    disconnecting.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '5m', initialBars: 20 });
    await disconnecting.next((m) => m.type === 'initial' && m['partial'] === true);
    let reads = database.reads;
    await until(clock, () => database.reads >= reads + 2, 'retries');

    leaving.send({ type: 'unsubscribe', symbol: 'BTC/USDT', interval: '1m' });
    disconnecting.close();
    await disconnecting.closed;
    await waitFor(() => g.gateway.stats().connections === 1, 3000, 'the disconnect seen by the gateway');
    await leaving.roundTrip();
    // A probe may have been on its way; after it, none.
    await pass(clock, RETRY.maxMs * 3);
    reads = database.reads;
    await pass(clock, RETRY.maxMs * 10);
    assert.equal(database.reads, reads, 'no probe once nobody waits');
    database.down = false;
    await pass(clock, RETRY.maxMs * 5);
    await leaving.roundTrip();
    assert.equal(
      leaving.messages.filter((m: JsonMessage) => m.type === 'initial').length,
      1,
      'an unsubscribed room gets no refill',
    );
  });

  it('GET /api/candles: memory’s bars marked partial, 503 with Retry-After when memory holds none', async (t) => {
    const { database, memory } = await setUp();
    const g = await startTestGateway({}, { store: memory, persistent: database });
    t.after(() => g.close());
    const base = g.gateway.url.replace('ws://', 'http://') + '/api/candles?symbol=BTC/USDT&interval=1m';
    database.down = true;

    const partial = await fetch(`${base}&limit=10`);
    assert.equal(partial.status, 200);
    const partialBody = (await partial.json()) as Record<string, unknown>;
    assert.equal(partialBody['partial'], true);
    assert.equal(partialBody['reason'], 'HISTORY_UNAVAILABLE');
    assert.deepEqual(times(partialBody['bars']), range(15, 20).map(iso));
    assert.equal(partial.headers.get('cache-control'), 'no-store', 'no cache keeps a partial answer');

    // Paging back past memory: nothing of the window is known, which is not an empty history.
    const none = await fetch(`${base}&limit=10&end=${encodeURIComponent(iso(15))}`);
    assert.equal(none.status, 503);
    assert.equal(none.headers.get('retry-after'), '5');
    const noneBody = (await none.json()) as { error: { code: string; message: string } };
    assert.equal(noneBody.error.code, 'HISTORY_UNAVAILABLE');

    // Memory holds the whole window: that is the whole answer, database or not.
    const held = (await (await fetch(`${base}&limit=3`)).json()) as Record<string, unknown>;
    assert.equal(held['partial'], undefined);
    assert.deepEqual(times(held['bars']), range(17, 20).map(iso));

    database.down = false;
    const whole = await fetch(`${base}&limit=10&end=${encodeURIComponent(iso(15))}`);
    assert.equal(whole.status, 200);
    const wholeBody = (await whole.json()) as Record<string, unknown>;
    assert.equal(wholeBody['partial'], undefined);
    assert.deepEqual(times(wholeBody['bars']), range(5, 15).map(iso));
  });
});
