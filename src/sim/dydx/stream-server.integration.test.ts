import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator.ts';
import { getJson, RecordingClient, waitUntil } from '../test-kit.ts';
import { ManualClock } from '../../util/clock.ts';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';

const FIXTURES = `${FIXTURES_DIR}dydx/indexer_ws_captures_2024/`;

interface Msg {
  type: string;
  message_id: number;
  connection_id: string;
  channel?: string;
  id?: string;
  version?: string;
  message?: string;
  contents?: unknown;
}

const isMsg =
  (type: string, channel?: string) =>
  (f: unknown): f is Msg =>
    typeof f === 'object' &&
    f !== null &&
    (f as Msg).type === type &&
    (channel === undefined || (f as Msg).channel === channel);

function captured(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(FIXTURES + name, 'utf8')) as Record<string, unknown>;
}

const keys = (o: object): string[] => Object.keys(o).sort();

const sims: Simulator[] = [];
async function sim(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const s = await startSimulator({
    symbols: ['BTC/USD', 'ETH/USD'],
    historyDays: 1,
    // The streams need only recent trades: the default two-hour window of individual trades at 40 a second,
    // made at start by every venue and symbol, would cost each test seconds of CPU.
    tradeWindowMs: 60_000,
    tradesPerSecond: 40,
    tickMs: 20,
    seed: 5,
    ...options,
  });
  sims.push(s);
  return s;
}

/** message_ids of every message received, in order. */
function ids(client: RecordingClient): number[] {
  return client.frames.map((f) => (f as Msg).message_id);
}

describe('dYdX sim socket', () => {
  after(async () => {
    await Promise.all(sims.map((s) => s.close()));
  });

  it('sends connected, then subscribed and channel_data shaped like the captures, with a gap-free message_id', async () => {
    const s = await sim();
    const c = new RecordingClient(s.urls.dydx.wsUrl);
    await c.opened;
    const connected = await c.waitFor(isMsg('connected'));
    assert.deepEqual(keys(connected), keys(captured('connected.json')));
    assert.equal(connected.message_id, 0);
    c.send({ type: 'subscribe', channel: 'v4_trades', id: 'BTC-USD' });
    c.send({ type: 'subscribe', channel: 'v4_orderbook', id: 'BTC-USD' });
    c.send({ type: 'subscribe', channel: 'v4_candles', id: 'BTC-USD/1MIN' });
    c.send({ type: 'subscribe', channel: 'v4_markets' });
    const trades = await c.waitFor(isMsg('channel_data', 'v4_trades'));
    const book = await c.waitFor(isMsg('channel_data', 'v4_orderbook'));
    const candle = await c.waitFor(isMsg('channel_data', 'v4_candles'));
    assert.deepEqual(keys(trades), keys(captured('v4_trades.json')));
    assert.equal(trades.version, '2.1.0');
    const trade = (trades.contents as { trades: Record<string, unknown>[] }).trades[0];
    assert.ok(trade);
    assert.deepEqual(keys(trade), ['createdAt', 'id', 'price', 'side', 'size', 'type']);
    assert.match(String(trade['id']), /^[0-9a-f]{24}$/);
    assert.deepEqual(keys(book), keys(captured('v4_orderbook.json')));
    const capturedCandle = captured('v4_candles_channel_data.json');
    assert.deepEqual(keys(candle), keys(capturedCandle));
    assert.deepEqual(keys(candle.contents as object), keys(capturedCandle['contents'] as object));
    const snapshot = await c.waitFor(isMsg('subscribed', 'v4_orderbook'));
    assert.deepEqual(keys(snapshot), keys(captured('v4_orderbook_snapshot.json')));
    const markets = await c.waitFor(isMsg('subscribed', 'v4_markets'));
    const btc = (markets.contents as { markets: Record<string, Record<string, unknown>> }).markets['BTC-USD'];
    assert.ok(btc);
    assert.equal(btc['atomicResolution'], -10);
    assert.equal(btc['tickSize'], '0.01');
    assert.equal(btc['stepSize'], '0.00001');
    assert.deepEqual(
      ids(c),
      Array.from({ length: c.frames.length }, (_, i) => i),
    );
    await c.close();
  });

  it('keeps a client book equal to the REST book: snapshot plus updates', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
    const s = await sim({ now: clock.now });
    const c = new RecordingClient(s.urls.dydx.wsUrl);
    await c.opened;
    c.send({ type: 'subscribe', channel: 'v4_orderbook', id: 'ETH-USD' });
    await c.waitFor(isMsg('subscribed', 'v4_orderbook'));
    for (let i = 0; i < 20; i++) {
      clock.advance(500);
      s.advance();
    }
    const updates = c.frames.length;
    await waitUntil(() => c.frames.filter(isMsg('channel_data', 'v4_orderbook')).length >= 20);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(c.frames.length >= updates);
    const bids = new Map<string, string>();
    const asks = new Map<string, string>();
    type Levels = { bids: { price: string; size: string }[]; asks: { price: string; size: string }[] };
    const snap = await c.waitFor(isMsg('subscribed', 'v4_orderbook'));
    const levels = snap.contents as Levels;
    for (const l of levels.bids) bids.set(l.price, l.size);
    for (const l of levels.asks) asks.set(l.price, l.size);
    const apply = (side: Map<string, string>, tuples: [string, string][] | undefined): void => {
      for (const [p, sz] of tuples ?? []) {
        if (sz === '0') side.delete(p);
        else side.set(p, sz);
      }
    };
    for (const f of c.frames) {
      if (!isMsg('channel_data', 'v4_orderbook')(f)) continue;
      const u = f.contents as { bids?: [string, string][]; asks?: [string, string][] };
      apply(bids, u.bids);
      apply(asks, u.asks);
    }
    const rest = (await getJson(`${s.urls.dydx.restUrl}/v4/orderbooks/perpetualMarket/ETH-USD`))
      .body as Levels;
    assert.equal(rest.bids.length, 25);
    assert.deepEqual(new Map(rest.bids.map((l) => [l.price, l.size])), bids);
    assert.deepEqual(new Map(rest.asks.map((l) => [l.price, l.size])), asks);
    const bestBid = Math.max(...[...bids.keys()].map(Number));
    const bestAsk = Math.min(...[...asks.keys()].map(Number));
    assert.ok(bestBid < bestAsk);
    await c.close();
  });

  it('batches updates into channel_batch_data with one message_id per batch', async () => {
    const s = await sim({ dydx: { batchFlushMs: 100 } });
    const c = new RecordingClient(s.urls.dydx.wsUrl);
    await c.opened;
    c.send({ type: 'subscribe', channel: 'v4_trades', id: 'BTC-USD', batched: true });
    const batch = await c.waitFor(isMsg('channel_batch_data', 'v4_trades'));
    assert.ok(Array.isArray(batch.contents));
    assert.ok((batch.contents as unknown[]).length >= 1);
    assert.deepEqual(keys(batch), keys(captured('v4_orderbook_batched_data.json')));
    assert.equal(c.frames.filter(isMsg('channel_data')).length, 0);
    assert.deepEqual(
      ids(c),
      Array.from({ length: c.frames.length }, (_, i) => i),
    );
    await c.close();
  });

  it('answers bad requests with the indexer error message and keeps counting', async () => {
    const s = await sim({ dydx: { invalidMessagesPerSecond: 10 } });
    const c = new RecordingClient(s.urls.dydx.wsUrl);
    await c.opened;
    c.send({ type: 'subscribe', channel: 'v4_trades', id: 'NOPE-USD' });
    c.send({ type: 'subscribe', channel: 'v4_orders', id: 'BTC-USD' });
    c.send({ type: 'subscribe', channel: 'v4_candles', id: 'BTC-USD/1WEEK' });
    c.send('{"type":');
    c.send({ type: 'unsubscribe', channel: 'v4_trades', id: 'BTC-USD' });
    c.send({ type: 'ping', id: 9 });
    await waitUntil(() => c.frames.length >= 7);
    const errors = c.frames.filter(isMsg('error'));
    assert.equal(errors.length, 5);
    assert.deepEqual(keys(errors[0] as Msg), keys(captured('error.json')));
    assert.match((errors[0] as Msg).message ?? '', /Invalid subscription id .*NOPE-USD/);
    assert.match((errors[1] as Msg).message ?? '', /Invalid channel: v4_orders/);
    const pong = await c.waitFor(isMsg('pong'));
    assert.equal((pong as unknown as { id: number }).id, 9);
    assert.deepEqual(
      ids(c),
      Array.from({ length: c.frames.length }, (_, i) => i),
    );
    await c.close();
  });

  it('closes a connection that sends too many invalid messages', async () => {
    const s = await sim();
    const c = new RecordingClient(s.urls.dydx.wsUrl);
    await c.opened;
    for (let i = 0; i < 4; i++) c.send('nonsense');
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
  });

  it('limits subscribe rate per channel and id, and subscriptions per channel', async () => {
    const s = await sim({
      symbols: ['BTC/USD', 'ETH/USD', 'SOL/USD'],
      dydx: { maxSubscriptionsPerChannel: 1 },
    });
    const c = new RecordingClient(s.urls.dydx.wsUrl);
    await c.opened;
    for (let i = 0; i < 2; i++) {
      c.send({ type: 'subscribe', channel: 'v4_trades', id: 'BTC-USD' });
      c.send({ type: 'unsubscribe', channel: 'v4_trades', id: 'BTC-USD' });
    }
    c.send({ type: 'subscribe', channel: 'v4_trades', id: 'BTC-USD' });
    c.send({ type: 'subscribe', channel: 'v4_trades', id: 'ETH-USD' });
    c.send({ type: 'subscribe', channel: 'v4_trades', id: 'SOL-USD' });
    await waitUntil(() => c.frames.filter(isMsg('error')).length >= 2);
    const messages = c.frames.filter(isMsg('error')).map((e) => e.message ?? '');
    assert.match(messages[0] ?? '', /Too many subscribe messages/);
    assert.match(messages[1] ?? '', /too many subscriptions for channel v4_trades/);
    await c.close();
  });

  it('skipBookSeq skips one message_id on the book; rejectSubscriptions answers the indexer error', async () => {
    const s = await sim();
    const c = new RecordingClient(s.urls.dydx.wsUrl);
    await c.opened;
    s.faults.rejectSubscriptions('dydx', 1);
    c.send({ type: 'subscribe', channel: 'v4_orderbook', id: 'BTC-USD' });
    const rejected = await c.waitFor(isMsg('error'));
    assert.equal(rejected.message, 'Internal error, could not fetch data for subscription: v4_orderbook.');
    await new Promise((r) => setTimeout(r, 600));
    c.send({ type: 'subscribe', channel: 'v4_orderbook', id: 'BTC-USD' });
    await c.waitFor(isMsg('channel_data', 'v4_orderbook'));
    s.faults.skipBookSeq('dydx', 'BTC/USD');
    const before = c.frames.length;
    await waitUntil(() => c.frames.slice(before).filter(isMsg('channel_data', 'v4_orderbook')).length >= 2);
    const seen = ids(c);
    const jumps = seen.slice(1).filter((id, i) => id !== (seen[i] as number) + 1);
    assert.equal(jumps.length, 1);
    await c.close();
  });

  it('skipBookSeq also leaves a message_id out on a batched book subscription', async () => {
    const s = await sim({ dydx: { batchFlushMs: 50 } });
    const c = new RecordingClient(s.urls.dydx.wsUrl);
    await c.opened;
    c.send({ type: 'subscribe', channel: 'v4_orderbook', id: 'ETH-USD', batched: true });
    await c.waitFor(isMsg('channel_batch_data', 'v4_orderbook'));
    s.faults.skipBookSeq('dydx', 'ETH/USD');
    const before = c.frames.length;
    await waitUntil(
      () => c.frames.slice(before).filter(isMsg('channel_batch_data', 'v4_orderbook')).length >= 2,
    );
    const seen = ids(c);
    const jumps = seen.slice(1).filter((id, i) => id !== (seen[i] as number) + 1);
    assert.equal(jumps.length, 1);
    await c.close();
  });

  it('pings and terminates a client that does not answer within the pong timeout', async () => {
    const s = await sim({ dydx: { pingIntervalMs: 100, pongTimeoutMs: 150 } });
    const silent = new RecordingClient(s.urls.dydx.wsUrl, { autoPong: false });
    const live = new RecordingClient(s.urls.dydx.wsUrl);
    await Promise.all([silent.opened, live.opened]);
    let pings = 0;
    live.socket.on('ping', () => pings++);
    const closed = await silent.closed;
    assert.equal(closed.code, 1006);
    // The client that answers is pinged again, which the server does only once a pong came in time, and stays
    // open. (Waited for, not counted at the moment the silent one closes: on a busy machine the live client may
    // have connected after the ping that ended the silent one.)
    await waitUntil(() => pings >= 2);
    assert.equal(live.socket.readyState, live.socket.OPEN);
    await live.close();
  });

  it('recycle closes plainly; stall sends nothing; malformed frames arrive as sent', async () => {
    const s = await sim();
    const c = new RecordingClient(s.urls.dydx.wsUrl);
    await c.opened;
    c.send({ type: 'subscribe', channel: 'v4_trades', id: 'BTC-USD' });
    await c.waitFor(isMsg('channel_data', 'v4_trades'));
    s.faults.stall('dydx');
    await new Promise((r) => setTimeout(r, 50));
    const count = c.frames.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(c.frames.length, count);
    s.faults.resumeStream('dydx');
    await waitUntil(() => c.frames.length > count);
    s.faults.forceRecycle('dydx');
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
  });
});
