/**
 * History while it loads at start-up, at the gateway: the feed's status (the sources provider) says the active
 * source is still `loadingHistory`, and the store holds only an older run's bars. A client is never given that
 * as the whole history: `initial` and /api/candles are marked partial with reason HISTORY_LOADING, and the
 * subscription is sent the whole history once the status says it has loaded, fitting the live stream with no bar
 * missing or repeated.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VenueId } from '../../src/domain/instrument.ts';
import type { SourcesView, SourceStatusView } from '../../src/protocol/source-status.ts';
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
} from './helpers.ts';

const SYMBOL = 'BTC/USDT';
/** Fast polls of the status. */
const LOAD = { pollMs: 10 };

function source(exchange: VenueId, loadingHistory: boolean): SourceStatusView {
  return {
    exchange,
    connected: true,
    latency: 5,
    lastUpdate: Date.now(),
    messagesReceived: 10,
    errors: 0,
    healthy: true,
    ...(loadingHistory ? { loadingHistory: true } : {}),
  };
}

function viewOf(loadingHistory: boolean): SourcesView {
  return {
    inStartupGrace: false,
    instruments: [
      {
        symbol: SYMBOL,
        activeSource: 'binance',
        primary: 'binance',
        sources: [source('binance', loadingHistory)],
      },
    ],
  };
}

/** A store holding an older run's minutes 0-9, as after a restart. */
function storeOfEarlierRun(): MemoryCandleStore {
  const store = new MemoryCandleStore();
  for (const i of range(0, 10)) store.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}.5`, 10), ['binance']);
  return store;
}

/** The seed's chart rule: replace on `initial`, replace or append on `update`. */
function chart(messages: readonly JsonMessage[]): string[] {
  let bars: string[] = [];
  for (const m of messages) {
    if (m.type === 'initial') bars = times(m['bars']);
    else if (m.type === 'update') {
      const time = (m['bar'] as { time: string }).time;
      if (!bars.includes(time)) bars.push(time);
    }
  }
  return bars;
}

async function getCandles(
  base: string,
): Promise<{ status: number; cache: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/api/candles?symbol=BTC/USDT&interval=1m&limit=30`);
  return {
    status: res.status,
    cache: res.headers.get('cache-control'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

describe('history while it loads at start-up', () => {
  it('initial and /api/candles are partial (HISTORY_LOADING), then the whole history follows the load', async (t) => {
    const store = storeOfEarlierRun();
    let view = viewOf(true);
    const clock = new ManualClock(T0 + 20 * M);
    const g = await startTestGateway(
      { throttleMs: 10 },
      { store, sources: () => view, historyLoad: LOAD, clock },
    );
    t.after(() => g.close());
    const http = g.gateway.url.replace('ws://', 'http://');
    const client = await TestClient.connect(g.gateway.url);
    t.after(() => client.close());

    client.send({ type: 'subscribe', symbol: SYMBOL, interval: '1m', initialBars: 30 });
    const partial = await client.next((m) => m.type === 'initial');
    assert.equal(partial['partial'], true, 'the older run’s bars are not the whole history');
    assert.equal(partial['reason'], 'HISTORY_LOADING');
    assert.deepEqual(times(partial['bars']), range(0, 10).map(iso));
    assert.equal(client.messages.filter((m) => m.type === 'error').length, 0, 'loading is no error');

    const loadingAnswer = await getCandles(http);
    assert.equal(loadingAnswer.status, 200, 'loading is never a 503');
    assert.equal(loadingAnswer.body['partial'], true);
    assert.equal(loadingAnswer.body['reason'], 'HISTORY_LOADING');
    assert.equal(loadingAnswer.cache, 'no-store');
    assert.deepEqual(times(loadingAnswer.body['bars']), range(0, 10).map(iso));

    // No refill while the status says loading.
    clock.advance(LOAD.pollMs * 10);
    await client.roundTrip();
    assert.equal(client.messages.filter((m) => m.type === 'initial').length, 1);

    // The venue goes live: the bar in progress reaches the stream (the client now sees a gap, 9 → 20) …
    g.publish(makeUpdate(makeBar(T0 + 20 * M, '120.5', 2)));
    clock.advance(10);
    await client.next((m) => m.type === 'update' && (m['bar'] as { time: string }).time === iso(20));
    assert.deepEqual(chart(client.messages), [...range(0, 10), 20].map(iso));
    // … and its history, written to the store (not published), is said to be loaded.
    for (const i of range(10, 20))
      store.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}.5`, 10), ['binance']);
    view = viewOf(false);

    const refilled = client.next((m) => m.type === 'initial' && m !== partial, 5000);
    clock.advance(LOAD.pollMs);
    const whole = await refilled;
    assert.equal(whole['partial'], undefined, 'the whole history is not marked partial');
    assert.deepEqual(times(whole['bars']), range(0, 21).map(iso), 'the downtime bars and the live bar');

    // The stream goes on from the whole initial: the same state of its newest bar is not repeated, the next bar
    // comes once.
    const afterWhole = client.messages.length;
    g.publish(makeUpdate(makeBar(T0 + 20 * M, '120.5', 2)));
    g.publish(makeUpdate(makeBar(T0 + 21 * M, '121.5', 1)));
    const nextUpdate = client.next((m) => m.type === 'update', 3000, afterWhole);
    // One update per tick: the state of bar 20 that initial covers, then bar 21.
    clock.advance(10);
    clock.advance(10);
    const next = await nextUpdate;
    assert.equal((next['bar'] as { time: string }).time, iso(21));
    assert.equal(
      client.messages.slice(afterWhole).filter((m) => m.type === 'update').length,
      1,
      'nothing initial covers is sent again',
    );
    assert.deepEqual(chart(client.messages), range(0, 22).map(iso), 'no bar missing or repeated');

    const stats = g.gateway.stats().gateway;
    assert.equal(stats.partialInitialsSent, 1);
    assert.equal(stats.initialsRefilled, 1);
    const loaded = await getCandles(http);
    assert.equal(loaded.body['partial'], undefined);
    assert.deepEqual(times(loaded.body['bars']), range(0, 22).map(iso));
    clock.advance(LOAD.pollMs * 10);
    await client.roundTrip();
    assert.equal(client.messages.filter((m) => m.type === 'initial').length, 2, 'one refill');
  });

  it('a gateway process without source status yet, within start-up: partial until the status says loaded', async (t) => {
    let view: SourcesView = { instruments: [] };
    const g = await startTestGateway(
      {},
      { store: storeOfEarlierRun(), sources: () => view, historyLoad: LOAD },
    );
    t.after(() => g.close());
    const client = await TestClient.connect(g.gateway.url);
    t.after(() => client.close());

    client.send({ type: 'subscribe', symbol: SYMBOL, interval: '1m', initialBars: 30 });
    const partial = await client.next((m) => m.type === 'initial');
    assert.equal(partial['reason'], 'HISTORY_LOADING');

    view = viewOf(false);
    const whole = await client.next((m) => m.type === 'initial' && m !== partial, 5000);
    assert.equal(whole['partial'], undefined);
    assert.deepEqual(times(whole['bars']), range(0, 10).map(iso));
  });

  it('a venue that never loads its history keeps the answers partial; unsubscribing ends the wait', async (t) => {
    const clock = new ManualClock(T0 + 20 * M);
    const g = await startTestGateway(
      {},
      { store: storeOfEarlierRun(), sources: () => viewOf(true), historyLoad: LOAD, clock },
    );
    t.after(() => g.close());
    const client = await TestClient.connect(g.gateway.url);
    t.after(() => client.close());

    client.send({ type: 'subscribe', symbol: SYMBOL, interval: '1m', initialBars: 30 });
    await client.next((m) => m.type === 'initial' && m['reason'] === 'HISTORY_LOADING');
    clock.advance(LOAD.pollMs * 20);
    await client.roundTrip();
    assert.equal(client.messages.filter((m) => m.type === 'initial').length, 1);
    const http = g.gateway.url.replace('ws://', 'http://');
    assert.equal((await getCandles(http)).body['reason'], 'HISTORY_LOADING');

    // A repeated subscribe answers for itself, partial again.
    client.send({ type: 'subscribe', symbol: SYMBOL, interval: '1m', initialBars: 5 });
    const again = await client.next((m) => m.type === 'initial' && (m['bars'] as unknown[]).length === 5);
    assert.equal(again['reason'], 'HISTORY_LOADING');
    client.send({ type: 'unsubscribe', symbol: SYMBOL, interval: '1m' });
    assert.equal(g.gateway.stats().gateway.partialInitialsSent, 2);
  });

  it('without a feed to ask (no sources provider), the store’s history is whole', async (t) => {
    const g = await startTestGateway({}, { store: storeOfEarlierRun() });
    t.after(() => g.close());
    const client = await TestClient.connect(g.gateway.url);
    t.after(() => client.close());
    client.send({ type: 'subscribe', symbol: SYMBOL, interval: '1m', initialBars: 30 });
    const initial = await client.next((m) => m.type === 'initial');
    assert.equal(initial['partial'], undefined);
  });
});
