import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../telemetry/logger.ts';
import type { StreamEvent, StreamStatus } from '../venue.ts';
import {
  ConnectionRunner,
  type ConnectionProtocol,
  type ConnectionRunnerOptions,
  type FrameOutcome,
  type HeartbeatRule,
  type PollKind,
  type VenueLimits,
} from './runner.ts';
import { SlidingWindowLimiter } from './send-limiter.ts';

/**
 * A tiny venue for the runner: `{"s":"A"}` is data of symbol A, `{"reject":"msg","resend":"..."}` a refused
 * subscription, `{"recycle":"why"}` a venue recycle notice, `{"ack":1}` a control frame; anything else is malformed.
 */
class TestProtocol implements ConnectionProtocol {
  readonly venue = 'binance' as const;
  readonly opened: number[] = [];
  readonly polls: PollKind[] = [];
  pollImpl: ((kind: PollKind, signal: AbortSignal) => Promise<void>) | undefined;
  urlFn: () => string;
  frames: string[] = ['sub:A', 'sub:B'];
  readonly poll: ((kind: PollKind, signal: AbortSignal) => Promise<void>) | undefined;

  constructor(
    url: string | (() => string),
    readonly heartbeat: HeartbeatRule = { kind: 'server-ping' },
    readonly limits: VenueLimits = { messagesPerSecond: 50 },
    withPoll = false,
  ) {
    this.urlFn = typeof url === 'string' ? () => url : url;
    this.poll = withPoll
      ? (kind, signal) => {
          this.polls.push(kind);
          return this.pollImpl?.(kind, signal) ?? Promise.resolve();
        }
      : undefined;
  }

  url(): string {
    return this.urlFn();
  }
  subscriptions(): readonly string[] {
    return this.frames;
  }
  symbols(): readonly string[] {
    return ['A', 'B'];
  }
  subscribeFrames(): readonly string[] {
    return this.frames;
  }
  onOpen(): void {
    this.opened.push(Date.now());
  }
  handleFrame(text: string): FrameOutcome {
    const msg = JSON.parse(text) as Record<string, string | undefined>;
    if (typeof msg['s'] === 'string') return { kind: 'data', symbol: msg['s'] };
    if (typeof msg['reject'] === 'string') {
      const resend = msg['resend'];
      return resend === undefined
        ? { kind: 'rejected', message: msg['reject'] }
        : { kind: 'rejected', message: msg['reject'], resend };
    }
    if (typeof msg['recycle'] === 'string') return { kind: 'recycle', reason: msg['recycle'] };
    if (msg['ack'] !== undefined) return { kind: 'control' };
    return { kind: 'malformed', key: 'unknown', reason: `no known field in ${text.slice(0, 40)}` };
  }
}

/** A loopback WebSocket venue recording every connection and every text frame received. */
class Peer {
  readonly sockets: WebSocket[] = [];
  readonly received: { at: number; text: string; conn: number }[] = [];
  onText: ((socket: WebSocket, text: string) => void) | undefined;
  onConnection: ((socket: WebSocket) => void) | undefined;
  private wss: WebSocketServer | undefined;
  url = '';

  async start(autoPong = true): Promise<void> {
    this.wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong });
    await new Promise<void>((resolve) => this.wss?.once('listening', resolve));
    this.url = `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/`;
    this.wss.on('connection', (socket) => {
      const conn = this.sockets.length;
      this.sockets.push(socket);
      socket.on('message', (data) => {
        const text = String(data);
        this.received.push({ at: performance.now(), text, conn });
        this.onText?.(socket, text);
      });
      this.onConnection?.(socket);
    });
  }

  latest(): WebSocket {
    const s = this.sockets.at(-1);
    assert.ok(s, 'no connection yet');
    return s;
  }

  reset(): void {
    for (const s of this.sockets) s.terminate();
    this.sockets.length = 0;
    this.received.length = 0;
    this.onText = undefined;
    this.onConnection = undefined;
  }

  async stop(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.wss?.close(() => resolve()));
  }
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3));
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
  readonly statuses: StreamStatus[] = [];
  readonly events: StreamEvent[] = [];
  readonly handlers = {
    status: (s: StreamStatus) => this.statuses.push(s),
    event: (e: StreamEvent) => this.events.push(e),
  };
  ofKind<K extends StreamEvent['kind']>(kind: K): Extract<StreamEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<StreamEvent, { kind: K }> => e.kind === kind);
  }
}

/** A port nothing listens on: bound, then released. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('SlidingWindowLimiter', () => {
  it('allows `count` events per window and says how long the next one waits', () => {
    const l = new SlidingWindowLimiter(3, 1000);
    for (const t of [0, 10, 20]) {
      assert.equal(l.waitMs(t), 0);
      l.record(t);
    }
    assert.equal(l.waitMs(30), 970);
    assert.equal(l.waitMs(1000), 0);
    l.record(1000);
    assert.equal(l.waitMs(1001), 9);
  });

  it('rejects a zero count', () => {
    assert.throws(() => new SlidingWindowLimiter(0, 1000), RangeError);
  });
});

describe('ConnectionRunner against loopback servers', () => {
  const peer = new Peer();
  let runner: ConnectionRunner | undefined;
  const fast: Partial<ConnectionRunnerOptions> = {
    backoff: { initialMs: 10, maxMs: 40 },
    connectTimeoutMs: 1000,
    closeTimeoutMs: 200,
  };

  before(() => peer.start());
  after(() => peer.stop());
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    peer.reset();
  });

  function run(
    protocol: ConnectionProtocol,
    rec: Recorder,
    options: Partial<ConnectionRunnerOptions> = {},
  ): ConnectionRunner {
    runner = new ConnectionRunner(protocol, rec.handlers, {
      logger: pino({ level: 'silent' }),
      ...fast,
      ...options,
    });
    runner.start();
    return runner;
  }

  it('connects, subscribes, reports the status fields and turns healthy on data', async () => {
    const rec = new Recorder();
    const r = run(new TestProtocol(peer.url), rec);
    await waitFor('subscribes', () => peer.received.length === 2);
    assert.deepEqual(
      peer.received.map((m) => m.text),
      ['sub:A', 'sub:B'],
    );
    const before = r.status();
    assert.equal(before.connected, true);
    assert.equal(before.is_healthy, false, 'no data yet');
    peer.latest().send('{"s":"A"}');
    peer.latest().send('{"s":"B"}');
    await waitFor('healthy', () => r.status().is_healthy);
    const s = r.status();
    assert.deepEqual(Object.keys(s).slice(0, 6), [
      'connected',
      'is_healthy',
      'ws_url',
      'subscriptions',
      'reconnect_count',
      'last_heartbeat',
    ]);
    assert.equal(s.ws_url, peer.url);
    assert.deepEqual(s.subscriptions, ['sub:A', 'sub:B']);
    assert.equal(s.reconnect_count, 0);
    assert.match(s.last_heartbeat ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(s.messages_received, 2);
    assert.equal(s.mode, 'websocket');
    assert.deepEqual(s.stale_symbols, []);
    assert.equal(s.consecutive_failures, 0);
    assert.deepEqual(
      rec.statuses.map((x) => x.kind),
      ['connected'],
    );
    const stats = r.marketStats();
    assert.equal(stats.messagesReceived, 2);
    assert.equal(stats.status?.ws_url, peer.url);
  });

  it('waits between attempts within the full-jitter bounds of the injected random', async () => {
    // A TCP listener that accepts and immediately closes: every attempt fails fast and is timestamped.
    const attempts: number[] = [];
    const tcp: TcpServer = createServer((socket: Socket) => {
      attempts.push(performance.now());
      socket.destroy();
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(tcp.address() as AddressInfo).port}/`;
    try {
      const rec = new Recorder();
      // random 0.999 → delay just under each ceiling: 60, 120, 240, 240 ms (initial 60, cap 240; uncapped: 480).
      run(new TestProtocol(url), rec, {
        random: () => 0.999,
        backoff: { initialMs: 60, maxMs: 240 },
        fallback: { afterFailures: 0 },
      });
      await waitFor('5 attempts', () => attempts.length >= 5, 4000);
      await runner?.close();
      const gaps = attempts.slice(1, 5).map((t, i) => t - (attempts[i] as number));
      const ceilings = [60, 120, 240, 240];
      gaps.forEach((gap, i) => {
        const ceiling = ceilings[i] as number;
        assert.ok(gap >= ceiling * 0.999 - 2, `gap ${i} = ${gap} ms, expected ≥ ${ceiling * 0.999}`);
        // Loose above (timers run late on a busy machine), yet below the next doubling and the uncapped delay.
        assert.ok(gap < ceiling + 200, `gap ${i} = ${gap} ms, expected < ${ceiling + 200}`);
      });
      // The fifth accept may not have failed on the client side yet when the runner closed.
      assert.ok((runner?.status().consecutive_failures ?? 0) >= 4);
      assert.ok((runner?.status().reconnect_count ?? 0) >= 4);
    } finally {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it('reconnects at once with random 0 and counts the attempts', async () => {
    const port = await refusedPort();
    const rec = new Recorder();
    const r = run(new TestProtocol(`ws://127.0.0.1:${port}/`), rec, {
      random: () => 0,
      backoff: { initialMs: 5_000, maxMs: 16_000 },
      fallback: { afterFailures: 0 },
    });
    // With random 0 even a 5 s ceiling waits 0 ms: many attempts within a fraction of a second.
    await waitFor('attempts', () => r.status().reconnect_count >= 10, 2000);
    assert.ok(r.status().errors >= 10);
    assert.match(r.status().last_error ?? '', /ECONNREFUSED/);
  });

  it('spaces connection attempts to the venue limit even when reconnects are immediate', async () => {
    const port = await refusedPort();
    const protocol = new TestProtocol(
      `ws://127.0.0.1:${port}/`,
      { kind: 'server-ping' },
      {
        connectAttempts: { count: 3, windowMs: 300 },
      },
    );
    const r = run(protocol, new Recorder(), { random: () => 0, fallback: { afterFailures: 0 } });
    const started = performance.now();
    await waitFor('7 attempts', () => r.counters().connects >= 7, 3000);
    const took = performance.now() - started;
    // Attempts 1-3 at once, 4-6 after one window, 7 after two.
    assert.ok(took >= 600, `7 attempts within ${took} ms`);
    assert.ok(took < 1500, `7 attempts took ${took} ms`);
  });

  it('gives up a handshake after the connect timeout', async () => {
    // Accepts TCP but never answers the HTTP upgrade.
    const held: Socket[] = [];
    const tcp = createServer((s) => held.push(s));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const rec = new Recorder();
      const started = performance.now();
      const r = run(new TestProtocol(`ws://127.0.0.1:${(tcp.address() as AddressInfo).port}/`), rec, {
        connectTimeoutMs: 80,
        backoff: { initialMs: 1000, maxMs: 1000 },
        fallback: { afterFailures: 0 },
      });
      await waitFor('first failure', () => r.status().consecutive_failures === 1, 2000);
      const took = performance.now() - started;
      assert.ok(took >= 75 && took < 600, `timed out after ${took} ms`);
      assert.equal(r.status().connected, false);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it('sends a text ping, measures the pong round trip and stays connected', async () => {
    peer.onText = (socket, text) => {
      if (text === 'ping') setTimeout(() => socket.send('pong'), 15);
    };
    const rec = new Recorder();
    const r = run(
      new TestProtocol(peer.url, { kind: 'text-ping', ping: 'ping', pong: 'pong', intervalMs: 60 }),
      rec,
    );
    await waitFor('3 pings', () => peer.received.filter((m) => m.text === 'ping').length >= 3);
    await waitFor('latency', () => r.status().latency_ms !== null);
    const latency = r.status().latency_ms ?? 0;
    assert.ok(latency >= 10 && latency < 200, `latency ${latency}`);
    assert.equal(peer.sockets.length, 1, 'answered pings keep the connection');
    assert.equal(r.counters().recycles, 0);
  });

  it('sends text pings only when idle with idleOnly', async () => {
    peer.onText = (socket, text) => {
      if (text === 'ping') socket.send('pong');
    };
    peer.onConnection = (socket) => {
      const t = setInterval(() => socket.send('{"s":"A"}'), 10);
      socket.on('close', () => clearInterval(t));
    };
    run(
      new TestProtocol(peer.url, {
        kind: 'text-ping',
        ping: 'ping',
        pong: 'pong',
        intervalMs: 50,
        idleOnly: true,
      }),
      new Recorder(),
    );
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(peer.received.filter((m) => m.text === 'ping').length, 0);
  });

  it('recycles a connection whose pong does not come, and resubscribes', async () => {
    const rec = new Recorder();
    const r = run(
      new TestProtocol(peer.url, {
        kind: 'text-ping',
        ping: 'ping',
        pong: 'pong',
        intervalMs: 40,
        timeoutMs: 60,
      }),
      rec,
    );
    await waitFor('second connection', () => peer.sockets.length >= 2);
    await waitFor(
      'resubscribed',
      () => peer.received.filter((m) => m.conn === 1 && m.text.startsWith('sub:')).length === 2,
    );
    assert.equal(rec.ofKind('recycle')[0]?.reason, 'heartbeat timeout: no pong within 60 ms');
    assert.match(r.status().last_error ?? '', /no pong within 60 ms/);
  });

  it('measures protocol ping latency and recycles when pongs stop', async () => {
    const quiet = new Peer();
    await quiet.start(false);
    try {
      const rec = new Recorder();
      const r = run(new TestProtocol(peer.url, { kind: 'ws-ping', intervalMs: 30, timeoutMs: 100 }), rec);
      await waitFor('latency', () => r.status().latency_ms !== null);
      assert.equal(r.counters().recycles, 0);
      await r.close();
      const rec2 = new Recorder();
      run(new TestProtocol(quiet.url, { kind: 'ws-ping', intervalMs: 30, timeoutMs: 60 }), rec2);
      await waitFor('recycled', () => quiet.sockets.length >= 2);
      assert.match(rec2.ofKind('recycle')[0]?.reason ?? '', /heartbeat timeout/);
    } finally {
      await runner?.close();
      await quiet.stop();
    }
  });

  it('recycles a silent connection (watchdog) and reports a gap once data flows again', async () => {
    let silent = true;
    peer.onConnection = (socket) => {
      if (peer.sockets.length === 1 || !silent) socket.send('{"s":"A"}');
    };
    const rec = new Recorder();
    const r = run(new TestProtocol(peer.url), rec, { silenceTimeoutMs: 80 });
    await waitFor('second connection', () => peer.sockets.length >= 2);
    assert.match(rec.ofKind('recycle')[0]?.reason ?? '', /^silence: no frame for \d+ ms$/);
    silent = false;
    await waitFor('gap', () => rec.ofKind('gap').length === 1, 3000);
    const gap = rec.ofKind('gap')[0];
    assert.ok(gap && gap.to >= gap.from);
    assert.equal(gap?.reason, 'connection lost');
    assert.ok(rec.statuses.some((s) => s.kind === 'disconnected'));
    assert.ok(r.status().reconnect_count >= 1);
  });

  it('detects one frozen symbol on a live connection and reports it fresh when it returns', async () => {
    let sendB = false;
    peer.onConnection = (socket) => {
      const t = setInterval(() => {
        socket.send('{"s":"A"}');
        if (sendB) socket.send('{"s":"B"}');
      }, 10);
      socket.on('close', () => clearInterval(t));
    };
    const { logger, lines } = capturingLogger();
    const rec = new Recorder();
    const r = run(new TestProtocol(peer.url), rec, { staleSymbolMs: 100, logger });
    await waitFor('stale B', () => rec.ofKind('stale').length === 1);
    assert.equal(rec.ofKind('stale')[0]?.symbol, 'B');
    assert.deepEqual(r.status().stale_symbols, ['B']);
    assert.equal(r.status().is_healthy, false);
    assert.equal(r.status().connected, true);
    assert.equal(r.counters().staleEvents, 1);
    assert.ok(lines.some((l) => l.msg === 'symbol stale on a live connection'));
    sendB = true;
    await waitFor('fresh B', () => rec.ofKind('fresh').length === 1);
    assert.deepEqual(r.status().stale_symbols, []);
    assert.equal(r.status().is_healthy, true);
    assert.equal(peer.sockets.length, 1, 'a frozen symbol does not recycle the connection');
  });

  it('recycles a connection whose heartbeats flow but whose symbols all went silent, when asked to', async () => {
    let data = true;
    peer.onConnection = (socket) => {
      const t = setInterval(() => socket.send(data ? '{"s":"A"}' : '{"ack":1}'), 10);
      socket.on('close', () => clearInterval(t));
      if (data) setTimeout(() => socket.send('{"s":"B"}'), 5);
    };
    const rec = new Recorder();
    const r = run(new TestProtocol(peer.url), rec, { staleSymbolMs: 120, recycleWhenAllStale: true });
    await waitFor('healthy', () => r.status().messages_received > 3);
    data = false;
    await waitFor('recycled', () => rec.ofKind('recycle').length >= 1, 3000);
    assert.equal(rec.ofKind('recycle')[0]?.reason, 'no data for any symbol in 120 ms');
    await waitFor('a new connection', () => peer.sockets.length >= 2);
    // Without the option the same silence only marks the symbols stale.
    await r.close();
    peer.reset();
    const rec2 = new Recorder();
    peer.onConnection = (socket) => {
      const t = setInterval(() => socket.send('{"ack":1}'), 10);
      socket.on('close', () => clearInterval(t));
    };
    const r2 = run(new TestProtocol(peer.url), rec2, { staleSymbolMs: 120 });
    await waitFor('both stale', () => r2.status().stale_symbols.length === 2, 3000);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(peer.sockets.length, 1);
    assert.equal(rec2.ofKind('recycle').length, 0);
  });

  it('counts malformed frames and handler throws without dropping the connection', async () => {
    const { logger, lines } = capturingLogger();
    const rec = new Recorder();
    const protocol = new TestProtocol(peer.url);
    const r = run(protocol, rec, { logger });
    await waitFor('open', () => peer.sockets.length === 1 && r.status().connected);
    const s = peer.latest();
    s.send('{"what":1}');
    s.send('{"what":2}');
    s.send('not json at all');
    s.send(Buffer.from([1, 2, 3]), { binary: true });
    s.send('{"s":"A"}');
    await waitFor('data', () => r.status().messages_received === 5);
    const st = r.status();
    assert.equal(st.malformed_frames, 4);
    assert.equal(st.connected, true);
    assert.equal(peer.sockets.length, 1);
    const warned = lines.filter((l) => l.msg.startsWith('frame not understood'));
    assert.equal(warned.length, 3, 'logged once per kind: unknown, handler-threw, binary');
  });

  it('surfaces a refused subscription in status, events and logs, then resends it', async () => {
    const { logger, lines } = capturingLogger();
    const rec = new Recorder();
    let refused = false;
    peer.onText = (socket, text) => {
      if (text === 'sub:B' && !refused) {
        refused = true;
        socket.send(JSON.stringify({ reject: 'Invalid request: too many streams', resend: 'sub:B' }));
      }
    };
    const r = run(new TestProtocol(peer.url), rec, { logger, resubscribeDelayMs: 20 });
    await waitFor('resent', () => peer.received.filter((m) => m.text === 'sub:B').length === 2);
    const st = r.status();
    assert.equal(st.rejected_subscriptions, 1);
    assert.equal(st.last_error, 'Invalid request: too many streams');
    assert.equal(rec.ofKind('rejected')[0]?.message, 'Invalid request: too many streams');
    assert.ok(lines.some((l) => l.msg === 'subscription refused: Invalid request: too many streams'));
  });

  it('reconnects at once on a venue recycle notice and resubscribes everything', async () => {
    peer.onConnection = (socket) => socket.send('{"s":"A"}');
    const rec = new Recorder();
    const r = run(new TestProtocol(peer.url), rec, { backoff: { initialMs: 5_000, maxMs: 5_000 } });
    await waitFor('healthy', () => r.status().messages_received === 1);
    const t0 = performance.now();
    peer.latest().send('{"recycle":"server shutdown"}');
    await waitFor('resubscribed', () => peer.received.filter((m) => m.conn === 1).length === 2);
    assert.ok(performance.now() - t0 < 1000, 'no backoff wait after a recycle notice');
    assert.deepEqual(
      peer.received.filter((m) => m.conn === 1).map((m) => m.text),
      ['sub:A', 'sub:B'],
    );
    assert.equal(rec.ofKind('recycle')[0]?.reason, 'server shutdown');
    assert.equal(r.status().reconnect_count, 1);
  });

  it('paces subscribes to the venue limit per sliding second and per hour', async () => {
    const protocol = new TestProtocol(peer.url, { kind: 'server-ping' }, { messagesPerSecond: 10 });
    protocol.frames = Array.from({ length: 25 }, (_, i) => `sub:${i}`);
    run(protocol, new Recorder());
    await waitFor('all subscribes', () => peer.received.length === 25, 5000);
    const times = peer.received.map((m) => m.at);
    for (let i = 10; i < times.length; i++) {
      const window = (times[i] as number) - (times[i - 10] as number);
      assert.ok(window >= 990, `messages ${i - 10}..${i} within ${window} ms`);
    }
    assert.deepEqual(
      peer.received.map((m) => m.text),
      protocol.frames,
    );
    await runner?.close();
    peer.reset();
    // 3 subscribes per hour: after a reconnect the 4th waits (hour window), other messages are not held back.
    const hourly = new TestProtocol(
      peer.url,
      { kind: 'server-ping' },
      { messagesPerSecond: 50, subscribesPerHour: 3 },
    );
    hourly.frames = ['sub:1', 'sub:2', 'sub:3', 'sub:4'];
    const r = run(hourly, new Recorder());
    await waitFor('3 subscribes', () => peer.received.length === 3);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(peer.received.length, 3);
    assert.equal(r.send('hello'), true);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(peer.received.length, 3, 'the queue keeps order: a message waits behind the held subscribe');
  });

  it('falls back to REST polling after N failed reconnects and back to the websocket when healthy', async () => {
    const refused = `ws://127.0.0.1:${await refusedPort()}/`;
    let live = false;
    peer.onConnection = (socket) => {
      const t = setInterval(() => socket.send('{"s":"A"}'), 10);
      socket.on('close', () => clearInterval(t));
    };
    const protocol = new TestProtocol(() => (live ? peer.url : refused), undefined, undefined, true);
    let aborted = 0;
    protocol.pollImpl = (_kind, signal) =>
      new Promise<void>((resolve) => {
        const onAbort = (): void => {
          aborted++;
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, 5);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    const rec = new Recorder();
    const r = run(protocol, rec, {
      fallback: { afterFailures: 3, pollIntervalMs: 60, pricePollIntervalMs: 20 },
      backoff: { initialMs: 10, maxMs: 30 },
    });
    await waitFor('polling', () => r.status().mode === 'polling');
    assert.ok(r.status().consecutive_failures >= 3);
    assert.equal(rec.ofKind('mode')[0]?.mode, 'polling');
    assert.match(rec.ofKind('mode')[0]?.reason ?? '', /3 consecutive failed connections/);
    await waitFor(
      'both poll kinds',
      () => protocol.polls.includes('full') && protocol.polls.filter((k) => k === 'prices').length >= 2,
    );
    assert.equal(r.status().is_healthy, false);
    // Reconnects continue in the background while polling.
    const failures = r.status().consecutive_failures;
    await waitFor('more attempts', () => r.status().consecutive_failures > failures + 2);
    live = true;
    await waitFor('websocket again', () => r.status().mode === 'websocket');
    assert.deepEqual(
      rec.ofKind('mode').map((e) => e.mode),
      ['polling', 'websocket'],
    );
    assert.equal(r.status().consecutive_failures, 0);
    const pollsAtSwitch = protocol.polls.length;
    await new Promise((res) => setTimeout(res, 150));
    assert.equal(protocol.polls.length, pollsAtSwitch, 'no poll after the switch back');
    assert.equal(r.counters().modeSwitches, 2);
    assert.ok(aborted <= 2, 'only polls in flight at the switch are aborted');
  });

  it('counts failed polls as errors and keeps polling', async () => {
    const refused = `ws://127.0.0.1:${await refusedPort()}/`;
    const protocol = new TestProtocol(refused, undefined, undefined, true);
    protocol.pollImpl = () => Promise.reject(new Error('HTTP 429 (retry after 7 s)'));
    const r = run(protocol, new Recorder(), {
      fallback: { afterFailures: 1, pollIntervalMs: 20, pricePollIntervalMs: 0 },
    });
    await waitFor('failed polls', () => r.counters().pollErrors >= 3);
    assert.equal(r.status().mode, 'polling');
    assert.ok(protocol.polls.every((k) => k === 'full'));
  });

  it('rejects invalid options with a clear error', () => {
    assert.throws(
      () =>
        new ConnectionRunner(new TestProtocol(peer.url), new Recorder().handlers, {
          logger: pino({ level: 'silent' }),
          connectTimeoutMs: -1,
        }),
      /connectTimeoutMs must be a positive number/,
    );
  });
});
