import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildLadder } from '../../dashboard/src/book-ladder.ts';
import { equityChartPoints } from '../../dashboard/src/equity-points.ts';
import { nextPollDelayMs, readRateLimit } from '../../dashboard/src/rate-limit.ts';
import { indicatorOf, isStale } from '../../dashboard/src/status.ts';
import { hashWithoutToken, readHash } from '../../dashboard/src/token.ts';

describe('book ladder', () => {
  it('accumulates each side and scales both depth bars to the deeper side', () => {
    const ladder = buildLadder(
      [
        [67234.5, 0.8],
        [67234.4, 1.2],
      ],
      [
        [67234.6, 0.1],
        [67234.9, 3.9],
      ],
      10,
    );
    assert.deepEqual(
      ladder.bids.map((l) => [l.price, l.cumulative]),
      [
        [67234.5, 0.8],
        [67234.4, 2],
      ],
    );
    assert.equal(ladder.asks[1]?.depth, 1);
    assert.equal(ladder.bids[1]?.depth, 0.5);
    assert.equal(ladder.spread, '0.1', 'the spread has the prices’ decimals, not a float’s');
  });

  it('keeps at most the rows asked for and has no spread with an empty side', () => {
    const ladder = buildLadder(
      [
        [1, 1],
        [0.9, 1],
        [0.8, 1],
      ],
      [],
      2,
    );
    assert.equal(ladder.bids.length, 2);
    assert.equal(ladder.spread, undefined);
  });
});

describe('equity points', () => {
  it('sorts, keeps the last point of each second, and reads decimal strings', () => {
    const points = equityChartPoints([
      { time: 3_500, equity: '102' },
      { time: 1_000, equity: '100' },
      { time: 3_100, equity: '101' },
      { time: 4_000, equity: 'bad' },
    ]);
    assert.deepEqual(points, [
      { time: 1, value: 100 },
      { time: 3, value: 102 },
    ]);
  });
});

describe('rate-limit pacing', () => {
  it('polls no faster than the minimum and spreads what is left of the window', () => {
    assert.equal(nextPollDelayMs(15_000, {}), 15_000);
    assert.equal(nextPollDelayMs(15_000, { remaining: 90, resetSeconds: 600 }), 15_000);
    assert.equal(nextPollDelayMs(15_000, { remaining: 10, resetSeconds: 600 }), 120_000);
    assert.equal(nextPollDelayMs(15_000, { remaining: 1, resetSeconds: 30 }), 31_000);
    assert.equal(nextPollDelayMs(15_000, { retryAfterSeconds: 512 }), 512_000);
  });

  it('reads the RateLimit headers', () => {
    const headers = new Headers({
      'RateLimit-Remaining': '37',
      'RateLimit-Reset': '512',
      'Retry-After': 'soon',
    });
    assert.deepEqual(readRateLimit(headers), { remaining: 37, resetSeconds: 512 });
  });
});

describe('connection indicator', () => {
  const status = { transport: 'websocket' as const, attempt: 0 };

  it('maps the client states to what the page shows', () => {
    assert.equal(indicatorOf({ ...status, state: 'connected' }, true).state, 'connected');
    assert.equal(indicatorOf({ ...status, state: 'connecting' }, false).label, 'connecting…');
    assert.equal(indicatorOf({ ...status, state: 'connecting' }, true).state, 'reconnecting');
    assert.equal(indicatorOf({ ...status, state: 'disconnected', retryAt: 5 }, true).state, 'reconnecting');
    assert.equal(indicatorOf({ ...status, state: 'disconnected' }, true).state, 'disconnected');
    const error = indicatorOf(
      { ...status, state: 'error', error: { code: 'SOCKET_ERROR', message: 'x' } },
      true,
    );
    assert.deepEqual(error, { state: 'error', label: 'error: SOCKET_ERROR' });
    assert.equal(
      indicatorOf({ ...status, state: 'connected', transport: 'polling' }, true).state,
      'reconnecting',
    );
  });

  it('marks the page stale only after a connection was lost, not while the first one opens', () => {
    assert.equal(isStale({ ...status, state: 'connecting' }, false), false);
    assert.equal(isStale({ ...status, state: 'connecting' }, true), true);
    assert.equal(isStale({ ...status, state: 'connected' }, true), false);
    assert.equal(isStale({ ...status, state: 'connected', transport: 'polling' }, true), true);
  });
});

describe('URL fragment', () => {
  it('reads the token and the choices, keeping a + in a token', () => {
    assert.deepEqual(readHash('#token=ab+c%2Fd&symbol=BTC%2FUSDT&interval=5m'), {
      token: 'ab+c/d',
      symbol: 'BTC/USDT',
      interval: '5m',
    });
    assert.deepEqual(readHash(''), {});
    assert.deepEqual(readHash('#token='), {});
  });

  it('drops the token from the fragment and keeps the rest', () => {
    assert.equal(hashWithoutToken('#token=abc&symbol=BTC%2FUSDT'), '#symbol=BTC%2FUSDT');
    assert.equal(hashWithoutToken('#token=abc'), '');
  });
});
