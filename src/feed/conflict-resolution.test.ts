import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Ticker } from '../domain/ticker.ts';
import { resolvePrice, resolveTicker, type PriceQuote, type ResolvedPrice } from './conflict-resolution.ts';

const NOW = 1_700_000_000_000;

function q(venue: VenueId, price: string, ageMs = 0, time = NOW - ageMs): PriceQuote {
  return { venue, price: parseDecimal(price), time, receivedAt: NOW - ageMs };
}

function plain(r: ResolvedPrice | undefined): string | undefined {
  return r && toPlainString(r.price);
}

test('no fresh quote resolves to undefined with every strategy', () => {
  const quotes = [q('binance', '100', 10_001), q('okx', '101', 20_000)];
  for (const s of ['primary', 'latest', 'average'] as const)
    assert.equal(resolvePrice(s, quotes, NOW, { active: 'binance' }), undefined);
  assert.equal(resolvePrice('average', [], NOW, { active: 'binance' }), undefined);
});

test('primary: the active source quote; the freshest other one, marked as fallback, when it is stale', () => {
  const quotes = [q('binance', '100.5', 50), q('okx', '100.7', 10), q('bitget', '100.6', 20)];
  const r = resolvePrice('primary', quotes, NOW, { active: 'binance' });
  assert.deepEqual([plain(r), r?.sources, r?.fallback], ['100.5', ['binance'], false]);
  const stale = [q('binance', '100.5', 15_000), q('okx', '100.7', 10), q('bitget', '100.6', 20)];
  const f = resolvePrice('primary', stale, NOW, { active: 'binance' });
  assert.deepEqual([plain(f), f?.sources, f?.fallback], ['100.7', ['okx'], true]);
  assert.deepEqual(f?.excluded, [{ venue: 'binance', why: 'stale' }]);
});

test('latest: the fresh quote with the latest exchange time; ties go to the later receive, then the active source', () => {
  const quotes = [
    q('binance', '1', 0, NOW - 300),
    q('okx', '2', 100, NOW - 100),
    q('bitget', '3', 20_000, NOW),
  ];
  assert.equal(plain(resolvePrice('latest', quotes, NOW, { active: 'binance' })), '2', 'bitget is stale');
  const tie = [q('binance', '1', 5, NOW - 10), q('okx', '2', 5, NOW - 10)];
  assert.equal(plain(resolvePrice('latest', tie, NOW, { active: 'okx' })), '2');
  assert.equal(plain(resolvePrice('latest', tie, NOW, { active: 'binance' })), '1');
  const laterReceive = [q('binance', '1', 5, NOW - 10), q('okx', '2', 1, NOW - 10)];
  assert.equal(plain(resolvePrice('latest', laterReceive, NOW, { active: 'binance' })), '2');
});

test('average of three: the median; an outlier beyond the band is dropped and named', () => {
  const r = resolvePrice(
    'average',
    [q('binance', '100.10'), q('okx', '100.30'), q('bitget', '100.20')],
    NOW,
    {
      active: 'binance',
    },
  );
  assert.equal(plain(r), '100.2');
  assert.deepEqual(r?.sources, ['binance', 'bitget', 'okx']);
  const spike = resolvePrice('average', [q('binance', '100'), q('okx', '100.4'), q('bitget', '250')], NOW, {
    active: 'binance',
  });
  assert.equal(plain(spike), '100.2', 'median of the two that agree: the exact midpoint');
  assert.deepEqual(spike?.excluded, [{ venue: 'bitget', why: 'outlier' }]);
  assert.deepEqual(spike?.sources, ['binance', 'okx']);
});

test('average of four: the median of an even count is the exact midpoint, stale quotes are ignored', () => {
  const r = resolvePrice(
    'average',
    [q('binance', '0.00002894'), q('okx', '0.00002895'), q('bitget', '0.00002891'), q('dydx', '0.00002899')],
    NOW,
    { active: 'binance' },
  );
  assert.equal(plain(r), '0.000028945');
  const withStale = resolvePrice(
    'average',
    [q('binance', '100'), q('okx', '101'), q('bitget', '102'), q('dydx', '50', 60_000)],
    NOW,
    { active: 'binance' },
  );
  assert.equal(plain(withStale), '101');
  assert.deepEqual(withStale?.excluded, [{ venue: 'dydx', why: 'stale' }]);
});

test('average of two: their midpoint when they agree within the band, else the active source', () => {
  const agree = resolvePrice('average', [q('binance', '100'), q('okx', '100.99')], NOW, { active: 'okx' });
  assert.deepEqual([plain(agree), agree?.fallback], ['100.495', false]);
  const disagree = resolvePrice('average', [q('binance', '100'), q('okx', '103')], NOW, { active: 'okx' });
  assert.deepEqual([plain(disagree), disagree?.sources, disagree?.fallback], ['103', ['okx'], true]);
  const tighter = resolvePrice('average', [q('binance', '100'), q('okx', '100.2')], NOW, {
    active: 'binance',
    outlierBandBps: 5,
  });
  assert.deepEqual([plain(tighter), tighter?.fallback], ['100', true], 'a 0.2 % spread exceeds a 5 bps band');
});

test('average: the band edge is inclusive and computed exactly', () => {
  // median 100, band 1 % = 1: 99 and 101 are kept, 101.0000001 is not.
  const edge = resolvePrice('average', [q('binance', '99'), q('okx', '100'), q('bitget', '101')], NOW, {
    active: 'binance',
  });
  assert.deepEqual(edge?.excluded, []);
  const past = resolvePrice(
    'average',
    [q('binance', '99'), q('okx', '100'), q('bitget', '101.0000001')],
    NOW,
    {
      active: 'binance',
    },
  );
  assert.deepEqual(past?.excluded, [{ venue: 'bitget', why: 'outlier' }]);
  assert.equal(plain(past), '99.5');
});

test('average without consensus falls back to the active source', () => {
  const r = resolvePrice(
    'average',
    [q('binance', '100'), q('okx', '100'), q('bitget', '200'), q('dydx', '200')],
    NOW,
    {
      active: 'bitget',
    },
  );
  assert.deepEqual([plain(r), r?.sources, r?.fallback], ['200', ['bitget'], true]);
  assert.equal(r?.excluded.length, 3);
});

test('one fresh quote is the price whatever the strategy', () => {
  const quotes = [q('okx', '42.1'), q('binance', '40', 11_000)];
  for (const s of ['latest', 'average'] as const)
    assert.equal(plain(resolvePrice(s, quotes, NOW, { active: 'binance' })), '42.1');
});

test('rejects a bad band or stale limit', () => {
  assert.throws(
    () => resolvePrice('average', [q('okx', '1')], NOW, { active: 'okx', outlierBandBps: -1 }),
    /outlierBandBps/,
  );
  assert.throws(
    () => resolvePrice('average', [q('okx', '1')], NOW, { active: 'okx', staleAfterMs: Number.NaN }),
    /staleAfterMs/,
  );
});

function ticker(venue: VenueId, last: string, bid: string, ask: string, ageMs = 0): Ticker {
  return {
    venue,
    symbol: 'BTC/USDT',
    last: parseDecimal(last),
    bid: parseDecimal(bid),
    ask: parseDecimal(ask),
    volume24h: parseDecimal(venue === 'binance' ? '1000' : '700'),
    time: NOW - ageMs,
    receivedAt: NOW - ageMs,
  };
}

test('resolveTicker: primary and latest take one venue ticker whole', () => {
  const tickers = [
    ticker('binance', '100', '99.9', '100.1', 30),
    ticker('okx', '100.2', '100.1', '100.3', 5),
  ];
  const p = resolveTicker('primary', tickers, NOW, { active: 'binance' });
  assert.equal(p?.ticker, tickers[0]);
  assert.deepEqual(p?.sources, ['binance']);
  const l = resolveTicker('latest', tickers, NOW, { active: 'binance' });
  assert.equal(l?.ticker, tickers[1]);
});

test('resolveTicker: average sets last to the median and keeps bid, ask and 24 h stats of the active venue', () => {
  const tickers = [
    ticker('binance', '100', '99.9', '100.1'),
    ticker('okx', '100.4', '100.3', '100.5'),
    ticker('bitget', '100.3', '100.2', '100.4'),
  ];
  const r = resolveTicker('average', tickers, NOW, { active: 'okx' });
  assert.ok(r);
  assert.equal(toPlainString(r.ticker.last), '100.3');
  assert.equal(r.ticker.venue, 'okx');
  assert.equal(r.ticker.bid && toPlainString(r.ticker.bid), '100.3');
  assert.equal(r.ticker.volume24h && toPlainString(r.ticker.volume24h), '700');
  assert.deepEqual(r.sources, ['okx', 'binance', 'bitget']);
  assert.equal(
    resolveTicker('average', [ticker('okx', '1', '1', '1', 60_000)], NOW, { active: 'okx' }),
    undefined,
  );
});
