import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { toPlainString } from '../../domain/decimal.ts';
import { TickwireError, type ErrorCode } from '../../domain/errors.ts';
import { BinanceRest } from './rest.ts';

/**
 * A loopback peer that answers /api/v3/klines and /api/v3/aggTrades the way Binance does (parameters, limits,
 * the 1 h aggTrades window rule, error bodies), over a deterministic market: BTCUSDT 1m bars from T0 and one
 * aggregate trade per second in two bursts three hours apart.
 */
const T0 = Date.UTC(2024, 0, 1);
const BARS = 2500;
const FIRST_AGG_ID = 1001;
const TRADES_PER_BURST = 2500;
const BURST_GAP_MS = 3 * 3_600_000;

function bar(i: number): unknown[] {
  const open = T0 + i * 60_000;
  const base = 40_000 + i;
  return [
    open,
    `${base}.10000000`,
    `${base + 5}.00000000`,
    `${base - 5}.00000000`,
    `${base}.20000000`,
    `1.${String(i).padStart(8, '0')}`,
    open + 59_999,
    `${base}.12345678`,
    i + 1,
    `0.${String(i).padStart(8, '0')}`,
    `${i}.5`,
    '0',
  ];
}

interface AggItem {
  a: number;
  p: string;
  q: string;
  f: number;
  l: number;
  T: number;
  m: boolean;
  M: boolean;
}

const TRADES: AggItem[] = [];
for (let i = 0; i < 2 * TRADES_PER_BURST; i++) {
  const time = T0 + (i < TRADES_PER_BURST ? i * 1000 : BURST_GAP_MS + (i - TRADES_PER_BURST) * 1000);
  const a = FIRST_AGG_ID + i;
  TRADES.push({
    a,
    p: `${100 + (i % 7)}.25000000`,
    q: '0.00100000',
    f: a * 2,
    l: a * 2 + (i % 3),
    T: time,
    m: i % 2 === 0,
    M: true,
  });
}

type Fault = (req: IncomingMessage, res: ServerResponse) => boolean;

class BinancePeer {
  readonly requests: URL[] = [];
  readonly faults: Fault[] = [];
  usedWeight: number | undefined;
  private server: Server | undefined;
  restUrl = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.restUrl = `http://127.0.0.1:${port}/binance`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://peer');
    this.requests.push(url);
    const fault = this.faults.shift();
    if (fault?.(req, res)) return;
    const q = url.searchParams;
    const reply = (status: number, body: unknown): void => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.usedWeight !== undefined) headers['x-mbx-used-weight-1m'] = String(this.usedWeight);
      res.writeHead(status, headers).end(JSON.stringify(body));
    };
    if (q.get('symbol') !== 'BTCUSDT') return reply(400, { code: -1121, msg: 'Invalid symbol.' });
    const limit = q.has('limit') ? Number(q.get('limit')) : 500;
    if (!(limit >= 1 && limit <= 1000))
      return reply(400, { code: -1130, msg: 'Invalid data sent for a parameter.' });
    const start = q.has('startTime') ? Number(q.get('startTime')) : undefined;
    const end = q.has('endTime') ? Number(q.get('endTime')) : undefined;
    if (url.pathname === '/binance/api/v3/klines') {
      if (q.get('interval') !== '1m') return reply(400, { code: -1120, msg: 'Invalid interval.' });
      const rows: unknown[][] = [];
      for (let i = 0; i < BARS; i++) rows.push(bar(i));
      const inRange = rows.filter(
        (r) =>
          (start === undefined || (r[0] as number) >= start) &&
          (end === undefined || (r[0] as number) <= end),
      );
      return reply(200, start === undefined ? inRange.slice(-limit) : inRange.slice(0, limit));
    }
    if (url.pathname === '/binance/api/v3/aggTrades') {
      if (q.has('fromId')) {
        const from = Number(q.get('fromId'));
        return reply(200, TRADES.filter((t) => t.a >= from).slice(0, limit));
      }
      if (start !== undefined && end !== undefined && end - start > 3_600_000) {
        return reply(400, { code: -1127, msg: 'More than 1 hours between startTime and endTime.' });
      }
      if (start === undefined && end === undefined) return reply(200, TRADES.slice(-limit));
      const inRange = TRADES.filter(
        (t) => (start === undefined || t.T >= start) && (end === undefined || t.T <= end),
      );
      return reply(200, inRange.slice(0, limit));
    }
    reply(404, { code: -1, msg: 'not found' });
  }

  count(path: string): number {
    return this.requests.filter((u) => u.pathname.endsWith(path)).length;
  }
}

async function rejects(promise: Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TickwireError, `expected TickwireError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('BinanceRest against a loopback Binance peer', () => {
  const peer = new BinancePeer();
  let rest: BinanceRest;
  before(() => peer.start());
  after(() => peer.stop());
  beforeEach(() => {
    peer.requests.length = 0;
    peer.faults.length = 0;
    peer.usedWeight = undefined;
    rest = new BinanceRest({
      restUrl: peer.restUrl,
      now: () => T0 + BARS * 60_000,
      http: { retryBaseMs: 5, retryMaxMs: 20, timeoutMs: 2000 },
    });
  });

  it('pages klines forward in three requests and returns exact, ascending, contiguous bars', async () => {
    const bars = await rest.fetchCandles('BTC/USDT', '1m', {
      startTime: T0,
      endTime: T0 + (BARS - 1) * 60_000,
    });
    assert.equal(bars.length, BARS);
    assert.equal(peer.count('/klines'), 3);
    const starts = peer.requests.map((u) => Number(u.searchParams.get('startTime')));
    assert.deepEqual(starts, [T0, T0 + 999 * 60_000 + 1, T0 + 1999 * 60_000 + 1]);
    bars.forEach((b, i) => assert.equal(b.time, T0 + i * 60_000));
    const b = bars[1234];
    assert.ok(b);
    assert.equal(toPlainString(b.open), '41234.1');
    assert.equal(toPlainString(b.high), '41239');
    assert.equal(toPlainString(b.low), '41229');
    assert.equal(toPlainString(b.close), '41234.2');
    assert.equal(toPlainString(b.volume), '1.00001234');
    assert.equal(toPlainString(b.quoteVolume), '41234.12345678');
    assert.equal(b.trades, 1235);
    assert.equal(toPlainString(b.takerBuyVolume), '0.00001234');
    assert.equal(toPlainString(b.takerBuyQuoteVolume), '1234.5');
  });

  it('tells the bars fetched so far after each page (start-up progress)', async () => {
    const told: number[] = [];
    await rest.fetchCandles('BTC/USDT', '1m', {
      startTime: T0,
      endTime: T0 + (BARS - 1) * 60_000,
      onProgress: (n) => told.push(n),
    });
    assert.deepEqual(told, [1000, 2000, BARS]);
  });

  it('stops at endTime inside a page', async () => {
    const bars = await rest.fetchCandles('BTC/USDT', '1m', {
      startTime: T0 + 60_000,
      endTime: T0 + 10 * 60_000,
    });
    assert.deepEqual(
      bars.map((b) => (b.time - T0) / 60_000),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    assert.equal(peer.count('/klines'), 1);
  });

  it('returns the latest bars for a limit without startTime, paging when it exceeds one page', async () => {
    const latest = await rest.fetchCandles('BTC/USDT', '1m', { limit: 3 });
    assert.deepEqual(
      latest.map((b) => (b.time - T0) / 60_000),
      [BARS - 3, BARS - 2, BARS - 1],
    );
    const end = T0 + 2099 * 60_000;
    const many = await rest.fetchCandles('BTC/USDT', '1m', { endTime: end, limit: 1500 });
    assert.equal(many.length, 1500);
    assert.equal(many[0]?.time, T0 + 600 * 60_000);
    assert.equal(many[1499]?.time, end);
  });

  it('pages aggTrades forward with fromId after afterSeq', async () => {
    const trades = await rest.fetchTrades('BTC/USDT', { afterSeq: 1500, limit: 2500 });
    assert.equal(trades.length, 2500);
    assert.deepEqual(
      peer.requests.map((u) => u.searchParams.get('fromId')),
      ['1501', '2501', '3501'],
    );
    trades.forEach((t, i) => assert.equal(t.seq, 1501 + i));
    const t = trades[0];
    assert.ok(t);
    assert.equal(t.id, '1501');
    assert.equal(toPlainString(t.price), String(100 + ((1501 - FIRST_AGG_ID) % 7)) + '.25');
    assert.equal(t.fills, ((1501 - FIRST_AGG_ID) % 3) + 1);
    assert.equal(t.side, (1501 - FIRST_AGG_ID) % 2 === 0 ? 'sell' : 'buy');
  });

  it('stops afterSeq paging at the newest trade and at endTime', async () => {
    const tail = await rest.fetchTrades('BTC/USDT', { afterSeq: FIRST_AGG_ID + 2 * TRADES_PER_BURST - 11 });
    assert.equal(tail.length, 10);
    const bounded = await rest.fetchTrades('BTC/USDT', { afterSeq: FIRST_AGG_ID - 1, endTime: T0 + 99_000 });
    assert.equal(bounded.length, 100);
    assert.equal(bounded[99]?.time, T0 + 99_000);
  });

  it('finds trades by time through windows of at most one hour, then pages with fromId', async () => {
    // Starts two hours before the first trade and spans the three-hour silence between the bursts.
    const start = T0 - 2 * 3_600_000;
    const end = T0 + BURST_GAP_MS + 10_000;
    const trades = await rest.fetchTrades('BTC/USDT', { startTime: start, endTime: end });
    assert.equal(trades.length, TRADES_PER_BURST + 11);
    trades.forEach((t, i) => assert.equal(t.seq, FIRST_AGG_ID + i));
    for (const u of peer.requests) {
      if (u.searchParams.has('startTime')) {
        assert.ok(
          Number(u.searchParams.get('endTime')) - Number(u.searchParams.get('startTime')) < 3_600_000,
        );
      }
    }
    assert.ok(
      peer.requests.some((u) => u.searchParams.has('fromId')),
      'switches to fromId paging',
    );
    const empty = await rest.fetchTrades('BTC/USDT', { startTime: T0 + 4000_000, endTime: T0 + 5000_000 });
    assert.deepEqual(empty, []);
  });

  it('returns the latest trades, paging backwards past one page', async () => {
    const latest = await rest.fetchTrades('BTC/USDT', { limit: 1500 });
    assert.equal(latest.length, 1500);
    const lastId = FIRST_AGG_ID + 2 * TRADES_PER_BURST - 1;
    assert.equal(latest[1499]?.seq, lastId);
    latest.forEach((t, i) => assert.equal(t.seq, lastId - 1499 + i));
  });

  it('waits for Retry-After on 429 and then succeeds', async () => {
    peer.faults.push((_req, res) => {
      res
        .writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' })
        .end('{"code":-1003,"msg":"Too many requests"}');
      return true;
    });
    const started = Date.now();
    const bars = await rest.fetchCandles('BTC/USDT', '1m', { limit: 2 });
    assert.equal(bars.length, 2);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
    assert.equal(peer.count('/klines'), 2);
  });

  it('fails with VENUE_RATE_LIMITED when Retry-After is longer than allowed (418 ban)', async () => {
    peer.faults.push((_req, res) => {
      res.writeHead(418, { 'retry-after': '7200' }).end();
      return true;
    });
    await rejects(
      rest.fetchCandles('BTC/USDT', '1m', { limit: 2 }),
      'VENUE_RATE_LIMITED',
      /418.*IP banned.*7200 s/,
    );
    assert.equal(peer.count('/klines'), 1);
  });

  it('retries 5xx with backoff and gives up with VENUE_UNREACHABLE after the bound', async () => {
    const fail: Fault = (_req, res) => {
      res.writeHead(503).end('maintenance');
      return true;
    };
    peer.faults.push(fail, fail);
    assert.equal((await rest.fetchCandles('BTC/USDT', '1m', { limit: 1 })).length, 1);
    assert.equal(peer.count('/klines'), 3);

    peer.requests.length = 0;
    peer.faults.push(fail, fail, fail, fail, fail, fail);
    await rejects(
      rest.fetchCandles('BTC/USDT', '1m', { limit: 1 }),
      'VENUE_UNREACHABLE',
      /HTTP 503 maintenance \(after 5 attempts\)/,
    );
    assert.equal(peer.count('/klines'), 5);
  });

  it('rejects a bad symbol with the venue message and does not retry', async () => {
    await rejects(
      rest.fetchCandles('ETH/BTC', '1m', { limit: 1 }),
      'VENUE_REJECTED',
      /HTTP 400.*Invalid symbol/,
    );
    assert.equal(peer.requests.length, 1);
    await rejects(rest.fetchTrades('BTC/USDT', { limit: 0 }), 'VENUE_REJECTED', /positive integer/);
  });

  it('times out a silent server with VENUE_UNREACHABLE', async () => {
    const hang: Fault = () => true;
    peer.faults.push(hang, hang);
    const slow = new BinanceRest({
      restUrl: peer.restUrl,
      http: { timeoutMs: 150, maxRetries: 1, retryBaseMs: 5 },
    });
    await rejects(
      slow.fetchCandles('BTC/USDT', '1m', { limit: 1 }),
      'VENUE_UNREACHABLE',
      /no answer within 150 ms \(after 2 attempts\)/,
    );
  });

  it('reports a refused connection as VENUE_UNREACHABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dead = new BinanceRest({
      restUrl: `http://127.0.0.1:${port}`,
      http: { maxRetries: 1, retryBaseMs: 5 },
    });
    await rejects(dead.fetchTrades('BTC/USDT', { limit: 5 }), 'VENUE_UNREACHABLE', /ECONNREFUSED/);
  });

  it('rejects a malformed item instead of skipping it', async () => {
    peer.faults.push((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify([bar(0), [T0 + 60_000, 'x']]));
      return true;
    });
    await rejects(
      rest.fetchCandles('BTC/USDT', '1m', { limit: 2 }),
      'VENUE_REJECTED',
      /klines: item 1 .*malformed/,
    );
  });

  it('slows down when the venue reports the weight budget spent', async () => {
    const paced = new BinanceRest({ restUrl: peer.restUrl, weightPerMinute: 600 });
    peer.usedWeight = 598;
    await paced.fetchCandles('BTC/USDT', '1m', { limit: 1 });
    const started = Date.now();
    await paced.fetchCandles('BTC/USDT', '1m', { limit: 1 });
    await paced.fetchCandles('BTC/USDT', '1m', { limit: 1 });
    // 600/min refills 10 weight per second; two klines requests (weight 2 each) need ~0.2 s once the budget is gone.
    assert.ok(Date.now() - started >= 150, `paced: ${Date.now() - started} ms`);
  });
});
