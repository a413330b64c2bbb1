import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeBar, makeUpdate } from '../../test/gateway/helpers.ts';
import { CANDLE_CHANNEL } from '../bus/bus.ts';
import { encodeCandleUpdate } from '../bus/candle-message.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import type { CandleUpdate } from '../domain/candle.ts';
import type { Interval } from '../domain/interval.ts';
import type { SourcesView } from '../protocol/source-status.ts';
import { type CandleStore, type StoredCandle } from '../store/candle-store.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { TurnBudget } from '../util/turn-budget.ts';
import { checkPhasesDuring, SlicingTurns, unlimitedTurns } from '../util/turn-budget.test-support.ts';
import { BusIntake } from './bus-intake.ts';
import { CandleRooms } from './candle-rooms.ts';
import type { ClientSink } from './channel.ts';
import { ClientErrors } from './client-errors.ts';
import { encodeInitial } from '../protocol/server-messages.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 9, 24, 10, 0);
const SYMBOL = 'BTC/USDT';

interface Message {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** A client that records what it is sent, parsed, and how its writes were corked. */
class Client implements ClientSink {
  readonly got: Message[] = [];
  readonly raw: string[] = [];
  readonly payloads: (Buffer | string)[] = [];
  corks = 0;
  uncorks = 0;
  /** Called at each uncork (a socket write's cost, for a budget's clock). */
  onUncork: () => void = () => undefined;
  send(payload: Buffer | string): void {
    this.payloads.push(payload);
    this.raw.push(payload.toString());
    this.got.push(JSON.parse(payload.toString()) as Message);
  }
  cork(): boolean {
    this.corks++;
    return true;
  }
  uncork(): void {
    this.uncorks++;
    this.onUncork();
  }
  ofType(type: string): Message[] {
    return this.got.filter((m) => m.type === type);
  }
  /** The closes of the `update` messages, in order. */
  updates(): number[] {
    return this.ofType('update').map((m) => (m['bar'] as { close: number }).close);
  }
}

/** The memory store, with a switch that makes every read fail as a database that is down would. */
class FailingStore implements CandleStore {
  readonly memory = new MemoryCandleStore();
  down = false;
  reads = 0;
  write(updates: readonly CandleUpdate[]): Promise<void> {
    return this.memory.write(updates);
  }
  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    this.reads++;
    if (this.down) throw new Error('connect ECONNREFUSED');
    return this.memory.recent(symbol, interval, limit, end);
  }
  async flushed(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The memory store, whose reads take their bars at once and answer once `open()` is called. */
class GatedStore extends FailingStore {
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  override async recent(symbol: string, interval: Interval, limit: number): Promise<StoredCandle[]> {
    this.reads++;
    const bars = this.memory.recentSync(symbol, interval, limit);
    await this.gate;
    return bars;
  }
  open(): void {
    this.opened();
  }
}

/** The source status of SYMBOL on Binance alone, its start-up history loading or loaded. */
function binanceView(loadingHistory: boolean): SourcesView {
  return {
    instruments: [
      {
        symbol: SYMBOL,
        activeSource: 'binance',
        primary: 'binance',
        sources: [
          {
            exchange: 'binance',
            connected: true,
            latency: 1,
            lastUpdate: 0,
            messagesReceived: 1,
            errors: 0,
            healthy: true,
            ...(loadingHistory ? { loadingHistory: true } : {}),
          },
        ],
      },
    ],
  };
}

/** Lets the store's promises settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(
  o: {
    store?: CandleStore;
    sources?: () => SourcesView;
    throttleMs?: number;
    onCandle?: (update: CandleUpdate) => void;
    turns?: TurnBudget;
    writeTurns?: TurnBudget;
  } = {},
) {
  const clock = new ManualClock(T0 + 30 * M);
  const bus = new MemoryBus();
  const store = o.store ?? new MemoryCandleStore();
  const errors = new ClientErrors();
  const intake = new BusIntake(bus, silentLogger());
  const rooms = new CandleRooms({
    store,
    clock,
    logger: silentLogger(),
    errors,
    throttleMs: o.throttleMs ?? 1000,
    closeGraceMs: 5000,
    historyStatus: {
      view: o.sources ?? (() => ({ instruments: [] })),
      inStartup: () => false,
    },
    historyLoad: { pollMs: 100 },
    historyRetry: { minMs: 100, maxMs: 400 },
    ...(o.onCandle ? { onCandle: o.onCandle } : {}),
    turns: o.turns ?? unlimitedTurns(),
    writeTurns: o.writeTurns ?? unlimitedTurns(),
  });
  const stopListening = rooms.listen(intake);
  const publish = (update: CandleUpdate): void => bus.publish(CANDLE_CHANNEL, encodeCandleUpdate(update));
  return { clock, bus, store, errors, intake, rooms, stopListening, publish };
}

const subscribe = (initialBars: number, interval: Interval = '1m') =>
  ({ type: 'subscribe', symbol: SYMBOL, interval, initialBars }) as const;

describe('CandleRooms', () => {
  it("encodes a store read's bars a slice at a time under the turn budget, the loop's other work between", async () => {
    const store = new MemoryCandleStore(2000);
    for (let i = 0; i < 1000; i++)
      store.put(SYMBOL, '1m', makeBar(T0 + (i - 1000) * M, `${100 + (i % 50)}`), ['binance']);
    const turns = new SlicingTurns();
    const { rooms } = setup({ store, turns });
    const client = new Client();
    const { phases } = await checkPhasesDuring(async () => {
      rooms.subscribe(client, subscribe(1000));
      while (client.ofType('initial').length === 0) await settle();
    });
    const bars = client.ofType('initial')[0]?.['bars'] as { close: number; closed: boolean }[];
    assert.equal(bars.length, 1000);
    assert.deepEqual(
      bars.slice(0, 3).map((b) => b.close),
      [100, 101, 102],
    );
    assert.ok(bars.every((b) => b.closed));
    // 999 bars before the newest, 100 a slice: ten slices, each waiting for a turn of its own.
    assert.equal(turns.turns, 10);
    assert.ok(phases >= 9, `the loop ran ${phases} check phases while the bars were encoded`);
  });

  it('answers repeated subscribes to a short series from memory, kept current by the stream', async () => {
    const store = new FailingStore();
    const W = 7 * 24 * 60 * M;
    const W0 = Date.UTC(2024, 8, 30);
    for (let i = 0; i < 5; i++)
      store.memory.put(SYMBOL, '1W', makeBar(W0 + i * W, `${100 + i}`, 10), ['binance']);
    const { rooms, clock, publish } = setup({ store });
    const closes = (c: Client, n: number): number[] =>
      (c.ofType('initial')[n]?.['bars'] as { close: number }[]).map((b) => b.close);
    const first = new Client();
    rooms.subscribe(first, subscribe(100, '1W'));
    await settle();
    assert.equal(store.reads, 1);
    const burst = Array.from({ length: 20 }, () => new Client());
    for (const c of burst) rooms.subscribe(c, subscribe(100, '1W'));
    await settle();
    assert.equal(store.reads, 1, 'the burst needed no store read');
    for (const c of burst) assert.deepEqual(closes(c, 0), [100, 101, 102, 103, 104]);
    // The stream moves the newest bar on, revises an older one, and an older state arriving late is ignored.
    const update = (time: number, close: string, trades: number, state: 'live' | 'revised' = 'live') => {
      const u = makeUpdate(makeBar(time, close, trades), state, SYMBOL, '1W');
      store.memory.put(SYMBOL, '1W', u.bar, u.sources);
      publish(u);
    };
    update(W0 + 4 * W, '110', 11);
    update(W0 + 2 * W, '120', 12, 'revised');
    publish(makeUpdate(makeBar(W0 + 4 * W, '105', 9), 'live', SYMBOL, '1W'));
    update(W0 + 5 * W, '130', 1);
    clock.advance(2000);
    const late = new Client();
    rooms.subscribe(late, subscribe(3, '1W'));
    await settle();
    assert.equal(store.reads, 1);
    assert.deepEqual(closes(late, 0), [120, 103, 110, 130].slice(1));
    assert.equal(rooms.counters.initialsFromMemory, 21);
    // A bus outage may have lost messages: the store answers again.
    await rooms.resync();
    rooms.subscribe(late, subscribe(100, '1W'));
    await settle();
    assert.equal(store.reads, 3, 'resync read once, the subscribe once');
    assert.deepEqual(closes(late, 1), [100, 101, 120, 103, 110, 130]);
  });

  it('does not keep a short read in memory when the stream moved during it', async () => {
    const store = new FailingStore();
    for (let i = 0; i < 3; i++)
      store.memory.put(SYMBOL, '1D', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    const { rooms, publish } = setup({ store });
    const a = new Client();
    rooms.subscribe(a, subscribe(50, '1D'));
    publish(makeUpdate(makeBar(T0 + 3 * M, '103'), 'live', SYMBOL, '1D'));
    await settle();
    rooms.subscribe(new Client(), subscribe(50, '1D'));
    await settle();
    assert.equal(store.reads, 2, 'the first read raced the stream, so the second subscribe read again');
    rooms.subscribe(new Client(), subscribe(50, '1D'));
    await settle();
    assert.equal(store.reads, 2);
  });

  it('sends the same bytes as encoding every bar anew, through a subscribe burst, a close by the clock and a replaced bar', async () => {
    const store = new MemoryCandleStore();
    for (let i = 0; i < 30; i++) store.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}.5`), ['binance']);
    const { rooms, clock } = setup({ store });
    const expected = (count: number): string => {
      const stored = store.recentSync(SYMBOL, '1m', count);
      const views = stored.map((b, i) => ({
        bar: b.bar,
        closed: i < stored.length - 1 || clock.now() >= b.bar.time + M + 5000,
        sources: b.sources,
        backfilled: b.backfilled === true,
      }));
      return encodeInitial(SYMBOL, '1m', views);
    };
    const clients = Array.from({ length: 5 }, () => new Client());
    for (const c of clients) rooms.subscribe(c, subscribe(10));
    await settle();
    for (const c of clients) assert.equal(c.raw[0], expected(10));
    // The newest bar closes by the clock: its cached open text must not be reused.
    clock.advance(5000);
    rooms.subscribe(clients[0] as Client, subscribe(10));
    const closedByClock = expected(10);
    await settle();
    // The store replaces a bar (a revision): its new state is sent, not the cached one.
    store.put(SYMBOL, '1m', makeBar(T0 + 25 * M, '999.25'), ['okx']);
    rooms.subscribe(clients[1] as Client, subscribe(10));
    await settle();
    assert.equal(clients[0]?.raw[1], closedByClock);
    assert.notEqual(closedByClock, clients[0]?.raw[0]);
    assert.equal(clients[1]?.raw[1], expected(10));
    assert.match(clients[1]?.raw[1] ?? '', /"close":999\.25,.*"sources":\["okx"\]/);
  });

  it('shares one initial payload per room and bar count through a burst of different counts', async () => {
    const store = new MemoryCandleStore();
    for (let i = 0; i < 30; i++) store.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    const { rooms } = setup({ store });
    const counts = [10, 3, 10, 3, 10, 0, 3, 0];
    const clients = counts.map(() => new Client());
    for (const [i, c] of clients.entries()) {
      rooms.subscribe(c, subscribe(counts[i] as number));
      await settle();
    }
    const first = new Map<number, Buffer | string>();
    for (const [i, c] of clients.entries()) {
      const count = counts[i] as number;
      const payload = c.payloads[0] as Buffer | string;
      assert.equal((JSON.parse(payload.toString()) as { bars: unknown[] }).bars.length, count);
      const shared = first.get(count) ?? payload;
      first.set(count, shared);
      assert.equal(payload, shared, `the same payload object for every initial of ${count} bars`);
    }
    assert.equal(first.size, 3);
  });

  it('answers a subscribe with initial history from the store, the newest bar closed by the clock', async () => {
    const store = new MemoryCandleStore();
    for (let i = 0; i < 30; i++) store.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    const { rooms, clock } = setup({ store });
    const client = new Client();
    rooms.subscribe(client, subscribe(3));
    await settle();
    const initial = client.ofType('initial')[0];
    const bars = initial?.['bars'] as { close: number; closed: boolean }[];
    assert.deepEqual(
      bars.map((b) => [b.close, b.closed]),
      [
        [127, true],
        [128, true],
        // Minute 29 ended at T0 + 30 min, the clock's time; the close grace of 5 s has not passed yet.
        [129, false],
      ],
    );
    clock.advance(5000);
    rooms.subscribe(client, subscribe(1));
    await settle();
    const again = client.ofType('initial')[1]?.['bars'] as { closed: boolean }[];
    assert.equal(again[0]?.closed, true, 'past the grace, the newest bar is final');
    assert.equal(rooms.counters.initialsSent, 2);
  });

  it('shares one store read among the subscribes of a burst while the stream brings nothing, not after it moved', async () => {
    const store = new GatedStore();
    for (let i = 0; i < 30; i++)
      store.memory.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    const { rooms, publish, clock } = setup({ store });
    const burst = Array.from({ length: 5 }, () => new Client());
    for (const c of burst) rooms.subscribe(c, subscribe(20));
    assert.equal(store.reads, 1, 'one read for the burst');
    // The stream moves on: a subscribe now reads again, as the first read may miss what the room sends meanwhile.
    const update = makeUpdate(makeBar(T0 + 29 * M, '200'), 'live', SYMBOL, '1m');
    store.memory.put(SYMBOL, '1m', update.bar, update.sources);
    publish(update);
    const late = new Client();
    rooms.subscribe(late, subscribe(20));
    assert.equal(store.reads, 2);
    store.open();
    await settle();
    clock.advance(1000);
    await settle();
    const closes = (c: Client): number[] =>
      (c.ofType('initial')[0]?.['bars'] as { close: number }[]).map((b) => b.close);
    for (const c of burst) {
      assert.deepEqual(closes(c), [...Array.from({ length: 19 }, (_, i) => 110 + i), 129]);
      assert.deepEqual(c.updates(), [200], 'the stream after the read');
    }
    assert.equal(burst[0]?.payloads[0], burst[4]?.payloads[0], 'one payload for the burst');
    assert.deepEqual(closes(late).slice(-1), [200]);
    assert.equal(rooms.counters.storeReadsShared, 4);
    // Once the reads are done, a subscribe reads again.
    rooms.subscribe(new Client(), subscribe(20));
    assert.equal(store.reads, 3);
  });

  it('does not share a read begun while the start-up history was loading with a subscribe after it loaded', async () => {
    const store = new GatedStore();
    for (let i = 0; i < 10; i++)
      store.memory.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    let loading = true;
    const view = (): SourcesView => binanceView(loading);
    const { rooms, clock } = setup({ store, sources: view });
    const early = new Client();
    rooms.subscribe(early, subscribe(30));
    for (let i = 10; i < 20; i++)
      store.memory.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    loading = false;
    // The status is read again once its last reading is a poll period old (100 ms here).
    clock.advance(100);
    const late = new Client();
    rooms.subscribe(late, subscribe(30));
    assert.equal(store.reads, 2, 'the first read may hold only part of the history');
    store.open();
    await settle();
    assert.equal(early.ofType('initial')[0]?.['reason'], 'HISTORY_LOADING');
    const whole = late.ofType('initial')[0];
    assert.equal(whole?.['partial'], undefined);
    assert.equal((whole?.['bars'] as unknown[]).length, 20);
  });

  it("sends an idle room's update at once, then at most one per throttle period, never dropping a final state", async () => {
    const { rooms, clock, publish } = setup();
    const client = new Client();
    rooms.subscribe(client, subscribe(0));
    await settle();
    publish(makeUpdate(makeBar(T0 + 30 * M, '1', 1)));
    // The room is idle: the first update leaves in the batch of this turn.
    clock.advance(0);
    assert.deepEqual(client.updates(), [1]);
    clock.advance(1);
    for (let i = 2; i <= 50; i++) publish(makeUpdate(makeBar(T0 + 30 * M, String(i), i)));
    publish(makeUpdate(makeBar(T0 + 30 * M, '51', 51), 'closed'));
    publish(makeUpdate(makeBar(T0 + 31 * M, '52', 1)));
    clock.advance(498);
    assert.deepEqual(client.updates(), [1], 'not twice within half a period');
    clock.advance(1);
    assert.deepEqual(client.updates(), [1, 51], "the bar's final state, conflated");
    clock.advance(499);
    assert.deepEqual(client.updates(), [1, 51], 'not twice within half a period');
    clock.advance(1);
    assert.deepEqual(client.updates(), [1, 51, 52], 'then the next bar, one period after the first');
    clock.advance(5000);
    assert.equal(client.updates().length, 3, 'nothing more to send');
    assert.equal(rooms.counters.updatesBroadcast, 3);
  });

  it('after a stall that bunched two updates into one turn, sends both and is on time again (catch-up)', async () => {
    const { rooms, clock, publish } = setup();
    const client = new Client();
    rooms.subscribe(client, subscribe(0));
    await settle();
    const start = clock.now();
    const at: number[] = [];
    const send = (n: number): void => publish(makeUpdate(makeBar(T0 + 30 * M, String(n), n)));
    const record = (): void => {
      while (at.length < client.updates().length) at.push(clock.now() - start);
    };
    for (let n = 1; n <= 3; n++) {
      clock.advanceTo(start + 1000 * (n - 1));
      send(n);
      clock.advance(0);
      record();
    }
    // The updates of 3000 and 4000 reach the gateway in one turn at 4100 (its event loop was blocked).
    clock.advanceTo(start + 4100);
    send(4);
    send(5);
    for (let t = 4100; t <= 9000; t += 50) {
      clock.advanceTo(start + t);
      if (t === 5000 || t === 6000 || t === 7000 || t === 8000) send(t / 1000 + 1);
      clock.advance(0);
      record();
    }
    assert.deepEqual(client.updates(), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'every update, none merged');
    // 5 half a period after 4; 6 waits for it; then on time.
    assert.deepEqual(at, [0, 1000, 2000, 4100, 4600, 5100, 6000, 7000, 8000]);
  });

  it('after a blocked loop, sends a held update and each state of the backlog on its own (once a period)', async () => {
    const { rooms, clock, publish } = setup();
    const client = new Client();
    rooms.subscribe(client, subscribe(0));
    await settle();
    const start = clock.now();
    const send = (n: number): void => publish(makeUpdate(makeBar(T0 + 30 * M, String(n), n)));
    // One update a second: 2 arrives 200 ms late, 3 400 ms early, so 3 is held until 1700.
    clock.advanceTo(start);
    send(1);
    clock.advanceTo(start + 1200);
    send(2);
    clock.advanceTo(start + 1600);
    send(3);
    clock.advance(0);
    assert.deepEqual(client.updates(), [1, 2]);
    // The loop is blocked from 1650 to 4150: 4 and 5 are read before the timer of 3, overdue since 1700, fires.
    clock.advanceTo(start + 1650);
    clock.block(2500, () => {
      send(4);
      send(5);
    });
    const at: number[] = [];
    for (let t = 4150; t <= 9500; t += 50) {
      clock.advanceTo(start + t);
      if (t % 1000 === 0 && t >= 5000 && t <= 9000) send(t / 1000 + 1);
      clock.advance(0);
      while (at.length < client.updates().length - 2) at.push(t);
    }
    assert.deepEqual(client.updates(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every update, none merged');
    // 3, 4 and 5 half a period apart; 6, arriving on time while 5 waits, queues behind it. The throttle's account
    // paid for the catch-up: while the data keeps changing once a period, each update leaves 150 ms late.
    assert.deepEqual(at, [4150, 4650, 5150, 5650, 6150, 7150, 8150, 9150]);
    assert.equal(rooms.counters.updatesMerged, 0);
  });

  it('after a blocked loop, still conflates a backlog of data changing faster than the period', async () => {
    const { rooms, clock, publish } = setup();
    const client = new Client();
    rooms.subscribe(client, subscribe(0));
    await settle();
    const send = (n: number): void => publish(makeUpdate(makeBar(T0 + 30 * M, String(n), n)));
    send(1);
    clock.advance(0);
    // 20 changes within a 1.7 s block: the throttle owes one tick for the period passed, so two states leave.
    clock.block(1700, () => {
      for (let n = 2; n <= 21; n++) send(n);
    });
    clock.advance(5000);
    assert.deepEqual(client.updates(), [1, 2, 21]);
    assert.equal(rooms.counters.updatesMerged, 18, 'unsent states replaced by newer ones');
  });

  it('delivers each of updates about a period apart at once, none merged; two within one are conflated', async () => {
    const { rooms, clock, publish } = setup();
    const client = new Client();
    rooms.subscribe(client, subscribe(0));
    await settle();
    const start = clock.now();
    // One update a second, each up to 200 ms early or late (a busy bus or event loop).
    const jitter = [0, 200, -200, 150, -100, 200, 0, -200];
    const received: number[] = [];
    jitter.forEach((j, n) => {
      clock.advanceTo(start + 1000 * n + j);
      publish(makeUpdate(makeBar(T0 + 30 * M, String(n + 1), n + 1)));
      clock.advance(0);
      received.push(client.updates().length);
    });
    assert.deepEqual(client.updates(), [1, 2, 3, 4, 5, 6, 7, 8], 'every update, none merged');
    assert.deepEqual(received, [1, 2, 3, 4, 5, 6, 7, 8], 'each in the turn it arrived');
    // Two within 300 ms: the second waits for the throttle and leaves as the newest state of both.
    clock.advance(1000);
    publish(makeUpdate(makeBar(T0 + 30 * M, '9', 9)));
    clock.advance(300);
    publish(makeUpdate(makeBar(T0 + 30 * M, '10', 10)));
    publish(makeUpdate(makeBar(T0 + 30 * M, '11', 11)));
    clock.advance(0);
    assert.deepEqual(client.updates().slice(8), [9]);
    clock.advance(1000);
    assert.deepEqual(client.updates().slice(8), [9, 11]);
  });

  it('serializes once per room and corks each client once per tick', async () => {
    const { rooms, clock, publish } = setup({ throttleMs: 100 });
    const a = new Client();
    const b = new Client();
    rooms.subscribe(a, subscribe(0));
    rooms.subscribe(b, subscribe(0));
    rooms.subscribe(a, subscribe(0, '5m'));
    await settle();
    assert.equal(rooms.roomCount, 2);
    publish(makeUpdate(makeBar(T0 + 30 * M, '7', 1)));
    publish(makeUpdate(makeBar(T0 + 30 * M, '8', 1), 'live', SYMBOL, '5m'));
    clock.advance(100);
    assert.deepEqual(a.updates(), [7, 8]);
    assert.deepEqual(b.updates(), [7]);
    assert.equal(rooms.counters.updatesBroadcast, 2, 'once per room, whatever the member count');
  });

  it("releases a tick's clients under the write budget: each once, the later ones in later turns", async () => {
    // Each client's write takes 1 ms of the budget's time; the budget is 10 ms a turn.
    const time = { now: 0 };
    const writeTurns = new TurnBudget({ budgetMs: 10, now: () => time.now });
    const { rooms, clock, publish } = setup({ throttleMs: 100, writeTurns });
    const clients = Array.from({ length: 100 }, () => new Client());
    for (const c of clients) {
      c.onUncork = () => {
        time.now += 1;
      };
      rooms.subscribe(c, subscribe(0));
    }
    await settle();
    const before = clients.map((c) => c.uncorks);
    const { phases } = await checkPhasesDuring(async () => {
      publish(makeUpdate(makeBar(T0 + 30 * M, '7', 1)));
      clock.advance(100);
      const released = clients.filter((c, i) => c.uncorks > (before[i] as number)).length;
      assert.ok(
        released > 0 && released < 100,
        `some released at once, the rest later (${released} at once)`,
      );
      while (clients.some((c, i) => c.uncorks === before[i])) await settle();
    });
    assert.ok(phases >= 2, `the rest in later turns (${phases} check phases)`);
    for (const [i, c] of clients.entries()) {
      assert.equal(c.uncorks, (before[i] as number) + 1, 'each client released once for the tick');
      assert.deepEqual(c.updates(), [7]);
    }
  });

  it('gives every decoded update to onCandle first; an undecodable one is counted and skipped', async () => {
    const seen: number[] = [];
    const { rooms, clock, publish, bus, intake } = setup({
      onCandle: (u) => seen.push(u.bar.time),
      throttleMs: 10,
    });
    const client = new Client();
    rooms.subscribe(client, subscribe(0));
    await settle();
    bus.publish(CANDLE_CHANNEL, 'not json');
    publish(makeUpdate(makeBar(T0 + 30 * M, '3', 1), 'live', 'ETH/USDT'));
    publish(makeUpdate(makeBar(T0 + 30 * M, '4', 1)));
    clock.advance(10);
    assert.deepEqual(seen, [T0 + 30 * M, T0 + 30 * M], 'every series, subscribed or not');
    assert.equal(intake.skipped, 1);
    assert.deepEqual(client.updates(), [4]);
  });

  it('marks initial partial while start-up history loads, and refills it once the status says loaded', async () => {
    const store = new MemoryCandleStore();
    for (let i = 0; i < 10; i++) store.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    let loading = true;
    const view = (): SourcesView => binanceView(loading);
    const { rooms, clock } = setup({ store, sources: view });
    const client = new Client();
    rooms.subscribe(client, subscribe(30));
    await settle();
    assert.equal(rooms.isHistoryLoading(SYMBOL), true);
    const partial = client.ofType('initial')[0];
    assert.equal(partial?.['reason'], 'HISTORY_LOADING');
    clock.advance(1000);
    await settle();
    assert.equal(client.ofType('initial').length, 1, 'no refill while loading');

    for (let i = 10; i < 20; i++) store.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    loading = false;
    clock.advance(100);
    await settle();
    const whole = client.ofType('initial')[1];
    assert.equal(whole?.['partial'], undefined);
    assert.equal((whole?.['bars'] as unknown[]).length, 20);
    assert.equal(rooms.counters.partialInitialsSent, 1);
    assert.equal(rooms.counters.initialsRefilled, 1);
    assert.equal(clock.pending, 0, 'no poll once nobody waits');
  });

  it('answers HISTORY_UNAVAILABLE when the store fails and refills once a retry finds it back', async () => {
    const store = new FailingStore();
    for (let i = 0; i < 5; i++)
      store.memory.put(SYMBOL, '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
    store.down = true;
    const { rooms, clock, errors } = setup({ store });
    const client = new Client();
    rooms.subscribe(client, subscribe(5));
    await settle();
    assert.deepEqual(
      client.got.map((m) => [m.type, m['code'] ?? m['reason']]),
      [
        ['error', 'HISTORY_UNAVAILABLE'],
        ['initial', 'HISTORY_UNAVAILABLE'],
      ],
    );
    assert.equal(errors.byCode.HISTORY_UNAVAILABLE, 1);
    const reads = store.reads;
    for (let i = 0; i < 20; i++) {
      clock.advance(100);
      await settle();
    }
    assert.ok(store.reads > reads, 'the store is probed again');
    assert.equal(client.ofType('initial').length, 1, 'no refill while it is down');

    store.down = false;
    for (let i = 0; i < 5 && client.ofType('initial').length < 2; i++) {
      clock.advance(400);
      await settle();
      await settle();
    }
    const whole = client.ofType('initial')[1];
    assert.equal(whole?.['partial'], undefined);
    assert.equal((whole?.['bars'] as unknown[]).length, 5);
    assert.equal(clock.pending, 0, 'no probe once nobody waits');
  });

  it('resync re-sends the newest two bars of every open room from the store', async () => {
    const store = new MemoryCandleStore();
    const { rooms, clock } = setup({ store, throttleMs: 10 });
    const client = new Client();
    rooms.subscribe(client, subscribe(0));
    await settle();
    store.put(SYMBOL, '1m', makeBar(T0 + 28 * M, '28', 5), ['binance']);
    store.put(SYMBOL, '1m', makeBar(T0 + 29 * M, '29', 5), ['binance']);
    await rooms.resync();
    clock.advance(10);
    clock.advance(10);
    assert.deepEqual(
      client
        .ofType('update')
        .map((m) => [
          (m['bar'] as { close: number }).close,
          m['bar'] && (m['bar'] as { closed: boolean }).closed,
        ]),
      [
        [28, true],
        [29, false],
      ],
    );
  });

  it('counts subscriptions per client, closes a room with its last member and stops its timers', async () => {
    const { rooms, clock, publish } = setup();
    const a = new Client();
    const b = new Client();
    rooms.subscribe(a, subscribe(0));
    rooms.subscribe(a, subscribe(0, '5m'));
    rooms.subscribe(b, subscribe(0));
    await settle();
    assert.equal(rooms.subscriptionCount(a), 2);
    assert.equal(rooms.holds(a, subscribe(10)), true);
    assert.equal(rooms.holds(b, subscribe(10, '5m')), false);
    assert.deepEqual(
      [...rooms.roomStats()].map((r) => [r.key, r.clientCount, r.hasCandle]),
      [
        ['BTC/USDT:1m', 2, false],
        ['BTC/USDT:5m', 1, false],
      ],
    );
    publish(makeUpdate(makeBar(T0 + 30 * M, '1', 1)));
    assert.equal(clock.pending, 1);
    rooms.unsubscribe(a, { type: 'unsubscribe', symbol: SYMBOL, interval: '5m' });
    rooms.leaveAll(b);
    assert.equal(rooms.subscriptionCount(a), 1);
    assert.equal(rooms.subscriptionCount(b), 0);
    assert.equal(rooms.roomCount, 1);
    rooms.leaveAll(a);
    assert.equal(rooms.roomCount, 0);
    assert.equal(clock.pending, 0, 'the room’s tick is cancelled with it');
    clock.advance(5000);
    assert.equal(a.ofType('update').length + b.ofType('update').length, 0);
  });

  it('stops its timers and the bus subscription', async () => {
    const { rooms, clock, publish, stopListening, bus } = setup();
    const client = new Client();
    rooms.subscribe(client, subscribe(0));
    await settle();
    publish(makeUpdate(makeBar(T0 + 30 * M, '1', 1)));
    stopListening();
    rooms.stop();
    assert.equal(clock.pending, 0);
    bus.publish(CANDLE_CHANNEL, encodeCandleUpdate(makeUpdate(makeBar(T0 + 30 * M, '2', 2))));
    clock.advance(5000);
    assert.deepEqual(client.updates(), []);
  });
});
