import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { encodeTicker, TICKER_CHANNEL } from '../../src/bus/market-message.ts';
import { TickwireClient } from '../../src/client/tickwire-client.ts';
import type { ClientClock, ConnectionStatus, WebSocketFactory } from '../../src/client/types.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { startTestGateway, type TestGateway } from '../gateway/helpers.ts';
import { NodeWebSocket, startGatewayProxy, until, type GatewayProxy } from './support.ts';

const T0 = Date.UTC(2026, 11, 3, 12);

/** The ws package's WebSocket, counting the connections the client opens. */
function countingWebSocket(counter: { opened: number }): WebSocketFactory {
  return class extends WebSocket {
    constructor(url: string) {
      super(url);
      counter.opened++;
    }
  } as unknown as WebSocketFactory;
}

describe('client: connection states, reconnect and liveness (real gateway)', () => {
  let t: TestGateway;
  let proxy: GatewayProxy;
  before(async () => {
    t = await startTestGateway({ maxMessagesPerSecond: 10_000 });
    proxy = await startGatewayProxy(t.gateway.port);
  });
  after(async () => {
    await proxy.close();
    await t.close();
  });

  it('retries with exponential backoff and full jitter on the injected clock and random, then connects', async () => {
    const manual = new ManualClock(T0);
    const clock: ClientClock = {
      now: manual.now,
      setTimeout: (callback, ms) => manual.setTimeout(callback, ms),
      clearTimeout: (handle) => manual.clearTimer(handle as ReturnType<typeof manual.setTimeout>),
    };
    const counter = { opened: 0 };
    const draws: number[] = [];
    proxy.cut();
    const client = new TickwireClient({
      url: proxy.wsUrl,
      WebSocket: countingWebSocket(counter),
      clock,
      random: () => {
        draws.push(0.5);
        return 0.5;
      },
      reconnect: { minDelayMs: 100, maxDelayMs: 1000 },
      polling: false,
    });
    after(() => client.close());
    const states: ConnectionStatus[] = [];
    client.on('state', (status) => states.push(status));
    await client.connect();
    // Half of each ceiling (random 0.5): 100, 200, 400, 800, then the 1000 cap.
    const expected = [50, 100, 200, 400, 500, 500];
    for (const [i, delay] of expected.entries()) {
      await until(
        () => client.status.attempt === i + 1 && client.status.retryAt !== undefined,
        `failure ${i + 1}`,
      );
      assert.equal(client.status.state, 'error');
      assert.equal(client.status.retryAt, manual.now() + delay, `delay before attempt ${i + 2}`);
      const opened = counter.opened;
      manual.advance(delay - 1);
      assert.equal(counter.opened, opened, 'not before its time');
      manual.advance(1);
      await until(() => counter.opened === opened + 1, `attempt ${i + 2}`);
    }
    proxy.restore();
    await until(
      () => client.status.attempt === expected.length + 1 && client.status.retryAt !== undefined,
      'last failure',
    );
    manual.advance(500);
    await until(() => client.status.state === 'connected', 'the connection');
    assert.equal(client.status.attempt, 0);
    assert.equal(client.status.retryAt, undefined);
    assert.equal(draws.length, expected.length + 1, 'one draw per retry');
    const sequence = states.map((s) => s.state);
    assert.deepEqual(sequence.slice(0, 4), ['connecting', 'error', 'connecting', 'error']);
    assert.equal(sequence.at(-1), 'connected');
  });

  it('finds a silent path with its ping, drops it and reconnects', async () => {
    const counter = { opened: 0 };
    const client = new TickwireClient({
      url: proxy.wsUrl,
      WebSocket: countingWebSocket(counter),
      reconnect: { minDelayMs: 10, maxDelayMs: 50 },
      pingIntervalMs: 100,
      pongTimeoutMs: 400,
      polling: false,
    });
    after(() => client.close());
    const errors: string[] = [];
    client.on('state', (status) => {
      if (status.error) errors.push(status.error.code);
    });
    const ticker = client.ticker({ symbol: 'BTC/USDT', venue: 'okx' });
    await client.connect();
    assert.equal(client.status.state, 'connected');
    t.bus.publish(
      TICKER_CHANNEL,
      encodeTicker({
        venue: 'okx',
        symbol: 'BTC/USDT',
        last: parseDecimal('30000'),
        time: T0,
        receivedAt: T0,
      }),
    );
    await until(() => ticker.get()?.live === true, 'a live ticker');
    const opened = counter.opened;
    // The path stops forwarding but no socket closes: only the missing pong can tell.
    proxy.stall();
    await until(() => errors.includes('PING_TIMEOUT'), 'the ping timeout');
    assert.notEqual(client.status.state, 'connected');
    assert.equal(ticker.get()?.live, false, 'the data is kept, marked not live');
    assert.equal(ticker.get()?.last, 30000);
    proxy.restore();
    await until(() => client.status.state === 'connected' && counter.opened > opened, 'a new connection');
  });

  it('closes for good on close(): no reconnect, every later call refused', async () => {
    const client = new TickwireClient({ url: t.gateway.url, WebSocket: NodeWebSocket, polling: false });
    await client.connect();
    assert.equal(client.status.state, 'connected');
    client.close();
    assert.equal(client.status.state, 'disconnected');
    assert.equal(client.status.retryAt, undefined);
    await assert.rejects(client.connect(), /was closed/);
    assert.throws(() => client.candles({ symbol: 'BTC/USDT', interval: '1m' }), /was closed/);
  });
});
