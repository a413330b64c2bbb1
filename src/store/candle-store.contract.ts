/**
 * The behaviour every CandleStore owes its users, as one node:test suite that each implementation's test file runs
 * (`runCandleStoreContract('SqlCandleStore on PGlite', open)`).
 *
 * Each test opens a store of its own and closes it, and uses symbols of its own, so implementations whose stores
 * share one database (PostgreSQL) run the suite without seeing each other's bars.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Candle, CandleState, CandleUpdate } from '../domain/candle.ts';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import { VENUES, type VenueId } from '../domain/instrument.ts';
import { INTERVAL_MS, type Interval } from '../domain/interval.ts';
import { silentLogger, type Logger } from '../telemetry/logger.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';
import type { MismatchedHistory, Upstream, UpstreamChange, Upstreams } from './upstreams.ts';

const T0 = Date.UTC(2024, 0, 2, 3, 0);
const MINUTE = INTERVAL_MS['1m'];

/** A canonical symbol no other test uses. */
export function uniqueSymbol(): string {
  return `T${randomBytes(5).toString('hex').toUpperCase()}/USDT`;
}

export interface BarFields {
  readonly close?: string;
  readonly volume?: string;
  readonly trades?: number;
}

/** A plausible bar at `time`; the other prices derive from `close` so that each bar's content is its own. */
export function makeBar(time: number, fields: BarFields = {}): Candle {
  const close = fields.close ?? '100';
  return {
    time,
    open: parseDecimal(close),
    high: parseDecimal(close),
    low: parseDecimal(close),
    close: parseDecimal(close),
    volume: parseDecimal(fields.volume ?? '1.5'),
    quoteVolume: parseDecimal('150.75'),
    takerBuyVolume: parseDecimal('0.5'),
    takerBuyQuoteVolume: parseDecimal('50.25'),
    trades: fields.trades ?? 3,
  };
}

export interface UpdateFields extends BarFields {
  readonly interval?: Interval;
  readonly state?: CandleState;
  readonly sources?: readonly VenueId[];
  readonly backfilled?: boolean;
}

export function makeUpdate(symbol: string, time: number, fields: UpdateFields = {}): CandleUpdate {
  return {
    symbol,
    interval: fields.interval ?? '1m',
    state: fields.state ?? 'closed',
    bar: makeBar(time, fields),
    sources: fields.sources ?? ['binance'],
    ...(fields.backfilled === undefined ? {} : { backfilled: fields.backfilled }),
  };
}

/** A stored bar as plain data (decimals as their exact text), comparable with deepEqual across implementations. */
export function plain(s: StoredCandle): Record<string, unknown> {
  const b = s.bar;
  return {
    time: b.time,
    open: toPlainString(b.open),
    high: toPlainString(b.high),
    low: toPlainString(b.low),
    close: toPlainString(b.close),
    volume: toPlainString(b.volume),
    quoteVolume: toPlainString(b.quoteVolume),
    takerBuyVolume: toPlainString(b.takerBuyVolume),
    takerBuyQuoteVolume: toPlainString(b.takerBuyQuoteVolume),
    trades: b.trades,
    sources: [...s.sources],
    backfilled: s.backfilled === true,
  };
}

/** What a store should answer for `u`, as `plain` renders it. */
export function expected(u: CandleUpdate): Record<string, unknown> {
  return plain({ bar: u.bar, sources: u.sources, backfilled: u.backfilled === true });
}

function times(stored: readonly StoredCandle[]): number[] {
  return stored.map((s) => s.bar.time);
}

function minute(i: number): number {
  return T0 + i * MINUTE;
}

/**
 * Registers the CandleStore contract suite. `open()` returns a ready store; each test opens one and closes it.
 */
export function runCandleStoreContract(name: string, open: () => Promise<CandleStore>): void {
  describe(`${name} meets the CandleStore contract`, () => {
    async function withStore(body: (store: CandleStore) => Promise<void>): Promise<void> {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    }

    it('returns the bars written, oldest first, with exact decimals', () =>
      withStore(async (store) => {
        const symbol = uniqueSymbol();
        const updates = [
          makeUpdate(symbol, minute(0), { close: '0.00000001', volume: '123456789.123456789012' }),
          makeUpdate(symbol, minute(1), { close: '123456789.123456789012', volume: '0.00000001' }),
          makeUpdate(symbol, minute(2), {
            close: '65000.5',
            volume: '1000000000000000000000.000000000000000001',
          }),
        ];
        await store.write(updates);
        const got = await store.recent(symbol, '1m', 10);
        assert.deepEqual(got.map(plain), updates.map(expected));
      }));

    it('writes idempotently: the same updates again change nothing', () =>
      withStore(async (store) => {
        const symbol = uniqueSymbol();
        const updates = [0, 1, 2].map((i) => makeUpdate(symbol, minute(i), { close: `10${i}` }));
        await store.write(updates);
        await store.write(updates);
        await store.write(updates.slice(1));
        const got = await store.recent(symbol, '1m', 10);
        assert.deepEqual(got.map(plain), updates.map(expected));
      }));

    it('keeps the last of a key repeated within one batch', () =>
      withStore(async (store) => {
        const symbol = uniqueSymbol();
        await store.write([
          makeUpdate(symbol, minute(0), { close: '1', state: 'live' }),
          makeUpdate(symbol, minute(1), { close: '5' }),
          makeUpdate(symbol, minute(0), { close: '2', state: 'live' }),
          makeUpdate(symbol, minute(0), { close: '3', state: 'closed' }),
        ]);
        const got = await store.recent(symbol, '1m', 10);
        assert.deepEqual(
          got.map((s) => [s.bar.time, toPlainString(s.bar.close)]),
          [
            [minute(0), '3'],
            [minute(1), '5'],
          ],
        );
      }));

    it('replaces a bar when a later write changes it (live, then closed, then revised)', () =>
      withStore(async (store) => {
        const symbol = uniqueSymbol();
        await store.write([makeUpdate(symbol, minute(0), { close: '1', state: 'live', trades: 1 })]);
        await store.write([makeUpdate(symbol, minute(0), { close: '2', state: 'closed', trades: 2 })]);
        const revised = makeUpdate(symbol, minute(0), {
          close: '3',
          state: 'revised',
          trades: 4,
          backfilled: true,
        });
        await store.write([revised]);
        assert.deepEqual((await store.recent(symbol, '1m', 10)).map(plain), [expected(revised)]);
      }));

    it('answers the `limit` most recent bars before `end`, oldest first', () =>
      withStore(async (store) => {
        const symbol = uniqueSymbol();
        // Written out of order, as a backfill after live bars would be.
        const order = [5, 6, 7, 8, 9, 0, 1, 2, 3, 4];
        await store.write(order.map((i) => makeUpdate(symbol, minute(i), { close: String(i + 1) })));
        const m = (...is: number[]): number[] => is.map(minute);
        assert.deepEqual(times(await store.recent(symbol, '1m', 3)), m(7, 8, 9));
        assert.deepEqual(times(await store.recent(symbol, '1m', 100)), m(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        // `end` is exclusive: a bar that starts at `end` is not before it.
        assert.deepEqual(times(await store.recent(symbol, '1m', 3, minute(5))), m(2, 3, 4));
        assert.deepEqual(times(await store.recent(symbol, '1m', 3, minute(5) + 1)), m(3, 4, 5));
        assert.deepEqual(times(await store.recent(symbol, '1m', 100, minute(2))), m(0, 1));
        assert.deepEqual(await store.recent(symbol, '1m', 3, minute(0)), []);
        assert.deepEqual(await store.recent(symbol, '1m', 0), []);
        assert.deepEqual(times(await store.recent(symbol, '1m', 2, minute(100))), m(8, 9));
        assert.deepEqual(await store.recent(uniqueSymbol(), '1m', 10), []);
      }));

    it('keeps the sources and the backfilled mark of each bar', () =>
      withStore(async (store) => {
        const symbol = uniqueSymbol();
        const updates = [
          makeUpdate(symbol, minute(0), { sources: ['okx', 'binance'], backfilled: true }),
          makeUpdate(symbol, minute(1), { sources: ['dydx'], backfilled: false }),
          makeUpdate(symbol, minute(2), { sources: ['bitget'] }),
          makeUpdate(symbol, minute(3), { sources: [] }),
        ];
        await store.write(updates);
        const got = await store.recent(symbol, '1m', 10);
        assert.deepEqual(got.map(plain), updates.map(expected));
      }));

    it('answers the bar written last when venues wrote the same time (a failover)', () =>
      withStore(async (store) => {
        const symbol = uniqueSymbol();
        await store.write(
          [0, 1, 2].map((i) => makeUpdate(symbol, minute(i), { close: '1', sources: ['binance'] })),
        );
        // The failover to okx happens during minute 1; okx's bars win from there on.
        await store.write([1, 2].map((i) => makeUpdate(symbol, minute(i), { close: '2', sources: ['okx'] })));
        const after = await store.recent(symbol, '1m', 10);
        assert.deepEqual(
          after.map((s) => [toPlainString(s.bar.close), s.sources[0]]),
          [
            ['1', 'binance'],
            ['2', 'okx'],
            ['2', 'okx'],
          ],
        );
        // Back to binance, whose newer version of minute 2 is then the bar.
        await store.write([makeUpdate(symbol, minute(2), { close: '3', sources: ['binance'] })]);
        const back = await store.recent(symbol, '1m', 10);
        assert.deepEqual(
          back.map((s) => [toPlainString(s.bar.close), s.sources[0]]),
          [
            ['1', 'binance'],
            ['2', 'okx'],
            ['3', 'binance'],
          ],
        );
      }));

    it('keeps series apart: symbols and intervals', () =>
      withStore(async (store) => {
        const a = uniqueSymbol();
        const b = uniqueSymbol();
        await store.write([
          makeUpdate(a, minute(0), { close: '1' }),
          makeUpdate(a, minute(0), { close: '2', interval: '5m' }),
          makeUpdate(b, minute(0), { close: '3' }),
          makeUpdate(b, minute(1), { close: '4' }),
        ]);
        const closes = async (symbol: string, interval: Interval): Promise<string[]> =>
          (await store.recent(symbol, interval, 10)).map((s) => toPlainString(s.bar.close));
        assert.deepEqual(await closes(a, '1m'), ['1']);
        assert.deepEqual(await closes(a, '5m'), ['2']);
        assert.deepEqual(await closes(b, '1m'), ['3', '4']);
        assert.deepEqual(await closes(b, '5m'), []);
      }));

    it('flushed(): resolves when nothing was written, and once the writes before it are stored', () =>
      withStore(async (store) => {
        await store.flushed();
        const symbol = uniqueSymbol();
        const updates = [0, 1, 2].map((i) => makeUpdate(symbol, minute(i), { close: `${i + 1}` }));
        await store.write(updates);
        await store.flushed();
        assert.deepEqual((await store.recent(symbol, '1m', 10)).map(plain), updates.map(expected));
      }));

    it('can be closed more than once', () =>
      withStore(async (store) => {
        await store.write([makeUpdate(uniqueSymbol(), minute(0))]);
        await store.close();
      }));

    it('writes a batch of 5,000 bars in one call', () =>
      withStore(async (store) => {
        const symbol = uniqueSymbol();
        const updates = Array.from({ length: 5000 }, (_, i) =>
          makeUpdate(symbol, minute(i), { close: `${i}.${String(i).padStart(8, '0')}` }),
        );
        await store.write(updates);
        const got = await store.recent(symbol, '1m', 5000);
        assert.equal(got.length, 5000);
        assert.deepEqual(got.map(plain), updates.map(expected));
        assert.deepEqual(
          (await store.recent(symbol, '1m', 2, minute(4000))).map(plain),
          updates.slice(3998, 4000).map(expected),
        );
      }));
  });
}

/** A store that keeps history across runs and records where it came from (upstreams.ts). */
export interface UpstreamRecordingStore extends CandleStore {
  adoptUpstreams(
    current: Upstreams,
    options: { readonly mismatched: MismatchedHistory; readonly logger: Logger },
  ): Promise<UpstreamChange[]>;
}

/** One private database for a test: stores opened on it, its archived rows, and its removal. */
export interface PrivateDatabase {
  open(): Promise<UpstreamRecordingStore>;
  /** Rows of `venue` in candles_archive. */
  archivedCandles(venue: string): Promise<number>;
  dispose(): Promise<void>;
}

function upstreamsAt(base: string): Upstreams {
  const out: Partial<Record<VenueId, Upstream>> = {};
  for (const venue of VENUES) out[venue] = { restUrl: `${base}/${venue}`, wsUrl: `${base}/${venue}/ws` };
  return out as Upstreams;
}

/** As a run against the exchange simulator would have it. */
const SIMULATOR = upstreamsAt('http://127.0.0.1:7100');
/** As a run against the real venues would have it. */
const LIVE = upstreamsAt('https://venues.example');

/**
 * Registers the upstream record's contract: a store never serves bars filled from another upstream than the
 * run's own. `fresh()` gives a database of the test's own (adopting changes every venue's rows in it).
 */
export function runUpstreamRecordContract(name: string, fresh: () => Promise<PrivateDatabase>): void {
  describe(`${name} keeps history apart by upstream`, () => {
    const logger = silentLogger();

    async function withDatabase(body: (db: PrivateDatabase) => Promise<void>): Promise<void> {
      const db = await fresh();
      try {
        await body(db);
      } finally {
        await db.dispose();
      }
    }

    /** Opens a store on `db`, adopts `upstreams`, runs `body`, closes it; returns what the adoption moved. */
    async function run(
      db: PrivateDatabase,
      upstreams: Upstreams | null,
      body: (store: CandleStore) => Promise<void>,
      mismatched: MismatchedHistory = 'archive',
    ): Promise<UpstreamChange[]> {
      const store = await db.open();
      try {
        const changes =
          upstreams === null ? [] : await store.adoptUpstreams(upstreams, { mismatched, logger });
        await body(store);
        return changes;
      } finally {
        await store.close();
      }
    }

    const symbol = 'BTC/USDT';
    const bars = (venue: VenueId, close: string): CandleUpdate[] =>
      [0, 1, 2].map((i) => makeUpdate(symbol, minute(i), { close, sources: [venue] }));
    const served = async (store: CandleStore): Promise<string[]> =>
      (await store.recent(symbol, '1m', 10)).map((s) => `${s.sources.join()}:${toPlainString(s.bar.close)}`);

    it('serves the bars again when a run uses the same upstream', () =>
      withDatabase(async (db) => {
        await run(db, SIMULATOR, (store) => store.write(bars('binance', '1')));
        const changes = await run(db, SIMULATOR, async (store) => {
          assert.deepEqual(await served(store), ['binance:1', 'binance:1', 'binance:1']);
        });
        assert.deepEqual(changes, []);
      }));

    it("never serves a venue's bars filled from another upstream; keeps them in the archive", () =>
      withDatabase(async (db) => {
        await run(db, SIMULATOR, (store) => store.write([...bars('binance', '1'), ...bars('okx', '2')]));
        // Only binance moves to its live endpoints; okx stays on the same upstream.
        const upstreams = { ...SIMULATOR, binance: LIVE.binance };
        const changes = await run(db, upstreams, async (store) => {
          assert.deepEqual(await served(store), ['okx:2', 'okx:2', 'okx:2']);
          await store.write(bars('binance', '3'));
        });
        assert.deepEqual(changes, [
          {
            venue: 'binance',
            previous: SIMULATOR.binance,
            current: LIVE.binance,
            candles: 3,
            trades: 0,
            action: 'archive',
          },
        ]);
        assert.equal(await db.archivedCandles('binance'), 3);
        // The new upstream's bars are served from then on, and stay at the next start.
        const again = await run(db, upstreams, async (store) => {
          assert.deepEqual(await served(store), ['binance:3', 'binance:3', 'binance:3']);
        });
        assert.deepEqual(again, []);
      }));

    it('never serves bars of a store that did not record its upstream (an earlier version)', () =>
      withDatabase(async (db) => {
        // Written without an adoption, as a store of an earlier version was, including a bar naming no venue.
        await run(db, null, (store) =>
          store.write([...bars('binance', '1'), makeUpdate(symbol, minute(5), { sources: [] })]),
        );
        const changes = await run(db, LIVE, async (store) => {
          assert.deepEqual(await served(store), []);
        });
        assert.deepEqual(
          changes.map((c) => [c.venue, c.previous, c.candles]),
          [
            ['binance', null, 3],
            ['', null, 1],
          ],
        );
        assert.equal(await db.archivedCandles('binance'), 3);
      }));

    it('deletes the bars instead when told to discard them', () =>
      withDatabase(async (db) => {
        await run(db, SIMULATOR, (store) => store.write(bars('binance', '1')));
        const changes = await run(
          db,
          LIVE,
          async (store) => assert.deepEqual(await served(store), []),
          'discard',
        );
        assert.deepEqual(
          changes.map((c) => [c.venue, c.candles, c.action]),
          [['binance', 3, 'discard']],
        );
        assert.equal(await db.archivedCandles('binance'), 0);
        assert.deepEqual(
          await run(db, SIMULATOR, async (store) => assert.deepEqual(await served(store), [])),
          [
            // Nothing of binance left to move back or forth.
          ],
        );
      }));
  });
}
