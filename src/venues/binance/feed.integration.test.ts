import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { toPlainString } from '../../domain/decimal.ts';
import { TickwireError } from '../../domain/errors.ts';
import type { Trade } from '../../domain/trade.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { ManualClock } from '../../util/clock.ts';
import type { MarketStream, StreamStatus, VenueCandle } from '../venue.ts';
import { openBinanceMarketStream, type BinanceStreamOptions } from './feed.ts';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';

const FIXTURES = `${FIXTURES_DIR}binance/`;

/** Real frames: the 2026 BTCUSDT aggTrade (roq), the 2022 BTCUSDT open 1m kline (crypto-msg-parser), serverShutdown. */
function fixtureFrames(): { aggTrade: string; kline: string; shutdown: string; ack: string; error: string } {
  const roq = JSON.parse(readFileSync(FIXTURES + 'roq_binance_spot_samples_2021-2026.json', 'utf8')) as {
    messages: { file: string; message: unknown }[];
  };
  const byFile = (file: string): string => JSON.stringify(roq.messages.find((m) => m.file === file)?.message);
  const cmp = JSON.parse(
    readFileSync(FIXTURES + 'crypto-msg-parser_binance_samples_2021-2022.json', 'utf8'),
  ) as {
    messages: { stream?: string }[];
  };
  return {
    aggTrade: byFile('test/json_agg_trade.cpp'),
    kline: JSON.stringify(cmp.messages.find((m) => m.stream === 'btcusdt@kline_1m')),
    shutdown: byFile('test/json_server_shutdown.cpp'),
    ack: byFile('test/json_result.cpp'),
    error: byFile('test/json_error.cpp'),
  };
}
const FRAMES = fixtureFrames();

/** A loopback Binance market-stream server: /binance/stream with SUBSCRIBE replies, pings, drops, silence on demand. */
class StreamPeer {
  readonly connections: { socket: WebSocket; url: URL; received: string[] }[] = [];
  /** Answers each SUBSCRIBE with `{"result":null,"id":n}` unless told otherwise. */
  answer:
    ((socket: WebSocket, request: { method: string; params: string[]; id: number }) => void) | undefined;
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  wsUrl = '';

  async start(): Promise<void> {
    this.http = createServer();
    this.wss = new WebSocketServer({ server: this.http, path: '/binance/stream' });
    this.wss.on('connection', (socket, req) => {
      const conn = { socket, url: new URL(req.url ?? '/', 'ws://peer'), received: [] as string[] };
      this.connections.push(conn);
      socket.on('message', (data) => {
        const text = String(data);
        conn.received.push(text);
        const request = JSON.parse(text) as { method: string; params: string[]; id: number };
        if (this.answer) this.answer(socket, request);
        else socket.send(JSON.stringify({ result: null, id: request.id }));
      });
    });
    await new Promise<void>((resolve) => this.http?.listen(0, '127.0.0.1', resolve));
    this.wsUrl = `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/binance`;
  }

  latest(): WebSocket {
    const last = this.connections[this.connections.length - 1];
    assert.ok(last, 'no connection yet');
    return last.socket;
  }

  async stop(): Promise<void> {
    for (const c of this.wss?.clients ?? []) c.terminate();
    await new Promise<void>((resolve) => this.wss?.close(() => resolve()));
    this.http?.closeAllConnections();
    await new Promise<void>((resolve) => this.http?.close(() => resolve()));
  }
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function capturingLogger(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

class Recorder {
  readonly trades: Trade[] = [];
  readonly candles: VenueCandle[] = [];
  readonly statuses: StreamStatus[] = [];
  readonly handlers = {
    trade: (t: Trade) => this.trades.push(t),
    candle: (c: VenueCandle) => this.candles.push(c),
    status: (s: StreamStatus) => this.statuses.push(s),
  };
  kinds(): string[] {
    return this.statuses.map((s) => s.kind);
  }
}

describe('Binance market stream against a loopback peer', () => {
  const peer = new StreamPeer();
  let stream: MarketStream | undefined;
  const fast: Partial<BinanceStreamOptions> = { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } };

  before(() => peer.start());
  after(() => peer.stop());
  beforeEach(async () => {
    await stream?.close();
    stream = undefined;
    for (const c of peer.connections) c.socket.terminate();
    peer.connections.length = 0;
  });

  function open(
    rec: Recorder,
    options: Partial<BinanceStreamOptions> = {},
    symbols = ['BTC/USDT', 'ETH/USDT'],
  ) {
    const { logger } = capturingLogger();
    stream = openBinanceMarketStream(symbols, rec.handlers, {
      wsUrl: peer.wsUrl,
      logger,
      ...fast,
      ...options,
    });
    return stream;
  }

  it('subscribes the combined streams with SUBSCRIBE and delivers trades and klines', async () => {
    const rec = new Recorder();
    const { logger, lines } = capturingLogger();
    const s = openBinanceMarketStream(['BTC/USDT', 'ETH/USDT'], rec.handlers, {
      wsUrl: peer.wsUrl,
      logger,
      clock: new ManualClock(1_800_000_000_000),
    });
    stream = s;
    await waitFor('subscribe', () => (peer.connections[0]?.received.length ?? 0) === 1);
    assert.equal(peer.connections[0]?.url.pathname, '/binance/stream');
    assert.deepEqual(JSON.parse(peer.connections[0]?.received[0] ?? ''), {
      method: 'SUBSCRIBE',
      params: ['btcusdt@aggTrade', 'btcusdt@kline_1m', 'ethusdt@aggTrade', 'ethusdt@kline_1m'],
      id: 1,
    });
    const server = peer.latest();
    server.send(FRAMES.ack);
    server.send(FRAMES.aggTrade);
    server.send(FRAMES.kline);
    for (let i = 0; i < 3; i++)
      server.send('{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","s":"BTCUSDT"}}');
    server.send('{"stream":"btcusdt@depth","data":{"e":"depthUpdate"'); // cut off
    await waitFor('frames', () => s.status().messages_received === 8);

    assert.equal(rec.trades.length, 1);
    const t = rec.trades[0];
    assert.ok(t);
    assert.equal(t.symbol, 'BTC/USDT');
    assert.equal(t.id, '3814332932');
    assert.equal(toPlainString(t.price), '95311.64');
    assert.equal(t.receivedAt, 1_800_000_000_000);
    assert.equal(rec.candles.length, 1);
    assert.equal(rec.candles[0]?.closed, false);
    assert.equal(toPlainString(rec.candles[0]?.bar.close ?? { coef: 0n, scale: 0 }), '29038.47');
    assert.deepEqual(rec.kinds(), ['connected']);

    const status = s.status();
    assert.equal(status.malformed_frames, 4);
    assert.equal(status.reconnect_count, 0);
    assert.equal(status.last_heartbeat, new Date(1_800_000_000_000).toISOString());
    assert.deepEqual(status.subscriptions, [
      'btcusdt@aggTrade',
      'btcusdt@kline_1m',
      'ethusdt@aggTrade',
      'ethusdt@kline_1m',
    ]);
    assert.match(status.ws_url, /\/binance\/stream$/);
    assert.equal(status.connected, true);
    const notUnderstood = lines.filter((l) => l.msg.startsWith('frame not understood'));
    assert.equal(notUnderstood.length, 2, 'each kind of unknown frame is logged once');
  });

  it('reports an error frame as an error status', async () => {
    const rec = new Recorder();
    const s = open(rec);
    await waitFor('connection', () => s.status().connected);
    peer.latest().send(FRAMES.error);
    await waitFor('error status', () => rec.kinds().includes('error'));
    const status = rec.statuses.find((x) => x.kind === 'error');
    assert.ok(status?.kind === 'error');
    assert.match(status.message, /binance error 2: Invalid request: streams must be an array/);
    assert.equal(s.status().errors, 1);
  });

  it('keeps running when a handler throws', async () => {
    const rec = new Recorder();
    let calls = 0;
    const { logger } = capturingLogger();
    const s = openBinanceMarketStream(
      ['BTC/USDT'],
      {
        ...rec.handlers,
        trade: () => {
          calls++;
          throw new Error('consumer bug');
        },
      },
      { wsUrl: peer.wsUrl, logger },
    );
    stream = s;
    await waitFor('connection', () => s.status().connected);
    peer.latest().send(FRAMES.aggTrade);
    peer.latest().send(FRAMES.aggTrade);
    await waitFor('two trades', () => calls === 2);
    assert.equal(s.status().errors, 2);
    assert.equal(s.status().connected, true);
  });

  it('reconnects after the server drops the socket', async () => {
    const rec = new Recorder();
    const s = open(rec);
    await waitFor('connection', () => s.status().connected);
    peer.latest().terminate();
    await waitFor('second connection', () => peer.connections.length === 2 && s.status().connected);
    assert.deepEqual(rec.kinds(), ['connected', 'disconnected', 'connected']);
    const lost = rec.statuses[1];
    assert.ok(lost?.kind === 'disconnected');
    assert.match(lost.reason, /closed by server \(1006/);
    assert.equal(s.status().reconnect_count, 1);
    peer.latest().send(FRAMES.aggTrade);
    await waitFor('trade after reconnect', () => rec.trades.length === 1);
  });

  it('keeps retrying with backoff while the handshake times out', async () => {
    const rec = new Recorder();
    // A TCP listener that accepts and never answers the handshake: each attempt must time out.
    const sockets: Socket[] = [];
    const mute = createTcpServer((sock) => sockets.push(sock));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const port = (mute.address() as AddressInfo).port;
    const s = open(rec, { wsUrl: `ws://127.0.0.1:${port}/binance`, connectTimeoutMs: 100 });
    await waitFor('three attempts', () => sockets.length >= 3, 5000);
    const errors = rec.statuses.filter((x) => x.kind === 'error');
    assert.ok(errors.length >= 2);
    assert.match(errors[0]?.kind === 'error' ? errors[0].message : '', /handshake has timed out/);
    assert.equal(s.status().connected, false);
    assert.ok(s.status().reconnect_count >= 2);
    await s.close();
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((resolve) => mute.close(() => resolve()));
  });

  it('reconnects at once on serverShutdown', async () => {
    const rec = new Recorder();
    // A 10 s backoff would fail this test: serverShutdown must not wait for it. The runner's clock moves by 0 ms
    // only, so the reconnect timer fires only if it was set without a backoff.
    const clock = new ManualClock(1_800_000_000_000);
    const s = open(rec, { clock, reconnect: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    await waitFor('connection', () => s.status().connected);
    peer.latest().send(FRAMES.shutdown);
    await waitFor('disconnected', () => rec.kinds().includes('disconnected'));
    clock.advance(0);
    await waitFor('second connection', () => peer.connections.length === 2 && s.status().connected);
    const lost = rec.statuses.find((x) => x.kind === 'disconnected');
    assert.ok(lost?.kind === 'disconnected');
    assert.equal(lost.reason, 'server shutdown');
    assert.equal(s.status().reconnect_count, 1);
  });

  it('recycles a connection that stays silent past the watchdog', async () => {
    const rec = new Recorder();
    const clock = new ManualClock(1_800_000_000_000);
    const s = open(rec, { clock, silenceTimeoutMs: 150 });
    await waitFor('connection', () => s.status().connected);
    // Traffic keeps it alive past one watchdog period...
    const server = peer.latest();
    for (let i = 1; i <= 4; i++) {
      clock.advance(60);
      server.send(FRAMES.kline);
      await waitFor('the kline', () => rec.candles.length === i);
    }
    assert.equal(peer.connections.length, 1);
    // ...silence does not.
    clock.advance(150);
    await waitFor('the silent connection dropped', () => rec.kinds().includes('disconnected'));
    // The reconnect waits at most the fast backoff's 100 ms.
    clock.advance(100);
    await waitFor('recycled connection', () => peer.connections.length === 2 && s.status().connected);
    const lost = rec.statuses.find((x) => x.kind === 'disconnected');
    assert.ok(lost?.kind === 'disconnected');
    assert.match(lost.reason, /^silence: no frame for \d+ ms$/);
  });

  it('answers server pings with the same payload', async () => {
    const rec = new Recorder();
    const s = open(rec);
    await waitFor('connection', () => s.status().connected);
    const server = peer.latest();
    const pong = new Promise<string>((resolve) => server.once('pong', (data) => resolve(data.toString())));
    server.ping('heartbeat-1');
    assert.equal(await pong, 'heartbeat-1');
  });

  it('times the round trip with a ping of its own every 30 s', async () => {
    const rec = new Recorder();
    const clock = new ManualClock(1_800_000_000_000);
    const s = open(rec, { clock, silenceTimeoutMs: 120_000 });
    await waitFor('connection', () => s.status().connected);
    // A connection that has delivered data is never recycled for a subscribe answer still on its way when the
    // clock passes the 10 s deadline below.
    peer.latest().send(FRAMES.aggTrade);
    await waitFor('a trade', () => rec.trades.length === 1);
    const pinged = new Promise<string>((resolve) =>
      peer.latest().once('ping', (data) => resolve(data.toString())),
    );
    assert.equal(s.status().latency_ms, null);
    clock.advance(30_000);
    assert.notEqual(await pinged, '');
    // The manual clock stands still while the pong travels: a round trip of 0 ms, measured.
    await waitFor('latency', () => s.status().latency_ms === 0);
  });

  it('leaves no socket or timer behind after close()', async () => {
    await new Promise((r) => setTimeout(r, 50));
    const baseline = process.getActiveResourcesInfo().sort();
    const rec = new Recorder();
    const s = open(rec, { silenceTimeoutMs: 30_000 });
    await waitFor('connection', () => s.status().connected);
    peer.latest().send(FRAMES.aggTrade);
    await waitFor('trade', () => rec.trades.length === 1);
    assert.ok(process.getActiveResourcesInfo().length > baseline.length);
    await s.close();
    await s.close();
    stream = undefined;
    await waitFor(
      'resources released',
      () => process.getActiveResourcesInfo().sort().join() === baseline.join(),
      2000,
    );
    assert.equal(s.status().connected, false);
    assert.ok(!rec.kinds().includes('disconnected'), 'close() is not reported as a lost connection');
  });

  it('close() during the reconnect backoff cancels the pending reconnect', async () => {
    await new Promise((r) => setTimeout(r, 50));
    const baseline = process.getActiveResourcesInfo().sort();
    const rec = new Recorder();
    const s = open(rec, { reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000 }, random: () => 0.99 });
    await waitFor('connection', () => s.status().connected);
    peer.latest().terminate();
    await waitFor('disconnected', () => rec.kinds().includes('disconnected'));
    await s.close();
    stream = undefined;
    await waitFor(
      'resources released',
      () => process.getActiveResourcesInfo().sort().join() === baseline.join(),
      2000,
    );
    assert.equal(peer.connections.length, 1);
  });

  it('rejects bad symbols and too many streams with clear errors', () => {
    const rec = new Recorder();
    const { logger } = capturingLogger();
    const bad = (symbols: string[]) => () =>
      openBinanceMarketStream(symbols, rec.handlers, { wsUrl: peer.wsUrl, logger });
    assert.throws(
      bad(['BTCUSDT']),
      (e: unknown) => e instanceof TickwireError && e.code === 'INVALID_SYMBOL',
    );
    assert.throws(bad([]), (e: unknown) => e instanceof TickwireError && e.code === 'INVALID_SYMBOL');
    const many = Array.from({ length: 513 }, (_, i) => `C${i}/USDT`);
    assert.throws(
      bad(many),
      (e: unknown) => e instanceof TickwireError && e.code === 'CONFIG_INVALID' && /1024/.test(e.message),
    );
    assert.equal(peer.connections.length, 0);
  });
});
