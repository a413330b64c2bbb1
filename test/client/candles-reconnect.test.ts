import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TickwireClient } from '../../src/client/tickwire-client.ts';
import type { Bar } from '../../src/client/types.ts';
import { makeBar, makeUpdate, startTestGateway, type TestGateway } from '../gateway/helpers.ts';
import {
  freshInitial,
  MarketClock,
  NodeWebSocket,
  startGatewayProxy,
  until,
  type GatewayProxy,
} from './support.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 9, 24, 10, 0);
const SYMBOL = 'BTC/USDT';

function times(bars: readonly Bar[]): string[] {
  return bars.map((bar) => bar.time);
}

describe('client: candles across reconnects (real gateway)', () => {
  let t: TestGateway;
  let proxy: GatewayProxy;
  before(async () => {
    t = await startTestGateway({ throttleMs: 20, maxMessagesPerSecond: 10_000 });
    proxy = await startGatewayProxy(t.gateway.port);
  });
  after(async () => {
    await proxy.close();
    await t.close();
  });

  /** The ingest side's bar `minute` in its final state, then (live) the next bar started. */
  const closeBar = (minute: number, close: string, trades: number): void =>
    t.publish(makeUpdate(makeBar(T0 + minute * M, close, trades), 'closed'));
  const liveBar = (minute: number, close: string, trades: number): void =>
    t.publish(makeUpdate(makeBar(T0 + minute * M, close, trades), 'live'));

  it('holds exactly the server series after the connection drops mid-stream: no gap, no duplicate', async () => {
    for (let minute = 0; minute < 100; minute++) closeBar(minute, String(100 + minute), 5);
    const clock = new MarketClock(T0 + 100 * M);
    const client = new TickwireClient({
      url: proxy.wsUrl,
      WebSocket: NodeWebSocket,
      clock,
      reconnect: { minDelayMs: 10, maxDelayMs: 100 },
      polling: false,
    });
    after(() => client.close());
    const states: string[] = [];
    client.on('state', (status) => states.push(status.state));
    const series = client.candles({ symbol: SYMBOL, interval: '1m', initialBars: 50 });
    await client.connect();
    await until(() => series.get().bars.length === 50, 'the first initial');
    assert.equal(series.get().live, true);

    liveBar(100, '200', 1);
    liveBar(100, '201', 2);
    await until(() => series.get().bars.at(-1)?.trades === 2, 'the live bar');
    assert.equal(series.get().bars.length, 51);

    proxy.cut();
    await until(() => client.status.state !== 'connected', 'the drop to be seen');
    assert.equal(series.get().live, false, 'a view says when its data is not live');
    // What happens while the client is away: bar 100 closes, thirty more bars, a revision of a past bar.
    closeBar(100, '202', 3);
    for (let minute = 101; minute < 131; minute++) {
      liveBar(minute, String(300 + minute), 1);
      closeBar(minute, String(300 + minute), 4);
    }
    // Revisions of a bar closed while away, and of one before the outage within the view's 50 bars.
    t.publish(makeUpdate(makeBar(T0 + 110 * M, '998', 9), 'revised'));
    t.publish(makeUpdate(makeBar(T0 + 95 * M, '999', 9), 'revised'));
    liveBar(131, '431', 1);
    clock.time = T0 + 131.5 * M;
    proxy.restore();

    await until(
      () => series.get().bars.at(-1)?.time === new Date(T0 + 131 * M).toISOString(),
      'the catch-up',
    );
    assert.equal(client.status.state, 'connected');
    assert.equal(series.get().live, true);
    closeBar(131, '432', 2);
    await until(() => series.get().bars.at(-1)?.trades === 2, 'the last bar closed');

    const held = series.get().bars;
    assert.equal(new Set(times(held)).size, held.length, 'no bar time twice');
    assert.equal(held.length, 82, 'minutes 50 to 131, each once');
    assert.deepEqual(held, await freshInitial(t.gateway.url, SYMBOL, '1m', held.length));
    const at = (minute: number): Bar | undefined =>
      held.find((bar) => bar.time === new Date(T0 + minute * M).toISOString());
    assert.equal(at(110)?.close, 998, 'the revisions made while away are in place');
    assert.equal(at(95)?.close, 999);
    assert.ok(
      states.includes('disconnected') && states.includes('connecting'),
      `states: ${states.join(' ')}`,
    );
    client.close();
  });
});
