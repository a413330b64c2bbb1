/**
 * The behaviour every Bus implementation owes its users, as one node:test suite that each implementation's test
 * file runs (`runBusContract('RedisBus', open)`).
 *
 * A bus that crosses processes delivers asynchronously and its subscriptions take effect some time after
 * `subscribe` returns. The suite therefore waits for deliveries with deadlines, and proves that a message did NOT
 * arrive with a later marker message that did: a bus keeps publish order, so the marker arriving means the earlier
 * message would have too. It relies on one more property, which both implementations have: subscriptions take
 * effect in the order they are made (see `settle`).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Bus } from './bus.ts';

/** How long a delivery may take before a contract test fails: generous, for a loaded machine. */
const DEADLINE_MS = 15_000;

/** Polls `done` until it holds; fails after DEADLINE_MS naming `what`. */
export async function waitUntil(done: () => boolean, what: string): Promise<void> {
  const until = Date.now() + DEADLINE_MS;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Resolves once every subscription made on `bus` so far is in effect: it subscribes a fresh probe channel and
 * publishes on it until a probe comes back, which (subscriptions taking effect in order) means the earlier ones
 * are in effect too.
 */
export async function settle(bus: Bus): Promise<void> {
  const channel = `bus-contract:settle:${randomUUID()}`;
  let back = false;
  const stop = bus.subscribe(channel, () => {
    back = true;
  });
  try {
    const until = Date.now() + DEADLINE_MS;
    while (!back) {
      if (Date.now() > until) throw new Error('timed out waiting for subscriptions to take effect');
      bus.publish(channel, 'probe');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    stop();
  }
}

/** Records what one subscriber received. */
class Inbox {
  readonly messages: string[] = [];
  readonly handler = (message: string): void => {
    this.messages.push(message);
  };

  has(count: number): () => boolean {
    return () => this.messages.length >= count;
  }
}

/** A channel name of its own for one test, so that tests sharing a broker never see each other. */
function channel(name: string): string {
  return `bus-contract:${name}:${randomUUID()}`;
}

/**
 * Registers the Bus contract suite. `open(count)` returns `count` buses, up and ready, that share one broker and
 * one namespace, as processes of one deployment would (an in-process bus returns itself `count` times). Each test
 * opens its own and closes them.
 */
export function runBusContract(name: string, open: (count: number) => Promise<readonly Bus[]>): void {
  describe(`${name} meets the Bus contract`, () => {
    async function withBuses(count: number, body: (buses: readonly Bus[]) => Promise<void>): Promise<void> {
      const buses = await open(count);
      assert.equal(buses.length, count);
      try {
        await body(buses);
      } finally {
        await Promise.all([...new Set(buses)].map((b) => b.close()));
      }
    }

    it('is up once open', async () => {
      await withBuses(1, async ([bus]) => {
        assert.deepEqual(bus?.status(), { state: 'up' });
      });
    });

    it('delivers a message to every subscriber of its channel and to no other', async () => {
      await withBuses(2, async ([publisher, subscriber]) => {
        const [p, s] = [publisher as Bus, subscriber as Bus];
        const news = channel('news');
        const other = channel('other');
        const a = new Inbox();
        const b = new Inbox();
        const twice = new Inbox();
        const elsewhere = new Inbox();
        s.subscribe(news, a.handler);
        s.subscribe(news, b.handler);
        // The same function subscribed twice is two subscriptions.
        s.subscribe(news, twice.handler);
        s.subscribe(news, twice.handler);
        s.subscribe(other, elsewhere.handler);
        await settle(s);
        p.publish(news, 'hello');
        await waitUntil(() => a.has(1)() && b.has(1)() && twice.has(2)(), 'delivery to every subscriber');
        p.publish(other, 'marker');
        await waitUntil(elsewhere.has(1), 'the marker on the other channel');
        assert.deepEqual(a.messages, ['hello']);
        assert.deepEqual(b.messages, ['hello']);
        assert.deepEqual(twice.messages, ['hello', 'hello']);
        assert.deepEqual(elsewhere.messages, ['marker']);
      });
    });

    it('keeps publish order over 1,000 messages', async () => {
      await withBuses(2, async ([publisher, subscriber]) => {
        const ch = channel('order');
        const inbox = new Inbox();
        (subscriber as Bus).subscribe(ch, inbox.handler);
        await settle(subscriber as Bus);
        const sent = Array.from({ length: 1000 }, (_, i) => `m${i}`);
        for (const m of sent) (publisher as Bus).publish(ch, m);
        await waitUntil(inbox.has(sent.length), '1,000 messages');
        assert.deepEqual(inbox.messages, sent);
      });
    });

    it('delivers exactly the strings published: empty, unicode, control characters, 64 KiB', async () => {
      await withBuses(2, async ([publisher, subscriber]) => {
        const ch = channel('exact');
        const inbox = new Inbox();
        (subscriber as Bus).subscribe(ch, inbox.handler);
        await settle(subscriber as Bus);
        const glyphs = ['€', 'a', 'b', '🚀'];
        const big = Array.from({ length: 65_536 }, (_, i) => glyphs[i % glyphs.length]).join('');
        const sent = [
          '',
          '{"s":"BTC/USDT","b":[1,"30000.10"]}',
          'ünïcødé 价格 ₿ 🚀👩‍💻',
          'line\r\nbreak\ttab\u0000nul',
          ' spaced ',
          big,
        ];
        for (const m of sent) (publisher as Bus).publish(ch, m);
        await waitUntil(inbox.has(sent.length), 'every payload');
        assert.equal(inbox.messages.length, sent.length);
        for (let i = 0; i < sent.length; i++)
          assert.ok(inbox.messages[i] === sent[i], `payload ${i} changed`);
      });
    });

    it('stops delivering once unsubscribed; unsubscribing again is harmless', async () => {
      await withBuses(2, async ([publisher, subscriber]) => {
        const [p, s] = [publisher as Bus, subscriber as Bus];
        const ch = channel('unsub');
        const marker = channel('unsub-marker');
        const inbox = new Inbox();
        const witness = new Inbox();
        const stop = s.subscribe(ch, inbox.handler);
        s.subscribe(marker, witness.handler);
        await settle(s);
        p.publish(ch, 'before');
        await waitUntil(inbox.has(1), 'the message before unsubscribing');
        stop();
        stop();
        p.publish(ch, 'after');
        p.publish(marker, 'marker');
        await waitUntil(witness.has(1), 'the marker');
        assert.deepEqual(inbox.messages, ['before']);
      });
    });

    it('keeps delivering to the other subscriber of a channel when one unsubscribes', async () => {
      await withBuses(2, async ([publisher, subscriber]) => {
        const [p, s] = [publisher as Bus, subscriber as Bus];
        const ch = channel('two');
        const leaving = new Inbox();
        const staying = new Inbox();
        const stop = s.subscribe(ch, leaving.handler);
        s.subscribe(ch, staying.handler);
        await settle(s);
        p.publish(ch, 'one');
        await waitUntil(() => leaving.has(1)() && staying.has(1)(), 'the first message to both');
        stop();
        p.publish(ch, 'two');
        await waitUntil(staying.has(2), 'the second message to the one staying');
        assert.deepEqual(leaving.messages, ['one']);
        assert.deepEqual(staying.messages, ['one', 'two']);
      });
    });

    it('delivers to every other subscriber when one throws, and the publisher never sees the error', async () => {
      await withBuses(2, async ([publisher, subscriber]) => {
        const [p, s] = [publisher as Bus, subscriber as Bus];
        const ch = channel('throws');
        let thrown = 0;
        const inbox = new Inbox();
        s.subscribe(ch, () => {
          thrown++;
          throw new Error('subscriber bug');
        });
        s.subscribe(ch, inbox.handler);
        await settle(s);
        assert.doesNotThrow(() => {
          p.publish(ch, 'a');
          p.publish(ch, 'b');
        });
        await waitUntil(inbox.has(2), 'both messages past the throwing subscriber');
        assert.deepEqual(inbox.messages, ['a', 'b']);
        assert.equal(thrown, 2);
      });
    });
  });
}
