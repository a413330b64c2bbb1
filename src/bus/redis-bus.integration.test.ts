import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { serviceSkip, testRedisPrefix, TEST_REDIS_URL } from '../../test/support/services.ts';
import { freePort } from '../../test/support/free-port.ts';
import { startProxyFor, viaProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { newAlert, type Alert } from '../domain/alert.ts';
import { ALERT_CHANNEL, decodeAlert, publishAlert } from './alert-message.ts';
import { CANDLE_CHANNEL, type BusStatus } from './bus.ts';
import { runBusContract, settle, waitUntil } from './bus.contract.ts';
import { createRedisBus, RedisBus, type RedisBusOptions } from './redis-bus.ts';
import { AlertFeed, DEFAULT_RECENT_ALERTS } from '../gateway/alert-feed.ts';
import { BusIntake } from '../gateway/bus-intake.ts';
import { encodeAlertJson } from '../protocol/server-messages.ts';

function open(prefix: string, options: Partial<RedisBusOptions> = {}): Promise<RedisBus> {
  return createRedisBus({ url: TEST_REDIS_URL, prefix, logger: silentLogger(), ...options });
}

describe('RedisBus', { skip: await serviceSkip('redis') }, () => {
  runBusContract('RedisBus', async (count) => {
    const prefix = testRedisPrefix();
    const buses: RedisBus[] = [];
    for (let i = 0; i < count; i++) buses.push(await open(prefix));
    return buses;
  });

  let raw: Redis;
  before(() => {
    raw = new Redis(TEST_REDIS_URL);
  });
  after(async () => {
    await raw.quit();
  });

  it('lets buses on one prefix hear each other and keeps other prefixes apart', async () => {
    const prefix = testRedisPrefix();
    const [a, b, stranger] = await Promise.all([open(prefix), open(prefix), open(testRedisPrefix())]);
    try {
      const atA: string[] = [];
      const atB: string[] = [];
      const atStranger: string[] = [];
      a.subscribe('ch', (m) => atA.push(m));
      b.subscribe('ch', (m) => atB.push(m));
      stranger.subscribe('ch', (m) => atStranger.push(m));
      await Promise.all([settle(a), settle(b), settle(stranger)]);
      a.publish('ch', 'from a');
      b.publish('ch', 'from b');
      await waitUntil(() => atA.length === 2 && atB.length === 2, 'both messages at both buses');
      assert.deepEqual(new Set(atA), new Set(['from a', 'from b']));
      assert.deepEqual(atB, atA);
      // Redis answered both PUBLISHes before they arrived, so a marker sent now arrives after them.
      stranger.publish('ch', 'marker');
      await waitUntil(() => atStranger.length === 1, "the stranger's own marker");
      assert.deepEqual(atStranger, ['marker']);
      assert.equal(atA.length, 2);
    } finally {
      await Promise.all([a.close(), b.close(), stranger.close()]);
    }
  });

  it('puts the prefix in front of the channel name on Redis', async () => {
    const prefix = testRedisPrefix();
    const bus = await open(prefix);
    const listener = new Redis(TEST_REDIS_URL);
    try {
      const got: [string, string][] = [];
      listener.on('message', (channel: string, message: string) => got.push([channel, message]));
      await listener.subscribe(prefix + CANDLE_CHANNEL);
      bus.publish(CANDLE_CHANNEL, 'bar');
      await waitUntil(() => got.length === 1, 'the message on the prefixed channel');
      assert.deepEqual(got, [[`${prefix}tickwire:candles`, 'bar']]);
    } finally {
      await Promise.all([bus.close(), listener.quit()]);
    }
  });

  it('shares one Redis subscription among the handlers of a channel and drops it with the last', async () => {
    const prefix = testRedisPrefix();
    const bus = await open(prefix);
    const subscribers = async (): Promise<number> => {
      const reply = (await raw.call('PUBSUB', 'NUMSUB', `${prefix}shared`)) as [string, number];
      return Number(reply[1]);
    };
    try {
      const first = bus.subscribe('shared', () => undefined);
      const second = bus.subscribe('shared', () => undefined);
      await settle(bus);
      assert.equal(await subscribers(), 1);
      first();
      await settle(bus);
      assert.equal(await subscribers(), 1);
      second();
      await settle(bus);
      assert.equal(await subscribers(), 0);
    } finally {
      await bus.close();
    }
  });

  it('keeps the stream of a durable channel capped near durableMaxLen', async () => {
    const prefix = testRedisPrefix();
    const bus = await open(prefix, { durableChannels: ['capped'], durableMaxLen: 10 });
    try {
      const got: string[] = [];
      bus.subscribe('capped', (m) => got.push(m));
      await settle(bus);
      for (let i = 0; i < 1000; i++) bus.publish('capped', `m${i}`);
      await waitUntil(() => got.length === 1000, 'every message');
      assert.equal(got[999], 'm999');
      // MAXLEN ~ trims whole macro nodes (100 entries by default), never below the cap.
      const length = await raw.xlen(`${prefix}capped:log`);
      assert.ok(length >= 10 && length <= 200, `stream length ${length}`);
    } finally {
      await bus.close();
      await raw.del(`${prefix}capped:log`);
    }
  });

  it('gives a first subscription the last durableBacklog alerts of the log, oldest first, then the live ones', async () => {
    const prefix = testRedisPrefix();
    const ingestSide = await open(prefix);
    const alerts = Array.from({ length: 5 }, (_, n) =>
      newAlert({ severity: 'warning', kind: 'source_stale', message: `alert ${n}` }),
    );
    for (const alert of alerts) publishAlert(ingestSide, alert);
    await waitUntil(() => ingestSide.stats().published === 5, 'the alerts in the log');
    const [starting, plain] = await Promise.all([open(prefix, { durableBacklog: 3 }), open(prefix)]);
    try {
      const got: string[] = [];
      const plainGot: string[] = [];
      starting.subscribe(ALERT_CHANNEL, (m) => got.push(decodeAlert(m).id));
      plain.subscribe(ALERT_CHANNEL, (m) => plainGot.push(decodeAlert(m).id));
      await Promise.all([settle(starting), settle(plain)]);
      // The backlog is read over the publisher connection after the subscription took effect.
      await waitUntil(() => starting.stats().backlog === 3, 'the backlog read');
      assert.deepEqual(
        got,
        alerts.slice(2).map((a) => a.id),
      );
      assert.equal(starting.stats().backlog, 3);
      assert.equal(starting.stats().replayed, 0);
      assert.deepEqual(plainGot, [], 'without a backlog a first subscription starts at the end');

      const live = newAlert({ severity: 'info', kind: 'source_recovered', message: 'live' });
      publishAlert(ingestSide, live);
      await waitUntil(() => got.length === 4 && plainGot.length === 1, 'the live alert at both');
      assert.deepEqual(
        got,
        [...alerts.slice(2), live].map((a) => a.id),
      );
    } finally {
      await Promise.all([starting.close(), plain.close(), ingestSide.close()]);
      await raw.del(`${prefix}${ALERT_CHANNEL}:log`);
    }
  });

  it("feeds a starting gateway's alerts channel from the log: its snapshot holds the alerts from before", async () => {
    const prefix = testRedisPrefix();
    const ingestSide = await open(prefix);
    const before = [
      newAlert({ severity: 'critical', kind: 'redis_down', message: 'before 0' }),
      newAlert({ severity: 'info', kind: 'ingest_active', message: 'before 1' }),
    ];
    for (const alert of before) publishAlert(ingestSide, alert);
    await waitUntil(() => ingestSide.stats().published === 2, 'the alerts in the log');
    const gatewaySide = await open(prefix, { durableBacklog: DEFAULT_RECENT_ALERTS });
    try {
      const feed = new AlertFeed();
      feed.listen(new BusIntake(gatewaySide, silentLogger()));
      await waitUntil(() => feed.recent().length === 2, 'the alerts read from the log');
      const sent: unknown[] = [];
      feed.join({ send: (p) => sent.push(JSON.parse(p.toString())) }, { minSeverity: 'info' });
      assert.deepEqual(sent[1], {
        type: 'alerts',
        alerts: before.map((a) => JSON.parse(encodeAlertJson(a))),
      });
    } finally {
      await Promise.all([gatewaySide.close(), ingestSide.close()]);
      await raw.del(`${prefix}${ALERT_CHANNEL}:log`);
    }
  });

  it('rejects bad options with the reason', () => {
    const logger = silentLogger();
    assert.throws(() => new RedisBus({ url: 'http://127.0.0.1:6379', logger }), /url must be a redis:\/\//);
    assert.throws(() => new RedisBus({ url: 'not a url', logger }), /url must be a redis:\/\//);
    assert.throws(
      () => new RedisBus({ url: TEST_REDIS_URL, logger, maxQueued: 0 }),
      /maxQueued must be a positive integer, got 0/,
    );
    assert.throws(
      () => new RedisBus({ url: TEST_REDIS_URL, logger, heartbeatMs: 1.5 }),
      /heartbeatMs must be a positive integer/,
    );
    assert.throws(
      () => new RedisBus({ url: TEST_REDIS_URL, logger, durableMaxLen: 10, durableBacklog: 11 }),
      /durableBacklog must be an integer from 0 to durableMaxLen, got 11/,
    );
  });

  it('gives up on a Redis that never answers after connectTimeoutMs, hiding the password', async () => {
    const port = await freePort();
    await assert.rejects(
      createRedisBus({
        url: `redis://:secret@127.0.0.1:${port}`,
        logger: silentLogger(),
        connectTimeoutMs: 300,
      }),
      (err: Error) =>
        /^redis bus at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: redis bus not up within 300 ms: .*ECONNREFUSED/.test(
          err.message,
        ) && !err.message.includes('secret'),
    );
  });

  describe('through an outage', () => {
    let proxy: TcpProxy;
    before(async () => {
      proxy = await startProxyFor(TEST_REDIS_URL);
    });
    after(async () => {
      await proxy.close();
    });

    it('goes down, queues, comes back up resubscribed and delivers the queue in order', async () => {
      proxy.restore();
      const prefix = testRedisPrefix();
      const cutOff = await open(prefix, { url: viaProxy(TEST_REDIS_URL, proxy.port) });
      const direct = await open(prefix);
      const statuses: BusStatus[] = [];
      cutOff.onStatus((s) => statuses.push(s));
      try {
        const atDirect: string[] = [];
        const atCutOff: string[] = [];
        direct.subscribe('out', (m) => atDirect.push(m));
        cutOff.subscribe('back', (m) => atCutOff.push(m));
        await Promise.all([settle(direct), settle(cutOff)]);

        proxy.cut();
        await waitUntil(() => statuses.length === 1, 'the down status');
        assert.equal(statuses[0]?.state, 'down');
        assert.match(statuses[0]?.error ?? '', /\w/);
        // The status keeps the reason up to date while down: the other connection's error may have joined it.
        const now = cutOff.status();
        assert.equal(now.state, 'down');
        assert.ok((now.error ?? '').includes(statuses[0]?.error ?? '?'), now.error);

        const sent = Array.from({ length: 100 }, (_, i) => `queued ${i}`);
        for (const m of sent) cutOff.publish('out', m);
        assert.equal(cutOff.stats().queued, 100);
        assert.equal(cutOff.stats().dropped, 0);

        proxy.restore();
        await waitUntil(() => statuses.length === 2, 'the up status');
        assert.deepEqual(statuses[1], { state: 'up' });
        await waitUntil(() => atDirect.length === sent.length, 'the queued messages');
        assert.deepEqual(atDirect, sent);

        // "Up" means resubscribed: a message published now reaches the bus that was cut off.
        direct.publish('back', 'welcome back');
        await waitUntil(() => atCutOff.length === 1, 'delivery after the outage');
        assert.deepEqual(atCutOff, ['welcome back']);

        // Redis's answers come after the deliveries they acknowledge.
        await waitUntil(() => cutOff.stats().published >= sent.length, 'the acknowledgements');
        const stats = cutOff.stats();
        assert.equal(stats.queued, 0);
        assert.equal(stats.dropped, 0);
        assert.equal(stats.reconnects, 2);
        assert.deepEqual(stats.status, { state: 'up' });
      } finally {
        await Promise.all([cutOff.close(), direct.close()]);
      }
    });

    it('keeps at most maxQueued messages while down, dropping and counting the oldest', async () => {
      proxy.restore();
      const prefix = testRedisPrefix();
      const cutOff = await open(prefix, { url: viaProxy(TEST_REDIS_URL, proxy.port), maxQueued: 10 });
      const direct = await open(prefix);
      try {
        const atDirect: string[] = [];
        direct.subscribe('out', (m) => atDirect.push(m));
        await settle(direct);

        proxy.cut();
        await waitUntil(() => cutOff.status().state === 'down', 'the down status');
        for (let i = 0; i < 25; i++) cutOff.publish('out', `m${i}`);
        assert.equal(cutOff.stats().queued, 10);
        assert.equal(cutOff.stats().dropped, 15);

        proxy.restore();
        await waitUntil(() => atDirect.length === 10, 'the ten newest messages');
        assert.deepEqual(
          atDirect,
          Array.from({ length: 10 }, (_, i) => `m${i + 15}`),
        );
        assert.equal(cutOff.stats().queued, 0);
        assert.equal(cutOff.stats().dropped, 15);
      } finally {
        await Promise.all([cutOff.close(), direct.close()]);
      }
    });

    it('sends again what was unanswered when the connection broke, in order and with nothing lost', async () => {
      proxy.restore();
      const prefix = testRedisPrefix();
      const cutOff = await open(prefix, { url: viaProxy(TEST_REDIS_URL, proxy.port), maxQueued: 100_000 });
      const direct = await open(prefix);
      try {
        const atDirect: number[] = [];
        direct.subscribe('out', (m) => {
          // Break the connection as the first message arrives, while most are still on their way.
          if (atDirect.length === 0) proxy.cut();
          atDirect.push(Number(m));
        });
        await settle(direct);
        const total = 20_000;
        for (let i = 0; i < total; i++) cutOff.publish('out', String(i));
        await waitUntil(() => cutOff.status().state === 'down', 'the down status');
        proxy.restore();
        await waitUntil(() => atDirect.at(-1) === total - 1, 'the last message');
        // What arrived is 0..k, then (after the reconnect) j..total-1 with j <= k + 1: a resent stretch may
        // repeat messages Redis had carried, but none is missing and the order never goes back otherwise.
        const restart = atDirect.findIndex((m, i) => i > 0 && m !== (atDirect[i - 1] as number) + 1);
        const tail = restart === -1 ? [] : atDirect.slice(restart);
        const head = restart === -1 ? atDirect : atDirect.slice(0, restart);
        head.forEach((m, i) => assert.equal(m, i));
        if (tail.length > 0) {
          assert.ok(
            (tail[0] as number) <= head.length,
            `resent from ${tail[0]}, after ${head.length} arrived`,
          );
          tail.forEach((m, i) => assert.equal(m, (tail[0] as number) + i));
        }
        // The publisher's reconnect brought the messages; the subscriber connection may come back a little later.
        await waitUntil(() => cutOff.status().state === 'up', 'both connections back');
        assert.equal(cutOff.stats().reconnects, 2);
        assert.equal(cutOff.stats().dropped, 0);
      } finally {
        await Promise.all([cutOff.close(), direct.close()]);
      }
    });

    it('replays the alerts published while a subscriber was cut off, in order and once each', async () => {
      proxy.restore();
      const prefix = testRedisPrefix();
      const gatewaySide = await open(prefix, { url: viaProxy(TEST_REDIS_URL, proxy.port) });
      const ingestSide = await open(prefix);
      const statuses: BusStatus[] = [];
      gatewaySide.onStatus((s) => statuses.push(s));
      try {
        const got: Alert[] = [];
        gatewaySide.subscribe(ALERT_CHANNEL, (m) => got.push(decodeAlert(m)));
        await settle(gatewaySide);
        const raise = (kind: Alert['kind'], n: number): Alert => {
          const alert = newAlert({ severity: 'info', kind, message: `alert ${n}` });
          publishAlert(ingestSide, alert);
          return alert;
        };
        const before = [raise('source_recovered', 0), raise('source_recovered', 1)];
        await waitUntil(() => got.length === 2, 'the alerts before the cut');

        proxy.cut();
        await waitUntil(() => statuses.length === 1, 'the down status');
        const missed = [raise('redis_down', 2), raise('ingest_active', 3), raise('failover', 4)];
        proxy.restore();
        await waitUntil(() => statuses.length === 2, 'the up status');
        // "Up" comes after the catch-up: the missed alerts are there already.
        assert.deepEqual(
          got.map((a) => a.id),
          [...before, ...missed].map((a) => a.id),
        );
        assert.equal(gatewaySide.stats().replayed, 3);
        const after = raise('source_recovered', 5);
        await waitUntil(() => got.length === 6, 'a live alert after the outage');
        assert.deepEqual(
          got.map((a) => a.id),
          [...before, ...missed, after].map((a) => a.id),
        );
      } finally {
        await Promise.all([gatewaySide.close(), ingestSide.close()]);
        await raw.del(`${prefix}${ALERT_CHANNEL}:log`);
      }
    });

    it('misses and repeats nothing of a durable channel published through the cut and the catch-up', async () => {
      proxy.restore();
      const prefix = testRedisPrefix();
      // A cap above all the test can publish: on a slow machine the cut may last thousands of messages.
      const options = { durableChannels: ['steady'], durableMaxLen: 1_000_000 };
      const cutOff = await open(prefix, { ...options, url: viaProxy(TEST_REDIS_URL, proxy.port) });
      const publisher = await open(prefix, options);
      try {
        const got: number[] = [];
        cutOff.subscribe('steady', (m) => got.push(Number(m)));
        await settle(cutOff);
        let sent = 0;
        let publishing = true;
        const pump = (async () => {
          while (publishing) {
            publisher.publish('steady', String(sent++));
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        await waitUntil(() => got.length >= 50, 'messages before the cut');
        proxy.cut();
        await waitUntil(() => cutOff.status().state === 'down', 'the down status');
        const atCut = sent;
        await waitUntil(() => sent >= atCut + 200, 'messages published during the cut');
        proxy.restore();
        await waitUntil(() => cutOff.status().state === 'up', 'the up status');
        const atUp = sent;
        await waitUntil(() => sent >= atUp + 200, 'messages published after the catch-up');
        publishing = false;
        await pump;
        await waitUntil(() => got.at(-1) === sent - 1, 'the last message');
        assert.deepEqual(
          got,
          Array.from({ length: sent }, (_, i) => i),
        );
        assert.ok(cutOff.stats().replayed >= 1);
      } finally {
        await Promise.all([cutOff.close(), publisher.close()]);
        await raw.del(`${prefix}steady:log`);
      }
    });

    it('closes without hanging while Redis is unreachable, dropping what was queued', async () => {
      proxy.restore();
      const bus = await open(testRedisPrefix(), { url: viaProxy(TEST_REDIS_URL, proxy.port) });
      const statuses: BusStatus[] = [];
      proxy.cut();
      await waitUntil(() => bus.status().state === 'down', 'the down status');
      bus.onStatus((s) => statuses.push(s));
      bus.publish('out', 'never sent');
      await bus.close();
      proxy.restore();
      assert.equal(bus.stats().dropped, 1);
      assert.equal(bus.stats().queued, 0);
      assert.deepEqual(bus.status(), { state: 'down', error: 'closed' });
      assert.deepEqual(statuses, []);
    });
  });
});
