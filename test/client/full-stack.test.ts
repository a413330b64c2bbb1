/**
 * The client library against the whole stack: the exchange simulator, `tickwire all` following it, and the client
 * behind a proxy that drops its connection across a minute boundary. The client's series after the reconnect is
 * the server's (what a fresh subscribe returns), with the minute it missed, each bar once.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { describe, it } from 'node:test';
import { TickwireClient } from '../../src/client/tickwire-client.ts';
import type { Bar, ClientClock } from '../../src/client/types.ts';
import { clockNearBoundary, MINUTE, startSimulatedSystem } from '../e2e/helpers.ts';
import { freshInitial, NodeWebSocket, startGatewayProxy, until } from './support.ts';

const SYMBOL = 'BTC/USDT';

describe('client: full stack with the simulator', () => {
  it('keeps the series whole across a connection dropped over a minute boundary', async (t) => {
    // A minute ends about 20 s after the start: the set-up below (the system, the client's whole history, a
    // ticker and trades; some 6 s of CPU) is done well before on a quiet machine, and the client then waits, cut
    // off, for that minute's end. Were the set-up to take longer, it waits for the next minute instead.
    const now = clockNearBoundary(20_000);
    const { system } = await startSimulatedSystem(t, { venues: ['binance'], seed: 1313, now });
    const port = Number(new URL(system.gateway.url).port);
    const proxy = await startGatewayProxy(port);
    t.after(() => proxy.close());
    const clock: ClientClock = {
      now,
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    const client = new TickwireClient({
      url: proxy.wsUrl,
      WebSocket: NodeWebSocket,
      clock,
      reconnect: { minDelayMs: 50, maxDelayMs: 500 },
      polling: false,
    });
    t.after(() => client.close());
    const series = client.candles({ symbol: SYMBOL, interval: '1m', initialBars: 120 });
    const ticker = client.ticker({ symbol: SYMBOL });
    const trades = client.trades({ venue: 'binance', symbol: SYMBOL });
    await client.connect();
    await until(() => series.get().loaded && series.get().partial === undefined, 'the whole history', 60_000);
    await until(
      () => ticker.get() !== undefined && trades.get().trades.length > 0,
      'ticker and trades',
      30_000,
    );
    assert.equal(ticker.get()?.live, true);

    proxy.cut();
    const newestBefore = series.get().bars.at(-1) as Bar;
    // Away until a new minute has started and traded.
    const target = Math.ceil(now() / MINUTE) * MINUTE + 1500;
    await until(() => now() >= target, 'the next minute', 90_000);
    assert.equal(series.get().live, false);
    proxy.restore();

    await until(
      () => Date.parse(series.get().bars.at(-1)?.time ?? '') > Date.parse(newestBefore.time),
      'the catch-up',
      30_000,
    );
    assert.equal(client.status.state, 'connected');
    // The newest bar moves with every trade; everything before it must be the server's, exactly.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const snapshot = series.get().bars;
      const fresh = await freshInitial(system.gateway.url, SYMBOL, '1m', snapshot.length);
      if (isDeepStrictEqual(snapshot.slice(0, -1), fresh.slice(0, -1))) break;
      // A trade may have closed or revised a bar between the two reads: read both again.
      assert.ok(Date.now() < deadline, 'the series equals a fresh subscribe');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const held = series.get().bars;
    assert.equal(new Set(held.map((b) => b.time)).size, held.length, 'no bar twice');
    for (let i = 1; i < held.length; i++) {
      assert.equal(Date.parse(held[i]!.time) - Date.parse(held[i - 1]!.time), MINUTE, 'no bar missing');
    }
    await until(() => trades.get().live && ticker.get()?.live === true, 'the other views live again', 30_000);
  });
});
