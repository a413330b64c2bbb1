import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  M,
  makeBar,
  makeUpdate,
  sleep,
  startTestGateway,
  T0,
  TestClient,
  waitFor,
} from '../../test/gateway/helpers.ts';

const HISTORY = 5000;
/** The history budget would refuse the repeated whole-history subscribes that back the slow sockets up. */
const NO_HISTORY_BUDGET = {
  historyBarsPerSecond: 100_000_000,
  historyBurstBars: 100_000_000,
  historyBarsPerSecondPerIp: 100_000_000,
  historyBurstBarsPerIp: 100_000_000,
};

/** Stops (or restarts) reading a client's socket: the gateway's writes to it back up. */
function pauseReading(c: TestClient, paused: boolean): void {
  const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  if (paused) socket.pause();
  else socket.resume();
}

function closes(c: TestClient): number[] {
  return c.messages.filter((m) => m.type === 'update').map((m) => (m['bar'] as { close: number }).close);
}

describe('client send queue', () => {
  it('conflates candle states for clients that stop reading, and the others still receive every update', async () => {
    const t = await startTestGateway({
      ...NO_HISTORY_BUDGET,
      throttleMs: 0,
      maxMessagesPerSecond: 10_000,
      maxBufferedBytes: 64 * 1024 * 1024,
      maxQueuedBytes: 64 * 1024 * 1024,
    });
    try {
      for (let i = 0; i < HISTORY; i++)
        t.store.put('BTC/USDT', '1m', makeBar(T0 + i * M, `${60000 + i}.25`, i));
      const live = T0 + HISTORY * M;
      const fast = await Promise.all([1, 2, 3].map(() => TestClient.connect(t.gateway.url)));
      const slow = await Promise.all([1, 2].map(() => TestClient.connect(t.gateway.url)));
      for (const c of [...fast, ...slow]) {
        c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 0 });
        await c.nextOfType('initial');
      }
      for (const c of slow) pauseReading(c, true);
      // Back the slow clients' sockets up with whole histories (about 1 MB each), until both send queues hold
      // candle states that newer ones replace: one update then replaces a queued state at each slow client.
      let n = 0;
      const publish = (): void => {
        n++;
        t.publish(makeUpdate(makeBar(live, `${n}`, n)));
      };
      const dropped = (): number => t.gateway.stats().gateway['sendQueueDropped'] as number;
      let bothConflate = false;
      for (let i = 0; i < 200 && !bothConflate; i++) {
        for (const c of slow)
          c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: HISTORY });
        await sleep(20);
        publish();
        await sleep(5);
        const droppedBefore = dropped();
        publish();
        await sleep(5);
        bothConflate = dropped() - droppedBefore >= slow.length;
      }
      assert.ok(bothConflate, 'both slow clients queue and conflate');
      const before = n;
      for (let i = 0; i < 300; i++) {
        publish();
        await sleep(1);
      }
      // Every fast client has every state, in order, while the slow ones are still not reading.
      for (const c of fast) {
        await waitFor(() => closes(c).at(-1) === n, 10_000, 'the newest update at a fast client');
        assert.deepEqual(
          closes(c),
          Array.from({ length: n }, (_, i) => i + 1),
        );
      }
      assert.ok(
        dropped() >= 2 * (n - before) - 4,
        `each slow client's queue replaced its states (${dropped()})`,
      );
      assert.equal(t.gateway.stats().gateway['droppedSlowClients'], 0);
      // Reading again, a slow client gets the newest state last, each state at most once, in order.
      for (const c of slow) pauseReading(c, false);
      for (const c of slow) {
        await waitFor(() => closes(c).at(-1) === n, 20_000, 'the newest update at a slow client');
        const got = closes(c);
        for (let i = 1; i < got.length; i++) assert.ok((got[i] as number) > (got[i - 1] as number));
        assert.ok(got.length < n, 'states were conflated, not all sent');
        assert.equal(c.closeCode, undefined);
      }
      for (const c of [...fast, ...slow]) c.close();
    } finally {
      await t.close();
    }
  });

  it('closes a client whose send queue passes maxQueuedBytes with 4008, and serves the others', async () => {
    const t = await startTestGateway({
      ...NO_HISTORY_BUDGET,
      maxMessagesPerSecond: 10_000,
      maxBufferedBytes: 64 * 1024 * 1024,
      maxQueuedBytes: 64 * 1024,
    });
    try {
      for (let i = 0; i < HISTORY; i++)
        t.store.put('BTC/USDT', '1m', makeBar(T0 + i * M, `${60000 + i}.25`, i));
      const reader = await TestClient.connect(t.gateway.url);
      const slow = await TestClient.connect(t.gateway.url);
      pauseReading(slow, true);
      for (let i = 0; i < 200 && t.gateway.stats().gateway.droppedSlowClients === 0; i++) {
        slow.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: HISTORY });
        await sleep(10);
      }
      await waitFor(
        () => t.gateway.stats().gateway.droppedSlowClients === 1,
        10_000,
        'the slow client closed',
      );
      reader.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 10 });
      assert.equal(((await reader.nextOfType('initial'))['bars'] as unknown[]).length, 10);
      pauseReading(slow, false);
      assert.equal(await slow.closed, 4008);
      reader.close();
    } finally {
      await t.close();
    }
  });
});
