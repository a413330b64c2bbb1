import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VenueId } from '../domain/instrument.ts';
import type { InstrumentSourcesView, SourceStatusView, SourcesView } from '../protocol/source-status.ts';
import {
  allSourcesLive,
  answerHealth,
  evaluateHealth,
  PROVIDER_FAILED_REASON,
  type HealthInput,
} from './health.ts';

const GRACE = 10_000;

function source(exchange: VenueId, state: Partial<SourceStatusView> = {}): SourceStatusView {
  const healthy = state.healthy ?? true;
  return {
    exchange,
    connected: healthy,
    latency: healthy ? 40 : null,
    lastUpdate: healthy ? 1 : null,
    messagesReceived: 10,
    errors: 0,
    healthy,
    ...(healthy ? {} : { reason: 'disconnected' }),
    ...state,
  };
}

function instrument(
  symbol: string,
  activeSource: VenueId | null,
  sources: SourceStatusView[],
): InstrumentSourcesView {
  return { symbol, activeSource, primary: sources[0]?.exchange ?? 'binance', sources };
}

function judge(view: SourcesView | undefined, more: Partial<HealthInput> = {}) {
  return evaluateHealth({
    symbols: ['BTC/USDT'],
    sources: view,
    uptimeMs: 60_000,
    startupGraceMs: GRACE,
    ...more,
  });
}

describe('health verdict', () => {
  it('is ok (200) when every instrument’s active source is healthy and publishing', () => {
    const report = judge(
      {
        instruments: [
          instrument('BTC/USDT', 'binance', [source('binance'), source('okx', { healthy: false })]),
          instrument('ETH/USDT', 'okx', [source('binance', { healthy: false }), source('okx')]),
        ],
      },
      { symbols: ['BTC/USDT', 'ETH/USDT'] },
    );
    assert.equal(report.status, 'ok');
    assert.equal(report.httpStatus, 200);
    assert.deepEqual(report.reasons, []);
    assert.deepEqual(report.connectedVenues, ['binance', 'okx']);
    assert.deepEqual(report.instruments[0], {
      symbol: 'BTC/USDT',
      state: 'live',
      activeSource: 'binance',
      liveSources: 1,
      connectedSources: 1,
      totalSources: 2,
    });
    assert.equal(report.instruments[1]?.state, 'live');
  });

  it('is degraded (503) when an instrument has no connected source once the start-up grace is over', () => {
    const report = judge({
      instruments: [
        instrument('BTC/USDT', 'binance', [
          source('binance', { healthy: false }),
          source('okx', { healthy: false }),
        ]),
      ],
      inStartupGrace: false,
    });
    assert.equal(report.status, 'degraded');
    assert.equal(report.httpStatus, 503);
    assert.deepEqual(report.connectedVenues, []);
    assert.equal(report.instruments[0]?.state, 'down');
    assert.deepEqual(report.reasons, ['BTC/USDT: no live source (binance disconnected, okx disconnected)']);
  });

  it('calls an instrument whose connected sources all fail the checks stale', () => {
    const report = judge({
      instruments: [
        instrument('BTC/USDT', 'okx', [
          source('binance', { healthy: false }),
          source('okx', { healthy: false, connected: true, reason: 'stale' }),
        ]),
      ],
    });
    assert.equal(report.status, 'degraded');
    assert.equal(report.instruments[0]?.state, 'stale');
    assert.deepEqual(report.connectedVenues, ['okx']);
    assert.deepEqual(report.reasons, ['BTC/USDT: no live source (binance disconnected, okx stale)']);
  });

  it('is degraded when one instrument is down even though the others are live', () => {
    const report = judge(
      {
        instruments: [
          instrument('BTC/USDT', 'binance', [source('binance')]),
          instrument('BTC/USD', 'dydx', [source('dydx', { healthy: false })]),
        ],
      },
      { symbols: ['BTC/USDT', 'BTC/USD'] },
    );
    assert.equal(report.status, 'degraded');
    assert.deepEqual(
      report.instruments.map((i) => i.state),
      ['live', 'down'],
    );
    assert.deepEqual(report.reasons, ['BTC/USD: no live source (dydx disconnected)']);
  });

  it('is starting (503) during the start-up grace while a source has not connected yet', () => {
    const report = judge({
      instruments: [instrument('BTC/USDT', 'binance', [source('binance', { healthy: false })])],
      inStartupGrace: true,
    });
    assert.equal(report.status, 'starting');
    assert.equal(report.httpStatus, 503);
    assert.deepEqual(report.reasons, ['BTC/USDT: starting, no live source yet (binance disconnected)']);
  });

  it('is starting while the active source is healthy but still loading history, even after the grace', () => {
    const loading = source('binance', { loadingHistory: true });
    const report = judge({
      instruments: [instrument('BTC/USDT', 'binance', [loading, source('okx')])],
      inStartupGrace: false,
    });
    assert.equal(report.status, 'starting');
    assert.equal(report.instruments[0]?.state, 'starting');
    assert.equal(report.instruments[0]?.liveSources, 1);
    assert.deepEqual(report.reasons, [
      'BTC/USDT: starting, no live source yet (binance loading history, okx live)',
    ]);
    // Loaded: live.
    const loaded = judge({ instruments: [instrument('BTC/USDT', 'binance', [source('binance')])] });
    assert.equal(loaded.status, 'ok');
  });

  it('an unhealthy active source still loading history after the grace is down, not starting', () => {
    const report = judge({
      instruments: [
        instrument('BTC/USDT', 'binance', [source('binance', { healthy: false, loadingHistory: true })]),
      ],
      inStartupGrace: false,
    });
    assert.equal(report.status, 'degraded');
    assert.equal(report.instruments[0]?.state, 'down');
  });

  it('without a status: starting within the grace from this process’s start, down after it', () => {
    const early = judge(undefined, { uptimeMs: 2000 });
    assert.equal(early.status, 'starting');
    assert.deepEqual(early.reasons, ['BTC/USDT: no source status received yet']);
    const late = judge({ instruments: [] }, { uptimeMs: GRACE });
    assert.equal(late.status, 'degraded');
    assert.deepEqual(late.instruments, [
      {
        symbol: 'BTC/USDT',
        state: 'down',
        activeSource: null,
        liveSources: 0,
        connectedSources: 0,
        totalSources: 0,
        reason: 'BTC/USDT: no source status received yet',
      },
    ]);
  });
});

describe('GET /health answer', () => {
  const fields = { uptimeMs: 60_000, connections: 2, rooms: 1, symbols: ['BTC/USDT'] };
  const feed = (sources: () => SourcesView) => ({
    sources,
    symbols: ['BTC/USDT'],
    uptimeMs: 60_000,
    startupGraceMs: GRACE,
  });

  it('keeps the seed’s fields in order after status, then adds the verdict', () => {
    const live = { instruments: [instrument('BTC/USDT', 'binance', [source('binance')])] };
    const answer = answerHealth(
      fields,
      feed(() => live),
      () => assert.fail('no error'),
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(Object.keys(answer.body as object), [
      'status',
      'uptimeMs',
      'connections',
      'rooms',
      'symbols',
      'ready',
      'reasons',
      'connectedVenues',
      'instruments',
    ]);
    assert.equal((answer.body as { status: string }).status, 'ok');
  });

  it('answers 503 when the feed cannot report, and says so', () => {
    const errors: unknown[] = [];
    const answer = answerHealth(
      fields,
      feed(() => {
        throw new Error('feed stopped');
      }),
      (err) => errors.push(err),
    );
    assert.equal(answer.status, 503);
    assert.equal(errors.length, 1);
    const body = answer.body as { status: string; reasons: string[] };
    assert.equal(body.status, 'degraded');
    assert.deepEqual(body.reasons, [`BTC/USDT: ${PROVIDER_FAILED_REASON}`]);
  });

  it('with no feed to judge, reports the process alone as ok', () => {
    assert.deepEqual(
      answerHealth(fields, null, () => {}),
      { status: 200, body: { status: 'ok', ...fields, ready: false } },
    );
  });
});

describe('readiness (every venue live)', () => {
  const both = (okx: Partial<SourceStatusView> = {}): SourcesView => ({
    instruments: [instrument('BTC/USDT', 'binance', [source('binance'), source('okx', okx)])],
  });

  it('is ready only when every source of every instrument is healthy and has loaded its history', () => {
    assert.equal(allSourcesLive(both(), ['BTC/USDT']), true);
    assert.equal(judge(both()).ready, true);
    // The active source alone is enough for `ok`, not for `ready`.
    const loading = judge(both({ loadingHistory: true }));
    assert.equal(loading.status, 'ok');
    assert.equal(loading.ready, false);
    const down = judge(both({ healthy: false }));
    assert.equal(down.status, 'ok');
    assert.equal(down.ready, false);
  });

  it('is not ready without status of a configured instrument, without sources, or without a view', () => {
    assert.equal(allSourcesLive(both(), ['BTC/USDT', 'ETH/USDT']), false);
    assert.equal(allSourcesLive({ instruments: [instrument('BTC/USDT', null, [])] }, ['BTC/USDT']), false);
    assert.equal(allSourcesLive(undefined, ['BTC/USDT']), false);
    assert.equal(judge(undefined).ready, false);
  });

  it('is in the /health body, first of the verdict after the process fields', () => {
    const answer = answerHealth(
      { uptimeMs: 1 },
      { sources: both, symbols: ['BTC/USDT'], uptimeMs: 60_000, startupGraceMs: GRACE },
      () => {},
    );
    assert.deepEqual(Object.keys(answer.body as object).slice(0, 4), [
      'status',
      'uptimeMs',
      'ready',
      'reasons',
    ]);
    assert.equal((answer.body as { ready: boolean }).ready, true);
  });
});
