import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator.ts';
import { getJson, waitUntil } from '../test-kit.ts';
import { ManualClock } from '../../util/clock.ts';
import type { BinanceSimDepth, BinanceSimDepthUpdate, BinanceSimRestTicker } from './wire.ts';

/** Keeps every text frame as received (raw), so malformed frames can be inspected too. */
class RawClient {
  readonly socket: WebSocket;
  readonly texts: string[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (data) => this.texts.push(String(data)));
    this.socket.on('ping', () => this.pings++);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  /**
   * Resolves on the pong of a fresh ping. `ws` answers pings itself, even on a paused or stalled venue, and the
   * socket is ordered: every frame the venue sent before it read the ping has arrived by then.
   */
  roundTrip(): Promise<void> {
    const pong = new Promise<void>((resolve) => this.socket.once('pong', () => resolve()));
    this.socket.ping();
    return pong;
  }

  /** Frames that parse as JSON, wrapped or not. */
  json(): unknown[] {
    const out: unknown[] = [];
    for (const t of this.texts) {
      try {
        out.push(JSON.parse(t) as unknown);
      } catch {
        // malformed on purpose in some tests
      }
    }
    return out;
  }

  data<T>(stream: string): T[] {
    return this.json()
      .filter((f): f is { stream: string; data: T } => (f as { stream?: string }).stream === stream)
      .map((f) => f.data);
  }

  async close(): Promise<void> {
    if (this.socket.readyState === this.socket.CLOSED) return;
    this.socket.close();
    await this.closed;
  }
}

const sims: Simulator[] = [];
const clients: RawClient[] = [];

async function sim(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const s = await startSimulator({
    symbols: ['BTC/USDT', 'ETH/USDT'],
    historyDays: 0,
    tradesPerSecond: 20,
    seed: 11,
    ...options,
  });
  sims.push(s);
  return s;
}

async function connect(s: Simulator, streams: string[]): Promise<RawClient> {
  const c = new RawClient(`${s.urls.binance.wsUrl}/stream?streams=${streams.join('/')}`);
  clients.push(c);
  await c.opened;
  return c;
}

/** Resolves once the venue has made more than five BTC trades past `afterId` (REST serves them during a stall). */
async function tradesMadeAfter(s: Simulator, afterId: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { body } = await getJson(`${s.urls.binance.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&limit=1`);
    if (((body as { a: number }[])[0]?.a ?? 0) > afterId + 5) return;
    if (Date.now() > deadline) throw new Error(`no five trades past ${afterId} within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Book = Map<string, string>;

function apply(book: Book, levels: readonly [string, string][]): void {
  for (const [price, qty] of levels) {
    if (Number(qty) === 0) book.delete(price);
    else book.set(price, qty);
  }
}

function top(book: Book, n: number, descending: boolean): [string, string][] {
  return [...book.entries()]
    .sort((a, b) => (Number(a[0]) - Number(b[0])) * (descending ? -1 : 1))
    .slice(0, n);
}

describe('Binance sim book diffs and faults', () => {
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(sims.map((s) => s.close()));
  });

  it('serves @depth@100ms diffs that take a REST snapshot to the current REST book under the U/u rules', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 11, 9, 41, 10));
    const s = await sim({ now: clock.now });
    const rest = `${s.urls.binance.restUrl}/api/v3/depth?symbol=BTCUSDT`;
    const c = await connect(s, ['btcusdt@depth@100ms']);
    // The snapshot is taken after the diffs started (step 1 of Binance's procedure) and is deeper than a diff.
    clock.advance(3000);
    s.advance();
    const snapshot = (await getJson(`${rest}&limit=1000`)).body as BinanceSimDepth;
    const bids: Book = new Map(snapshot.bids);
    const asks: Book = new Map(snapshot.asks);
    let bookId = snapshot.lastUpdateId;
    let applied = 0;
    let consumed = 0;
    for (let step = 0; step < 6; step++) {
      clock.advance(1500 + step * 700);
      s.advance();
      const restNow = (await getJson(`${rest}&limit=50`)).body as BinanceSimDepth;
      await waitUntil(() =>
        c.data<BinanceSimDepthUpdate>('btcusdt@depth@100ms').some((d) => d.u === restNow.lastUpdateId),
      );
      const diffs = c.data<BinanceSimDepthUpdate>('btcusdt@depth@100ms');
      for (; consumed < diffs.length; consumed++) {
        const d = diffs[consumed] as BinanceSimDepthUpdate;
        if (d.u <= bookId) continue;
        assert.ok(
          d.U <= bookId + 1 && bookId + 1 <= d.u,
          `diff ${d.U}..${d.u} does not continue book ${bookId}`,
        );
        apply(bids, d.b);
        apply(asks, d.a);
        bookId = d.u;
        applied++;
      }
      assert.equal(bookId, restNow.lastUpdateId);
      assert.deepEqual(top(bids, 50, true), restNow.bids);
      assert.deepEqual(top(asks, 50, false), restNow.asks);
    }
    assert.ok(applied >= 6, `${applied} diffs applied`);
  });

  it('skips one update id on demand, so a client sees U > previous u + 1', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 11, 10, 0, 0));
    const s = await sim({ now: clock.now });
    const c = await connect(s, ['ethusdt@depth@100ms']);
    const diffs = (): BinanceSimDepthUpdate[] => c.data<BinanceSimDepthUpdate>('ethusdt@depth@100ms');
    clock.advance(2000);
    s.advance();
    await waitUntil(() => diffs().length === 1);
    s.faults.skipBookSeq('binance', 'ETH/USDT');
    clock.advance(2000);
    s.advance();
    await waitUntil(() => diffs().length === 2);
    clock.advance(2000);
    s.advance();
    await waitUntil(() => diffs().length === 3);
    const [a, b, d] = diffs() as [BinanceSimDepthUpdate, BinanceSimDepthUpdate, BinanceSimDepthUpdate];
    assert.equal(b.U, a.u + 2, 'one id skipped');
    assert.equal(d.U, b.u + 1, 'then continuous again');
  });

  it('stalls: no data, no pings and no replies while the socket stays open', async () => {
    const s = await sim({ tradesPerSecond: 50 });
    const c = await connect(s, ['btcusdt@aggTrade']);
    await waitUntil(() => c.texts.length > 0);
    s.faults.stall('binance');
    await c.roundTrip();
    const during = c.texts.length;
    const lastStreamed = c.data<{ a: number }>('btcusdt@aggTrade').at(-1)?.a ?? 0;
    c.socket.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 7 }));
    // The request was read before this ping, so its reply would be here by now.
    await c.roundTrip();
    // Trades keep being made (REST shows them) and none of them is streamed.
    await tradesMadeAfter(s, lastStreamed);
    assert.equal(c.texts.length, during, 'nothing at all while stalled');
    assert.equal(c.socket.readyState, WebSocket.OPEN);
    s.faults.resumeStream('binance');
    await waitUntil(() => c.texts.length > during);
  });

  it('freezes one symbol while the others keep flowing', async () => {
    const s = await sim({ tradesPerSecond: 50 });
    const c = await connect(s, ['btcusdt@aggTrade', 'ethusdt@aggTrade']);
    s.faults.freezeSymbol('binance', 'BTC/USDT');
    const start = c.texts.length;
    await c.roundTrip();
    const btcBefore = c.data('btcusdt@aggTrade').length;
    const ethBefore = c.data('ethusdt@aggTrade').length;
    await waitUntil(() => c.data('ethusdt@aggTrade').length >= ethBefore + 10);
    assert.ok(c.texts.length > start);
    assert.equal(c.data('btcusdt@aggTrade').length, btcBefore, 'no BTC trade while frozen');
    s.faults.unfreezeSymbol('binance', 'BTC/USDT');
    await waitUntil(() => c.data('btcusdt@aggTrade').length > btcBefore);
  });

  it('sends malformed frames to every open socket', async () => {
    const s = await sim({ tradesPerSecond: 0 });
    const c = await connect(s, ['btcusdt@aggTrade']);
    s.faults.malformedFrames('binance', 4);
    await waitUntil(() => c.texts.length === 4);
    const unreadable = c.texts.filter((t) => {
      try {
        const v = JSON.parse(t) as { stream?: unknown; e?: unknown; result?: unknown };
        return (
          typeof v !== 'object' ||
          v === null ||
          (v.stream === undefined && v.e === undefined && v.result === undefined)
        );
      } catch {
        return true;
      }
    });
    assert.equal(unreadable.length, 4);
  });

  it("refuses the next subscriptions with Binance's error reply, then accepts again", async () => {
    const s = await sim({ tradesPerSecond: 50 });
    const c = await connect(s, []);
    s.faults.rejectSubscriptions('binance', 1);
    c.socket.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 1 }));
    await waitUntil(() => c.texts.length === 1);
    assert.deepEqual(JSON.parse(c.texts[0] as string), {
      error: { code: 2, msg: 'Invalid request: invalid stream' },
      id: 1,
    });
    c.socket.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 2 }));
    await waitUntil(() => c.data('btcusdt@aggTrade').length > 0);
    assert.deepEqual(JSON.parse(c.texts[1] as string), { result: null, id: 2 });
  });

  it('recycles like Binance: serverShutdown, then a close for a client that stays', async () => {
    const s = await sim({ tradesPerSecond: 0 });
    const c = await connect(s, ['btcusdt@aggTrade']);
    const raw = new RawClient(`${s.urls.binance.wsUrl}/ws/btcusdt@aggTrade`);
    clients.push(raw);
    await raw.opened;
    s.faults.forceRecycle('binance');
    await waitUntil(() => c.texts.length === 1 && raw.texts.length === 1);
    const combined = JSON.parse(c.texts[0] as string) as { stream: string; data: { e: string; E: number } };
    assert.equal(combined.stream, '!serverShutdown');
    assert.equal(combined.data.e, 'serverShutdown');
    assert.equal((JSON.parse(raw.texts[0] as string) as { e: string }).e, 'serverShutdown');
    const closed = await c.closed;
    assert.equal(closed.code, 1001);
  });

  it('serves /api/v3/ticker/24hr and ticker/bookTicker consistent with the depth top', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 11, 12, 0, 0));
    const s = await sim({ now: clock.now });
    clock.advance(5000);
    s.advance();
    const base = `${s.urls.binance.restUrl}/api/v3`;
    const ticker = (await getJson(`${base}/ticker/24hr?symbol=BTCUSDT`)).body as BinanceSimRestTicker;
    const depth = (await getJson(`${base}/depth?symbol=BTCUSDT&limit=5`)).body as BinanceSimDepth;
    const bookTicker = (await getJson(`${base}/ticker/bookTicker?symbol=BTCUSDT`)).body as Record<
      string,
      string
    >;
    assert.equal(ticker.symbol, 'BTCUSDT');
    assert.deepEqual([ticker.bidPrice, ticker.bidQty], depth.bids[0]);
    assert.deepEqual([ticker.askPrice, ticker.askQty], depth.asks[0]);
    assert.deepEqual(bookTicker, {
      symbol: 'BTCUSDT',
      bidPrice: depth.bids[0]?.[0],
      bidQty: depth.bids[0]?.[1],
      askPrice: depth.asks[0]?.[0],
      askQty: depth.asks[0]?.[1],
    });
    assert.equal(ticker.closeTime, clock.time);
    assert.ok(Number(ticker.lastPrice) > 0 && Number(ticker.highPrice) >= Number(ticker.lowPrice));
    const trades = (await getJson(`${base}/aggTrades?symbol=BTCUSDT&limit=1`)).body as {
      p: string;
      a: number;
    }[];
    assert.equal(ticker.lastPrice, trades[0]?.p);
    const missing = await getJson(`${base}/ticker/24hr?symbol=NOPE`);
    assert.equal(missing.status, 400);
  });
});
