import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/util/clock.ts';
import { makeBar, sleep, startTestGateway, TestClient, waitFor } from './helpers.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 9, 24, 0, 0);

describe('gateway: heartbeat', () => {
  it('terminates a client that never answers pings and keeps one that does', async () => {
    const clock = new ManualClock(T0);
    const t = await startTestGateway({ heartbeatMs: 100 }, { clock });
    try {
      const silent = await TestClient.connect(t.gateway.url, { autoPong: false });
      const healthy = await TestClient.connect(t.gateway.url);
      // One heartbeat: the gateway pings; the healthy client's pong left as it saw the ping, so it is back at the
      // gateway before the round trip that follows.
      const heartbeat = async (): Promise<void> => {
        const pinged = once(healthy.ws, 'ping');
        clock.advance(100);
        await pinged;
        await healthy.roundTrip();
      };
      await heartbeat();
      // The second one finds that the silent client did not answer the first.
      await heartbeat();
      // Abnormal closure (1006): the server cut the TCP connection without a close frame.
      assert.equal(await silent.closed, 1006);
      assert.equal(t.gateway.stats().gateway.terminatedByHeartbeat, 1);
      for (let i = 0; i < 3; i++) await heartbeat();
      assert.equal(healthy.closeCode, undefined);
      healthy.send({ type: 'ping' });
      await healthy.nextOfType('pong');
      assert.equal(t.gateway.stats().connections, 1);
    } finally {
      await t.close();
    }
  });
});

describe('gateway: slow consumers', () => {
  it('closes a client that does not read with 4008 and keeps serving the others', async () => {
    // The history budget would refuse the repeated 5,000-bar subscribes long before the buffer fills: lift it.
    const unlimited = 100_000_000;
    const t = await startTestGateway({
      maxBufferedBytes: 64 * 1024,
      maxMessagesPerSecond: 1000,
      historyBarsPerSecond: unlimited,
      historyBurstBars: unlimited,
      historyBarsPerSecondPerIp: unlimited,
      historyBurstBarsPerIp: unlimited,
    });
    try {
      for (let i = 0; i < 5000; i++) t.store.put('BTC/USDT', '1m', makeBar(T0 + i * M, `${60000 + i}.25`, i));
      const reader = await TestClient.connect(t.gateway.url);
      const slow = await TestClient.connect(t.gateway.url);
      slow.ws.pause();
      // Each initial is about 1 MB; the kernel's socket buffers fill, then the gateway's buffer passes the limit.
      // A repeated subscribe answers with a fresh initial once the previous one went out, so space them a little.
      for (let i = 0; i < 60 && t.gateway.stats().gateway.droppedSlowClients === 0; i++) {
        slow.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 5000 });
        await sleep(10);
      }
      await waitFor(
        () => t.gateway.stats().gateway.droppedSlowClients === 1,
        10_000,
        'the slow client to be dropped',
      );
      reader.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 10 });
      const initial = await reader.nextOfType('initial');
      assert.equal((initial.bars as unknown[]).length, 10);
      assert.equal(t.gateway.stats().broadcaster.rooms[0]?.clientCount, 1);
      slow.ws.resume();
      assert.equal(await slow.closed, 4008);
    } finally {
      await t.close();
    }
  });
});

describe('gateway: shutdown', () => {
  it('close() sends 1001 to every client and stops listening', async () => {
    const t = await startTestGateway();
    const a = await TestClient.connect(t.gateway.url);
    const b = await TestClient.connect(t.gateway.url + '/ws');
    await t.close();
    assert.equal(await a.closed, 1001);
    assert.equal(await b.closed, 1001);
    await assert.rejects(TestClient.connect(t.gateway.url));
  });
});
