import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { WebSocket } from 'ws';
import { startSimulator, type Simulator } from '../simulator.ts';
import { waitUntil } from '../test-kit.ts';

/** A client that keeps every text frame: `pong` as text, everything else parsed. */
class TextClient {
  readonly socket: WebSocket;
  readonly frames: unknown[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (data) => {
      const text = String(data);
      let value: unknown = text;
      try {
        value = JSON.parse(text);
      } catch {
        // kept as text: `pong` and malformed frames
      }
      this.frames.push(value);
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.socket.once('close', (code) => resolve(code)));
    this.socket.once('close', () => clearInterval(this.pinger));
  }

  private pinger: NodeJS.Timeout | undefined;

  /** Pings as a real client does, so that a slow machine never meets the test's short idle timeout. */
  keepAlive(everyMs = 150): void {
    this.pinger = setInterval(() => this.send('ping'), everyMs);
  }

  send(value: unknown): void {
    this.socket.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  of(match: (f: Record<string, unknown>) => boolean): Record<string, unknown>[] {
    return this.frames.filter(
      (f): f is Record<string, unknown> =>
        typeof f === 'object' && f !== null && match(f as Record<string, unknown>),
    );
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.terminate();
    await this.closed;
  }
}

type Level = [string, string, string, string];
interface BookData {
  asks: Level[];
  bids: Level[];
  checksum: number;
  seqId: number;
  prevSeqId: number;
}

const channel = (f: Record<string, unknown>): string | undefined =>
  (f['arg'] as { channel?: string } | undefined)?.channel;
const isPush = (name: string) => (f: Record<string, unknown>) => channel(f) === name && 'data' in f;

function apply(side: Map<string, string>, px: string, sz: string): void {
  if (sz === '0') side.delete(px);
  else side.set(px, sz);
}

/** Maintains a book from the pushes and returns, per push, whether its checksum and chain held. */
function replayBook(pushes: readonly Record<string, unknown>[]): { checksumOk: boolean; chainOk: boolean }[] {
  const bids = new Map<string, string>();
  const asks = new Map<string, string>();
  let seq = -1;
  const out: { checksumOk: boolean; chainOk: boolean }[] = [];
  for (const p of pushes) {
    const data = (p['data'] as BookData[])[0] as BookData;
    const chainOk = p['action'] === 'snapshot' ? data.prevSeqId === -1 : data.prevSeqId === seq;
    if (p['action'] === 'snapshot') {
      bids.clear();
      asks.clear();
    }
    for (const [px, sz] of data.bids) apply(bids, px, sz);
    for (const [px, sz] of data.asks) apply(asks, px, sz);
    seq = data.seqId;
    const b = [...bids].sort((x, y) => Number(y[0]) - Number(x[0]));
    const a = [...asks].sort((x, y) => Number(x[0]) - Number(y[0]));
    const parts: string[] = [];
    for (let i = 0; i < 25; i++) {
      if (b[i]) parts.push(...(b[i] as [string, string]));
      if (a[i]) parts.push(...(a[i] as [string, string]));
    }
    out.push({ checksumOk: (crc32(parts.join(':')) | 0) === data.checksum, chainOk });
  }
  return out;
}

describe('OKX simulator WebSocket', () => {
  let sim: Simulator;
  let ws: string;
  const clients: TextClient[] = [];
  const open = async (path: string): Promise<TextClient> => {
    const c = new TextClient(`${ws}${path}`);
    clients.push(c);
    await c.opened;
    return c;
  };

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      seed: 3,
      historyDays: 1,
      tradesPerSecond: 40,
      // The tests read recent trades only: half an hour of individual trades instead of the default two hours,
      // which cost CPU at start.
      tradeWindowMs: 30 * 60_000,
      tickMs: 20,
      okx: {
        idleTimeoutMs: 600,
        tickerPushMs: 50,
        candlePushMs: 50,
        bookPushMs: 20,
        recycleCloseMs: 200,
        maxConnectionsPerSecond: 100,
      },
    });
    ws = sim.urls.okx.wsUrl;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sim.close();
  });

  it('acks each arg, pushes trades, tickers and a books snapshot then checksummed, chained updates', async () => {
    const c = await open('/ws/v5/public');
    c.send({
      id: 'a1',
      op: 'subscribe',
      args: [
        { channel: 'trades', instId: 'BTC-USDT' },
        { channel: 'tickers', instId: 'BTC-USDT' },
        { channel: 'books', instId: 'BTC-USDT' },
      ],
    });
    c.keepAlive();
    await waitUntil(() => c.of(isPush('books')).length > 20 && c.of(isPush('trades')).length > 3);
    const acks = c.of((f) => f['event'] === 'subscribe');
    assert.deepEqual(
      acks.map((a) => [a['id'], channel(a)]),
      [
        ['a1', 'trades'],
        ['a1', 'tickers'],
        ['a1', 'books'],
      ],
    );
    const books = c.of(isPush('books'));
    assert.equal(books[0]?.['action'], 'snapshot');
    const snap = (books[0]?.['data'] as BookData[])[0] as BookData;
    assert.equal(snap.bids.length, 400);
    assert.equal(snap.asks.length, 400);
    for (const r of replayBook(books)) assert.deepEqual(r, { checksumOk: true, chainOk: true });
    const trade = (c.of(isPush('trades'))[0]?.['data'] as Record<string, string>[])[0];
    assert.ok(trade);
    assert.deepEqual(
      Object.keys(trade).sort(),
      ['count', 'instId', 'px', 'seqId', 'side', 'source', 'sz', 'tradeId', 'ts'].sort(),
    );
    assert.ok(c.of(isPush('tickers')).length > 0);
    const pongs = c.frames.filter((f) => f === 'pong').length;
    c.send('ping');
    await waitUntil(() => c.frames.filter((f) => f === 'pong').length > pongs);
  });

  it('candles only on business; bad channel and bad instId get 60018; bad request 60012', async () => {
    const pub = await open('/ws/v5/public');
    pub.keepAlive();
    pub.send({ op: 'subscribe', args: [{ channel: 'candle1m', instId: 'BTC-USDT' }] });
    pub.send({ op: 'subscribe', args: [{ channel: 'trades', instId: 'NOPE-USDT' }] });
    pub.send('{"op":"subscribe"');
    await waitUntil(() => pub.of((f) => f['event'] === 'error').length === 3);
    assert.deepEqual(
      pub.of((f) => f['event'] === 'error').map((e) => e['code']),
      ['60018', '60018', '60012'],
    );
    const biz = await open('/ws/v5/business');
    biz.keepAlive();
    biz.send({ op: 'subscribe', args: [{ channel: 'candle1m', instId: 'ETH-USDT' }] });
    await waitUntil(() => biz.of(isPush('candle1m')).length > 0);
    const row = (biz.of(isPush('candle1m'))[0]?.['data'] as string[][])[0];
    assert.equal(row?.length, 9);
  });

  it('closes a connection that sends nothing within the idle timeout', async () => {
    const c = await open('/ws/v5/public');
    const started = Date.now();
    await c.closed;
    assert.ok(Date.now() - started >= 400, 'closed too early');
  });

  it('faults: skipped seq, corrupt checksum, rejected subscription, recycle with notice 64008', async () => {
    const c = await open('/ws/v5/public');
    c.keepAlive(100);
    c.send({ op: 'subscribe', args: [{ channel: 'books', instId: 'ETH-USDT' }] });
    await waitUntil(() => c.of(isPush('books')).length > 3);
    sim.faults.skipBookSeq('okx', 'ETH/USDT');
    await waitUntil(() => replayBook(c.of(isPush('books'))).some((r) => !r.chainOk));
    const before = c.of(isPush('books')).length;
    sim.faults.corruptChecksum('okx', 'ETH/USDT');
    await waitUntil(() => c.of(isPush('books')).length > before + 2);
    const after = replayBook(c.of(isPush('books'))).slice(before);
    assert.ok(after.some((r) => !r.checksumOk));
    sim.faults.rejectSubscriptions('okx', 1);
    c.send({ op: 'subscribe', args: [{ channel: 'trades', instId: 'ETH-USDT' }] });
    await waitUntil(() => c.of((f) => f['code'] === '60014').length === 1);
    sim.faults.forceRecycle('okx');
    await waitUntil(() => c.of((f) => f['event'] === 'notice' && f['code'] === '64008').length === 1);
    await c.closed;
  });
});

describe('OKX simulator limits', () => {
  let sim: Simulator;
  after(() => sim.close());

  it('refuses a fourth connection within a second with HTTP 429, and the 3rd request of an hour with 60014', async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT'],
      historyDays: 0,
      tradesPerSecond: 0,
      okx: { maxConnectionsPerSecond: 3, maxRequestsPerHour: 2 },
    });
    const url = `${sim.urls.okx.wsUrl}/ws/v5/public`;
    const ok = [new TextClient(url), new TextClient(url), new TextClient(url)];
    await Promise.all(ok.map((c) => c.opened));
    const refused = new TextClient(url);
    const failure = await refused.opened.then(
      () => 'opened',
      (err: Error) => err.message,
    );
    assert.equal(failure, 'Unexpected server response: 429');
    const c = ok[0] as TextClient;
    const sub = { op: 'subscribe', args: [{ channel: 'trades', instId: 'BTC-USDT' }] };
    c.send(sub);
    c.send({ op: 'unsubscribe', args: [{ channel: 'trades', instId: 'BTC-USDT' }] });
    c.send(sub);
    await waitUntil(() => c.of((f) => f['event'] === 'error').length === 1);
    assert.equal(c.of((f) => f['event'] === 'error')[0]?.['code'], '60014');
    assert.equal(c.of((f) => f['event'] === 'subscribe' || f['event'] === 'unsubscribe').length, 2);
    await Promise.all(ok.map((x) => x.close()));
  });
});
