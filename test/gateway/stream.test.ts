import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Candle } from '../../src/domain/candle.ts';
import { toPlainString } from '../../src/domain/decimal.ts';
import { ManualClock } from '../../src/util/clock.ts';
import {
  makeBar,
  makeUpdate,
  sleep,
  startTestGateway,
  TestClient,
  waitFor,
  type JsonMessage,
  type TestGateway,
} from './helpers.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 9, 24, 10, 0);

interface WireBar {
  time: string;
  close: number;
  trades: number;
  closed: boolean;
}

/** The React hook of the API document, as a reducer: `initial` replaces, `update` replaces the last bar or appends. */
function seedHookCandles(messages: readonly JsonMessage[]): WireBar[] {
  let candles: WireBar[] = [];
  for (const m of messages) {
    if (m.type === 'initial') candles = [...(m.bars as WireBar[])];
    else if (m.type === 'update') {
      const bar = m.bar as WireBar;
      const last = candles[candles.length - 1];
      if (last && new Date(last.time).getTime() === new Date(bar.time).getTime())
        candles = [...candles.slice(0, -1), bar];
      else candles = [...candles, bar];
    } else if (m.type === 'revision') {
      const bar = m.bar as WireBar;
      candles = candles.map((c) => (c.time === bar.time ? bar : c));
    }
  }
  return candles;
}

function updates(c: TestClient): WireBar[] {
  return c.messages.filter((m) => m.type === 'update').map((m) => m.bar as WireBar);
}

function label(bar: Candle | WireBar): string {
  const time = typeof bar.time === 'number' ? new Date(bar.time).toISOString() : bar.time;
  const close = typeof bar.close === 'number' ? String(bar.close) : toPlainString(bar.close);
  return `${time} ${close} ${bar.trades}`;
}

async function withGateway(
  limits: Parameters<typeof startTestGateway>[0],
  run: (t: TestGateway) => Promise<void>,
  clock?: ManualClock,
) {
  const t = await startTestGateway(limits, clock ? { clock } : {});
  try {
    await run(t);
  } finally {
    await t.close();
  }
}

describe('gateway: room stream', () => {
  it('sends at most one update per throttle window and always the final state', async () => {
    // The gateway's clock moves by hand, one millisecond at a time; each update is stamped with the clock time
    // in which the gateway sent it.
    const clock = new ManualClock(T0);
    await withGateway(
      { throttleMs: 50, maxMessagesPerSecond: 10_000 },
      async (t) => {
        const c = await TestClient.connect(t.gateway.url);
        const arrivals: number[] = [];
        let seen = 0;
        const step = async (ms: number): Promise<void> => {
          clock.advance(ms);
          await c.roundTrip();
          for (; seen < updates(c).length; seen++) arrivals.push(clock.now());
        };
        c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 0 });
        await c.nextOfType('initial');
        const started = clock.now();
        for (let i = 1; i <= 300; i++) {
          t.publish(makeUpdate(makeBar(T0, `100.${i}`, i)));
          if (i % 2 === 0) await step(1);
        }
        const elapsed = clock.now() - started;
        await step(50);
        await waitFor(() => updates(c).at(-1)?.trades === 300, 2000, 'the final state');
        await step(120);
        const got = updates(c);
        assert.equal(got.at(-1)?.close, 100.3);
        // At most n + 2 ticks in n periods (the catch-up account), over the elapsed time and the final step.
        assert.ok(
          got.length <= Math.ceil(elapsed / 50) + 3,
          `${got.length} updates in ${elapsed.toFixed(0)} ms`,
        );
        for (let k = 1; k < arrivals.length; k++) {
          // Server spacing is at least half the 50 ms period (the throttle's tolerance); arrivals are seen at
          // the test's 1 ms steps, and the first one a step after it left.
          assert.ok(
            (arrivals[k] as number) - (arrivals[k - 1] as number) >= 24,
            `spacing ${arrivals.join(', ')}`,
          );
        }
      },
      clock,
    );
  });

  it("delivers a closed bar's final state before the next bar's first update", async () => {
    await withGateway({ throttleMs: 30 }, async (t) => {
      const c = await TestClient.connect(t.gateway.url);
      c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 0 });
      await c.nextOfType('initial');
      t.publish(makeUpdate(makeBar(T0, '1', 1)));
      t.publish(makeUpdate(makeBar(T0, '2', 2), 'closed'));
      t.publish(makeUpdate(makeBar(T0 + M, '3', 1)));
      t.publish(makeUpdate(makeBar(T0 + M, '4', 2)));
      t.publish(makeUpdate(makeBar(T0 + M, '5', 3), 'closed'));
      t.publish(makeUpdate(makeBar(T0 + 2 * M, '6', 1)));
      await waitFor(() => updates(c).length === 4);
      assert.deepEqual(
        updates(c).map((b) => [b.time.slice(11, 16), b.close, b.closed]),
        [
          // The idle room was due to send the first state at once: later states of the turn do not replace it.
          ['10:00', 1, false],
          ['10:00', 2, true],
          ['10:01', 5, true],
          ['10:02', 6, false],
        ],
      );
    });
  });

  it('sends a correction of a past bar as a revision, never as an update', async () => {
    const clock = new ManualClock(T0 + 2 * M);
    await withGateway(
      { throttleMs: 30 },
      async (t) => {
        const c = await TestClient.connect(t.gateway.url);
        t.publish(makeUpdate(makeBar(T0, '1', 1), 'closed'));
        t.publish(makeUpdate(makeBar(T0 + M, '2', 1)));
        c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 10 });
        await c.nextOfType('initial');
        t.publish(makeUpdate(makeBar(T0, '1.5', 2), 'revised'));
        const next = c.nextOfType('revision');
        clock.advance(30);
        const revision = await next;
        assert.deepEqual(revision.bar, {
          time: '2024-10-24T10:00:00.000Z',
          open: 1.5,
          high: 1.5,
          low: 1.5,
          close: 1.5,
          volume: 2,
          quoteVolume: 0,
          trades: 2,
          closed: true,
          sources: ['binance'],
          backfilled: false,
        });
        clock.advance(100);
        await c.roundTrip();
        assert.equal(updates(c).length, 0);
        assert.deepEqual(seedHookCandles(c.messages).map(label), [
          '2024-10-24T10:00:00.000Z 1.5 2',
          '2024-10-24T10:01:00.000Z 2 1',
        ]);
      },
      clock,
    );
  });

  it('a repeated subscribe gets a fresh initial and no doubled updates', async () => {
    const clock = new ManualClock(T0);
    await withGateway(
      { throttleMs: 20 },
      async (t) => {
        const c = await TestClient.connect(t.gateway.url);
        c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 5 });
        await c.nextOfType('initial');
        c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 5 });
        await c.nextOfType('initial');
        t.publish(makeUpdate(makeBar(T0, '7', 1)));
        const update = c.nextOfType('update');
        clock.advance(20);
        await update;
        clock.advance(80);
        await c.roundTrip();
        assert.deepEqual(
          c.messages.map((m) => m.type),
          ['initial', 'initial', 'update'],
        );
      },
      clock,
    );
  });

  it('an unsubscribed client gets nothing more; other members keep receiving', async () => {
    const clock = new ManualClock(T0);
    await withGateway(
      { throttleMs: 20 },
      async (t) => {
        const a = await TestClient.connect(t.gateway.url);
        const b = await TestClient.connect(t.gateway.url);
        for (const c of [a, b])
          c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 0 });
        await a.nextOfType('initial');
        await b.nextOfType('initial');
        a.send({ type: 'unsubscribe', symbol: 'BTC/USDT', interval: '1m' });
        a.send({ type: 'ping' });
        await a.nextOfType('pong');
        t.publish(makeUpdate(makeBar(T0, '7', 1)));
        const update = b.nextOfType('update');
        clock.advance(20);
        await update;
        clock.advance(60);
        await a.roundTrip();
        assert.deepEqual(
          a.messages.map((m) => m.type),
          ['initial', 'pong'],
        );
      },
      clock,
    );
  });
});

describe('gateway: initial and stream continuity', () => {
  it('no gap and no duplicate between initial and updates while bars are published concurrently', async () => {
    await withGateway({ throttleMs: 10, maxMessagesPerSecond: 1000 }, async (t) => {
      // 30 closed bars of history, then a publisher that updates the live bar every ~1 ms and closes it every 25.
      for (let i = 0; i < 30; i++)
        t.store.put('BTC/USDT', '1m', makeBar(T0 + i * M, `${1000 + i}`, 25), ['binance']);
      let barIndex = 30;
      let trades = 0;
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          trades++;
          const bar = makeBar(T0 + barIndex * M, `${1000 + barIndex}.${trades}`, trades);
          if (trades === 25) {
            t.publish(makeUpdate(bar, 'closed'));
            barIndex++;
            trades = 0;
          } else {
            t.publish(makeUpdate(bar, 'live'));
          }
          if (trades % 3 === 0) await sleep(1);
          else await new Promise((resolve) => setImmediate(resolve));
        }
      })();

      const clients: TestClient[] = [];
      for (let k = 0; k < 12; k++) {
        const c = await TestClient.connect(t.gateway.url);
        c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 20 + k });
        clients.push(c);
        await sleep(17);
      }
      await sleep(300);
      publishing = false;
      await publisher;
      const finalBars = t.store.recentSync('BTC/USDT', '1m', 100_000).map((s) => s.bar);
      const newest = finalBars[finalBars.length - 1] as Candle;
      for (const c of clients) {
        await waitFor(
          // Time and trade count: the count alone repeats every bar.
          () => {
            const last = seedHookCandles(c.messages).at(-1);
            return last?.trades === newest.trades && Date.parse(last.time) === newest.time;
          },
          3000,
          'the last state',
        );
      }

      for (const [k, c] of clients.entries()) {
        const initial = c.messages[0];
        assert.equal(initial?.type, 'initial');
        const initialBars = initial.bars as WireBar[];
        assert.equal(initialBars.length, 20 + k);
        let last = initialBars[initialBars.length - 1] as WireBar;
        for (const m of c.messages.slice(1)) {
          assert.equal(m.type, 'update', `client ${k}: unexpected ${m.type}`);
          const bar = m.bar as WireBar;
          const step = Date.parse(bar.time) - Date.parse(last.time);
          // Same bar (a newer state) or the very next bar: never older, never skipping a bar.
          assert.ok(step === 0 || step === M, `client ${k}: ${last.time} → ${bar.time}`);
          if (step === 0) {
            assert.ok(
              bar.trades > last.trades || (bar.closed && !last.closed),
              `client ${k}: duplicate ${bar.time}`,
            );
          } else {
            assert.equal(last.closed, true, `client ${k}: bar ${last.time} left before its final state`);
          }
          last = bar;
        }
        const candles = seedHookCandles(c.messages);
        const expected = finalBars.slice(finalBars.length - candles.length);
        assert.deepEqual(candles.map(label), expected.map(label), `client ${k}`);
      }
    });
  });
});
