import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickwireClient } from '../../src/client/tickwire-client.ts';
import type { VenueId } from '../../src/domain/instrument.ts';
import type { SourcesView } from '../../src/protocol/source-status.ts';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { iso, M, makeBar, makeUpdate, range, startTestGateway, T0 } from '../gateway/helpers.ts';
import { freshInitial, MarketClock, NodeWebSocket, until } from './support.ts';

const SYMBOL = 'BTC/USDT';

function sources(loadingHistory: boolean): SourcesView {
  const exchange: VenueId = 'binance';
  return {
    inStartupGrace: false,
    instruments: [
      {
        symbol: SYMBOL,
        activeSource: exchange,
        primary: exchange,
        sources: [
          {
            exchange,
            connected: true,
            latency: 5,
            lastUpdate: Date.now(),
            messagesReceived: 10,
            errors: 0,
            healthy: true,
            ...(loadingHistory ? { loadingHistory: true } : {}),
          },
        ],
      },
    ],
  };
}

describe('client: candle history (real gateway)', () => {
  it('shows a partial initial as partial, then takes the whole one that follows: no gap, no duplicate', async (t) => {
    const store = new MemoryCandleStore();
    for (const i of range(0, 10)) store.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`, 10), ['binance']);
    let view = sources(true);
    const gatewayClock = new ManualClock(T0 + 20 * M);
    const g = await startTestGateway(
      { throttleMs: 10 },
      { store, sources: () => view, historyLoad: { pollMs: 10 }, clock: gatewayClock },
    );
    t.after(() => g.close());
    const client = new TickwireClient({
      url: g.gateway.url,
      WebSocket: NodeWebSocket,
      clock: new MarketClock(T0 + 20 * M),
      polling: false,
    });
    t.after(() => client.close());
    /** Waits for `check`, moving the gateway's clock so that its throttle and history polls run. */
    const untilTicking = (check: () => boolean, what: string): Promise<void> =>
      until(() => {
        gatewayClock.advance(10);
        return check();
      }, what);

    const series = client.candles({ symbol: SYMBOL, interval: '1m', initialBars: 30 });
    await client.connect();
    await until(() => series.get().loaded, 'the partial initial');
    assert.equal(series.get().partial, 'HISTORY_LOADING');
    assert.deepEqual(
      series.get().bars.map((b) => b.time),
      range(0, 10).map(iso),
    );

    g.publish(makeUpdate(makeBar(T0 + 20 * M, '120', 2)));
    await untilTicking(() => series.get().bars.at(-1)?.time === iso(20), 'the live bar');
    for (const i of range(10, 20))
      store.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`, 10), ['binance']);
    view = sources(false);
    await untilTicking(() => series.get().partial === undefined, 'the whole initial');
    assert.deepEqual(
      series.get().bars.map((b) => b.time),
      range(0, 21).map(iso),
    );
    assert.deepEqual(series.get().bars, await freshInitial(g.gateway.url, SYMBOL, '1m', 21));
  });

  it('pages back with loadOlder over /api/candles?end=, each bar once, until the history ends', async (t) => {
    const g = await startTestGateway({ apiRateLimit: 1000 });
    t.after(() => g.close());
    for (const i of range(0, 100)) g.publish(makeUpdate(makeBar(T0 + i * M, `${200 + i}`, 3), 'closed'));
    const client = new TickwireClient({ url: g.gateway.url, WebSocket: NodeWebSocket, polling: false });
    t.after(() => client.close());
    const series = client.candles({ symbol: SYMBOL, interval: '1m', initialBars: 20 });
    await client.connect();
    await until(() => series.get().bars.length === 20, 'the initial');
    assert.equal(await series.loadOlder(50), 50);
    assert.equal(series.get().bars[0]?.time, iso(30));
    assert.deepEqual(series.get().bars, await freshInitial(g.gateway.url, SYMBOL, '1m', 70));
    assert.equal(await series.loadOlder(50), 30, 'only 30 older bars exist');
    assert.equal(await series.loadOlder(50), 0);
    assert.deepEqual(
      series.get().bars.map((b) => b.time),
      range(0, 100).map(iso),
    );
    await assert.rejects(series.loadOlder(0), /bars must be an integer from 1 to 5000/);
  });

  it('subscribes again once the history budget has refilled when it refused a series', async (t) => {
    const g = await startTestGateway({
      maxInitialBars: 100,
      historyBurstBars: 100,
      historyBarsPerSecond: 100,
    });
    t.after(() => g.close());
    for (const i of range(0, 100)) g.publish(makeUpdate(makeBar(T0 + i * M, `${200 + i}`, 3), 'closed'));
    for (const i of range(0, 20)) {
      g.publish(makeUpdate(makeBar(T0 + i * 5 * M, `${300 + i}`, 3), 'closed', SYMBOL, '5m'));
    }
    const client = new TickwireClient({ url: g.gateway.url, WebSocket: NodeWebSocket, polling: false });
    t.after(() => client.close());
    const errors: string[] = [];
    client.on('error', (error) => errors.push(error.code));
    const oneMinute = client.candles({ symbol: SYMBOL, interval: '1m', initialBars: 100 });
    const fiveMinutes = client.candles({ symbol: SYMBOL, interval: '5m', initialBars: 100 });
    await client.connect();
    await until(() => oneMinute.get().loaded && fiveMinutes.get().loaded, 'both series');
    assert.deepEqual(errors, ['HISTORY_BUDGET_EXCEEDED'], 'the second subscribe was refused once');
    assert.equal(oneMinute.get().bars.length, 100);
    assert.equal(fiveMinutes.get().bars.length, 20);
  });
});
