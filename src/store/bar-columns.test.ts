import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Candle } from '../domain/candle.ts';
import { type Decimal, parseDecimal, toPlainString } from '../domain/decimal.ts';
import type { VenueId } from '../domain/instrument.ts';
import { BarColumns, SourceLists } from './bar-columns.ts';
import type { StoredCandle } from './candle-store.ts';
import { LONG_DECIMALS, ORDINARY_DECIMALS } from '../domain/bar-decimals.test-support.ts';

const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;
const d = parseDecimal;

function bar(time: number, texts: readonly string[], trades = 7): Candle {
  const [open, high, low, close, volume, quoteVolume, takerBuyVolume, takerBuyQuoteVolume] = texts.map(d) as [
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
  ];
  return { time, open, high, low, close, volume, quoteVolume, takerBuyVolume, takerBuyQuoteVolume, trades };
}

/** A stored bar as plain data, decimals as coefficient and scale (a scale that changed would show). */
function plain(stored: StoredCandle): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stored.bar)) {
    out[key] = typeof value === 'object' ? `${(value as Decimal).coef}e-${(value as Decimal).scale}` : value;
  }
  return { ...out, sources: [...stored.sources], backfilled: stored.backfilled };
}

/** A bar whose closing price tells it apart: `n` as its close. */
function numbered(time: number, n: number): Candle {
  return bar(time, ['1', '2', '0.5', String(n), '1.5', '150.75', '0.5', '50.25'], n);
}

describe('BarColumns', () => {
  it('gives back every field of a stored bar exactly, decimals that do not fit a column included', () => {
    const columns = new BarColumns(new SourceLists());
    const huge = bar(T0 + HOUR, LONG_DECIMALS, 3_000_000_007);
    const withWideScale: Candle = { ...huge, takerBuyVolume: { coef: 1n, scale: 40_000 } };
    const stored: StoredCandle[] = [
      { bar: bar(T0, ORDINARY_DECIMALS), sources: ['binance'], backfilled: false },
      { bar: withWideScale, sources: ['binance', 'okx'], backfilled: true },
    ];
    for (const s of stored) columns.put(s.bar, s.sources, s.backfilled === true);
    const read = columns.slice(0, 10);
    assert.deepEqual(read.map(plain), stored.map(plain));
    assert.equal(toPlainString(read[1]!.bar.open), '9007199254740993');
    assert.equal(toPlainString(read[1]!.bar.high), '-123456789012345678901234567890.123456789');
  });

  it('replaces a bar of the same time, from a huge value to an ordinary one and back', () => {
    const columns = new BarColumns(new SourceLists());
    columns.put(bar(T0, LONG_DECIMALS), ['okx'], true);
    columns.put(bar(T0, ORDINARY_DECIMALS), ['okx'], false);
    assert.equal(columns.length, 1);
    assert.deepEqual(
      plain(columns.slice(0, 1)[0]!),
      plain({ bar: bar(T0, ORDINARY_DECIMALS), sources: ['okx'], backfilled: false }),
    );
    columns.put(bar(T0, LONG_DECIMALS), ['bitget'], true);
    assert.equal(toPlainString(columns.slice(0, 1)[0]!.bar.volume), '99999999999999999999');
  });

  it('puts an older bar in its place and finds bars by time', () => {
    const columns = new BarColumns(new SourceLists());
    for (const n of [0, 2, 3]) columns.put(numbered(T0 + n * HOUR, n), [], false);
    columns.put(numbered(T0 + HOUR, 1), [], false);
    assert.deepEqual(
      columns.slice(0, 4).map((s) => s.bar.trades),
      [0, 1, 2, 3],
    );
    assert.equal(columns.lowerBound(T0 + HOUR), 1);
    assert.equal(columns.lowerBound(T0 + HOUR + 1), 2);
    assert.equal(columns.lowerBound(T0 - 1), 0);
    assert.equal(columns.lowerBound(T0 + 9 * HOUR), 4);
  });

  it('forgets the decimals kept aside of the bars it drops', () => {
    const columns = new BarColumns(new SourceLists());
    columns.put(bar(T0, LONG_DECIMALS), [], false);
    columns.put(bar(T0 + HOUR, ORDINARY_DECIMALS), [], false);
    columns.dropOldest(1);
    // The same time again, now with ordinary values: nothing of the dropped bar comes back.
    columns.put(bar(T0, ORDINARY_DECIMALS), [], false);
    assert.deepEqual(columns.slice(0, 2).map(plain), [
      plain({ bar: bar(T0, ORDINARY_DECIMALS), sources: [], backfilled: false }),
      plain({ bar: bar(T0 + HOUR, ORDINARY_DECIMALS), sources: [], backfilled: false }),
    ]);
  });

  it('holds the same bars as a plain sorted list through appends, inserts, replacements and trims', () => {
    const columns = new BarColumns(new SourceLists(), 100);
    const reference: StoredCandle[] = [];
    const venues: (readonly VenueId[])[] = [['binance'], ['okx', 'bitget'], []];
    // A fixed pseudo-random walk (a linear congruential generator): mostly appends, some late bars and rewrites.
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let newest = 0;
    for (let step = 0; step < 5000; step++) {
      const r = next();
      const slot = r < 0.8 ? ++newest : Math.max(0, newest - Math.floor(next() * 150));
      const time = T0 + slot * HOUR;
      const text = r < 0.05 ? LONG_DECIMALS : ORDINARY_DECIMALS;
      const stored: StoredCandle = {
        bar: { ...bar(time, text, step), close: d(String(step)) },
        sources: venues[step % 3]!,
        backfilled: step % 2 === 0,
      };
      columns.put(stored.bar, stored.sources, stored.backfilled === true);
      const at = reference.findIndex((s) => s.bar.time >= time);
      if (at < 0) reference.push(stored);
      else if (reference[at]!.bar.time === time) reference[at] = stored;
      else reference.splice(at, 0, stored);
      if (reference.length > 100) {
        columns.dropOldest(reference.length - 100);
        reference.splice(0, reference.length - 100);
      }
      assert.equal(columns.length, reference.length);
      // Reads in between keep objects of some rows, which must move with their rows and go when a row changes.
      if (step % 7 === 0) {
        const from = Math.floor(next() * reference.length);
        const to = from + 1 + Math.floor(next() * 20);
        assert.deepEqual(columns.slice(from, to).map(plain), reference.slice(from, to).map(plain));
      }
    }
    assert.deepEqual(columns.slice(0, 1000).map(plain), reference.map(plain));
    assert.deepEqual(columns.slice(95, 98).map(plain), reference.slice(95, 98).map(plain));
  });

  it('gives the newest state of the bar in progress to every read, however it is followed', () => {
    const columns = new BarColumns(new SourceLists(), 100);
    for (let n = 0; n < 3; n++) columns.put(numbered(T0 + n * HOUR, n), ['okx'], false);
    // The newest bar changes many times between reads.
    for (let n = 10; n < 20; n++) columns.put(numbered(T0 + 2 * HOUR, n), ['okx', 'bitget'], n === 19);
    assert.equal(columns.length, 3);
    assert.deepEqual(
      plain(columns.slice(2, 3)[0]!),
      plain({ bar: numbered(T0 + 2 * HOUR, 19), sources: ['okx', 'bitget'], backfilled: true }),
    );
    const read = columns.slice(0, 3);
    assert.equal(columns.slice(0, 3)[2], read[2], 'the same object while it does not change');
    columns.put(numbered(T0 + 2 * HOUR, 20), ['okx'], false);
    assert.equal(
      columns.slice(0, 3)[2]!.bar.trades,
      20,
      'a new state is read, not the object of the last read',
    );
    // Followed by a later bar, an older one, a block of history and a trim: the state stays where it belongs.
    columns.put(numbered(T0 + 2 * HOUR, 21), ['okx'], false);
    columns.put(numbered(T0 + 3 * HOUR, 30), ['okx'], false);
    columns.put(numbered(T0 + 3 * HOUR, 31), ['okx'], false);
    columns.put(numbered(T0 - HOUR, 5), ['okx'], false);
    columns.put(numbered(T0 + 3 * HOUR, 32), ['okx'], false);
    columns.putMany(
      Array.from({ length: 20 }, (_, i) => ({
        bar: numbered(T0 - (30 - i) * HOUR, 100 + i),
        sources: ['okx'],
      })),
    );
    columns.put(numbered(T0 + 3 * HOUR, 33), ['okx'], false);
    columns.dropOldest(20);
    assert.deepEqual(
      columns.slice(0, 100).map((stored) => stored.bar.trades),
      [5, 0, 1, 21, 33],
    );
    columns.put(numbered(T0 + 3 * HOUR, 34), ['okx'], false);
    columns.dropOldest(5);
    assert.equal(columns.length, 0);
    assert.deepEqual(columns.slice(0, 10), []);
  });

  it('gives the same object for a bar until it changes', () => {
    const columns = new BarColumns(new SourceLists());
    for (let n = 0; n < 3; n++) columns.put(numbered(T0 + n * HOUR, n), ['okx'], false);
    const first = columns.slice(0, 3);
    const second = columns.slice(0, 3);
    for (let i = 0; i < 3; i++) assert.equal(second[i], first[i]);
    columns.put(numbered(T0 + HOUR, 10), ['okx'], false);
    const third = columns.slice(0, 3);
    assert.equal(third[0], first[0]);
    assert.notEqual(third[1], first[1]);
    assert.equal(third[1]!.bar.trades, 10);
    assert.equal(third[2], first[2]);
  });

  it('keeps the objects of bars read when older bars are put in before them (history loading backwards)', () => {
    const columns = new BarColumns(new SourceLists());
    for (let n = 100; n < 103; n++) columns.put(numbered(T0 + n * HOUR, n), ['okx'], false);
    const read = columns.slice(0, 3);
    // The background history arrives newest first, each bar older than every one held.
    for (let n = 99; n >= 0; n--) columns.put(numbered(T0 + n * HOUR, n), ['okx'], false);
    const after = columns.slice(0, 103);
    assert.deepEqual(
      after.map((s) => s.bar.trades),
      Array.from({ length: 103 }, (_, n) => n),
    );
    for (let i = 0; i < 3; i++) assert.equal(after[100 + i], read[i], 'the same object, at its new row');
    columns.dropOldest(101);
    columns.put(numbered(T0 + 101 * HOUR, 7), ['okx'], false);
    const kept = columns.slice(0, 2);
    assert.notEqual(kept[0], read[1], 'a bar written again gets a new object');
    assert.equal(kept[0]!.bar.trades, 7);
    assert.equal(kept[1], read[2]);
  });

  it('shares one frozen array per distinct list of venues', () => {
    const lists = new SourceLists();
    const columns = new BarColumns(lists);
    columns.put(numbered(T0, 0), ['binance', 'okx'], false);
    columns.put(numbered(T0 + HOUR, 1), ['binance', 'okx'], false);
    const [a, b] = columns.slice(0, 2);
    assert.equal(a!.sources, b!.sources);
    assert.ok(Object.isFrozen(a!.sources));
    assert.deepEqual(a!.sources, ['binance', 'okx']);
  });

  it('puts many bars in as `put` one by one and a trim after each would: history pieces, rewrites, appends', () => {
    const venues: (readonly VenueId[])[] = [['binance'], ['okx', 'bitget'], []];
    let seed = 777;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const keep of [Infinity, 300, 40]) {
      const sources = new SourceLists();
      const many = new BarColumns(sources, keep);
      const oneByOne = new BarColumns(sources, keep);
      let newest = 1000;
      let oldest = 1000;
      for (let round = 0; round < 60; round++) {
        const entries: { bar: Candle; sources: readonly VenueId[]; backfilled: boolean }[] = [];
        const kind = next();
        const count = 1 + Math.floor(next() * 120);
        for (let i = 0; i < count; i++) {
          // A history piece (newest first, older than every bar held), a mix of any times (gaps filled, rewrites
          // of held bars, the same time twice), or appends.
          const slot =
            kind < 0.4
              ? --oldest
              : kind < 0.8
                ? oldest + Math.floor(next() * (newest - oldest + 20))
                : ++newest;
          const step = round * 1000 + i;
          entries.push({
            bar: { ...numbered(T0 + slot * HOUR, step), high: d(next() < 0.05 ? LONG_DECIMALS[1]! : '2') },
            sources: venues[step % 3]!,
            backfilled: step % 2 === 0,
          });
          newest = Math.max(newest, slot);
        }
        // Reads in between keep objects, which must stay with their bars and go when a bar changes.
        const readMany = many.slice(0, many.length);
        many.putMany(entries, keep);
        for (const e of entries) {
          oneByOne.put(e.bar, e.sources, e.backfilled);
          if (oneByOne.length > keep) oneByOne.dropOldest(oneByOne.length - keep);
        }
        const after = many.slice(0, many.length);
        assert.deepEqual(after.map(plain), oneByOne.slice(0, oneByOne.length).map(plain), `round ${round}`);
        const written = new Set(entries.map((e) => e.bar.time));
        const before = new Map(readMany.map((s) => [s.bar.time, s]));
        for (const s of after) {
          const earlier = before.get(s.bar.time);
          if (earlier !== undefined && !written.has(s.bar.time)) assert.equal(s, earlier, 'the same object');
        }
      }
      assert.ok(many.length > 0);
      if (keep !== Infinity) assert.equal(many.length, keep);
    }
  });

  it('puts a long history in, piece by piece, the newest piece first', () => {
    const columns = new BarColumns(new SourceLists());
    for (let n = 10_000; n < 10_010; n++) columns.put(numbered(T0 + n * HOUR, n), ['okx'], false);
    // Newest first, ten pieces of a thousand: each piece one block below the bars held.
    for (let piece = 0; piece < 10; piece++) {
      const entries = Array.from({ length: 1000 }, (_, i) => {
        const n = 9_999 - piece * 1000 - i;
        return { bar: numbered(T0 + n * HOUR, n), sources: ['okx'] as const, backfilled: true };
      });
      columns.putMany(entries);
    }
    const all = columns.slice(0, columns.length);
    assert.equal(all.length, 10_010);
    assert.deepEqual(
      all.map((s) => s.bar.trades),
      Array.from({ length: 10_010 }, (_, n) => n),
    );
    assert.equal(all.map((s) => s.backfilled).lastIndexOf(true), 9_999);
  });
});
