import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { WebSocket } from 'ws';
import { startSimulator, type Simulator } from '../simulator.ts';
import { waitUntil } from '../test-kit.ts';

/** A client of the Bitget socket that keeps raw text frames ("pong" is not JSON). */
class TextClient {
  readonly socket: WebSocket;
  readonly texts: string[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (d) => this.texts.push(String(d)));
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.socket.once('close', (code) => resolve(code)));
  }
  send(value: unknown): void {
    this.socket.send(typeof value === 'string' ? value : JSON.stringify(value));
  }
  json(): Record<string, unknown>[] {
    return this.texts.filter((t) => t.startsWith('{')).map((t) => JSON.parse(t) as Record<string, unknown>);
  }
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close();
    await this.closed;
  }
}

const arg = (channel: string, instId = 'BTCUSDT', instType = 'SPOT') => ({ instType, channel, instId });

describe('Bitget simulator socket', () => {
  let sim: Simulator;
  const clients: TextClient[] = [];
  const connect = async (): Promise<TextClient> => {
    const c = new TextClient(sim.urls.bitget.wsUrl);
    clients.push(c);
    await c.opened;
    return c;
  };

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      historyDays: 1,
      tradesPerSecond: 20,
      // The tests read recent trades only: half an hour of individual trades instead of the default two hours,
      // which cost CPU at start.
      tradeWindowMs: 30 * 60_000,
      tickMs: 20,
      bitget: { pingTimeoutMs: 400, bookPushMs: 30, tickerPushMs: 50 },
    });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sim.close();
  });

  test('acks per arg; 30016 for a wrong channel name, 30001 for an unknown instrument, 30003 for a bad op', async () => {
    const c = await connect();
    c.send({ op: 'subscribe', args: [arg('ticker'), arg('candle1h'), arg('trade', 'NOPEUSDT')] });
    c.send({ op: 'login', args: [] });
    c.send('{oops');
    await waitUntil(() => c.json().filter((f) => f['event'] !== undefined).length >= 5);
    const events = c.json().filter((f) => f['event'] !== undefined);
    assert.deepEqual(events[0], { event: 'subscribe', arg: arg('ticker') });
    assert.deepEqual(events[1], {
      event: 'error',
      arg: arg('candle1h'),
      code: 30016,
      msg: 'Param error',
      op: 'subscribe',
    });
    assert.deepEqual(events[2], {
      event: 'error',
      arg: arg('trade', 'NOPEUSDT'),
      code: 30001,
      msg: "instType:SPOT,channel:trade,instId:NOPEUSDT doesn't exist",
      op: 'subscribe',
    });
    assert.deepEqual(events[3], { event: 'error', code: 30003, msg: 'invalid op' });
    assert.deepEqual(events[4], { event: 'error', code: 30002, msg: 'illegal request' });
    c.send({ op: 'unsubscribe', args: [arg('ticker')] });
    await waitUntil(() => c.json().some((f) => f['event'] === 'unsubscribe'));
  });

  test('text ping gets pong; a client that stops pinging is closed after pingTimeoutMs', async () => {
    const c = await connect();
    c.send('ping');
    await waitUntil(() => c.texts.includes('pong'));
    const start = Date.now();
    await c.closed;
    assert.ok(Date.now() - start >= 300, 'closed for missing pings, not at once');
  });

  test('books: snapshot with checksum 0, then deltas chained by pseq whose checksum matches the levels', async () => {
    const c = await connect();
    const keepAlive = setInterval(() => c.send('ping'), 100);
    c.send({ op: 'subscribe', args: [arg('books', 'ETHUSDT', 'USDT-FUTURES')] });
    await waitUntil(() => c.json().filter((f) => f['action'] === 'update').length >= 15);
    clearInterval(keepAlive);
    type Row = {
      asks: [string, string][];
      bids: [string, string][];
      checksum: number;
      seq: number;
      pseq: number;
    };
    const pushes = c.json().filter((f) => f['action'] !== undefined) as { action: string; data: Row[] }[];
    assert.equal(pushes[0]?.action, 'snapshot');
    const snap = pushes[0]?.data[0] as Row;
    assert.equal(snap.checksum, 0);
    assert.equal(snap.pseq, 0);
    const bids = new Map(snap.bids);
    const asks = new Map(snap.asks);
    let seq = snap.seq;
    for (const p of pushes.slice(1)) {
      const row = p.data[0] as Row;
      assert.equal(row.pseq, seq);
      assert.ok(row.seq > row.pseq);
      seq = row.seq;
      for (const [px, sz] of row.bids)
        if (sz === '0') bids.delete(px);
        else bids.set(px, sz);
      for (const [px, sz] of row.asks)
        if (sz === '0') asks.delete(px);
        else asks.set(px, sz);
      const b = [...bids].sort((x, y) => Number(y[0]) - Number(x[0])).slice(0, 25);
      const a = [...asks].sort((x, y) => Number(x[0]) - Number(y[0])).slice(0, 25);
      const parts: string[] = [];
      for (let i = 0; i < 25; i++) {
        if (b[i]) parts.push(...(b[i] as [string, string]));
        if (a[i]) parts.push(...(a[i] as [string, string]));
      }
      assert.equal(crc32(parts.join(':')) | 0, row.checksum);
      assert.ok(Number(b[0]?.[0]) < Number(a[0]?.[0]), 'book not crossed');
    }
  });

  test('freezeSymbol silences one instrument only; stall silences everything including pongs', async () => {
    const c = await connect();
    const keepAlive = setInterval(() => c.send('ping'), 100);
    c.send({ op: 'subscribe', args: [arg('ticker', 'BTCUSDT'), arg('ticker', 'ETHUSDT')] });
    await waitUntil(() => c.json().filter((f) => f['action'] !== undefined).length >= 4);
    sim.faults.freezeSymbol('bitget', 'BTC/USDT');
    await new Promise((r) => setTimeout(r, 60));
    const mark = c.texts.length;
    await new Promise((r) => setTimeout(r, 300));
    const later = c.texts.slice(mark).filter((t) => t.startsWith('{'));
    assert.ok(later.some((t) => t.includes('ETHUSDT')));
    assert.ok(!later.some((t) => t.includes('BTCUSDT')));
    sim.faults.unfreezeSymbol('bitget');
    sim.faults.stall('bitget');
    await new Promise((r) => setTimeout(r, 60));
    const stallMark = c.texts.length;
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(c.texts.length, stallMark, 'nothing at all while stalled');
    sim.faults.resumeStream('bitget');
    await waitUntil(() => c.texts.length > stallMark + 2);
    clearInterval(keepAlive);
  });

  test('more than 10 messages in a second closes the connection with 30006', async () => {
    const c = await connect();
    for (let i = 0; i < 12; i++) c.send('ping');
    const code = await c.closed;
    assert.equal(code, 1008);
    assert.ok(c.json().some((f) => f['code'] === 30006));
  });
});
