import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { freePort } from '../../../test/support/free-port.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { ManualClock } from '../../util/clock.ts';
import type { StreamEvent, StreamStatus } from '../venue.ts';
import type {
  ConnectionProtocol,
  FrameOutcome,
  HeartbeatRule,
  PollKind,
  VenueLimits,
} from './connection-protocol.ts';
import { ConnectionRunner, type ConnectionRunnerOptions } from './runner.ts';
import { SlidingWindowLimiter } from './send-limiter.ts';
import { TurnBudget } from '../../util/turn-budget.ts';

/*
 * The runner's sockets are real (loopback servers) but its time is a ManualClock: every backoff, heartbeat,
 * watchdog, staleness check, pacing delay and poll fires only when a test moves the clock, so what the tests
 * assert about time holds however slow the machine is. Tests wait (with generous timeouts) only for socket events.
 */

const T0 = Date.UTC(2026, 0, 5, 12);

/**
 * A tiny venue for the runner: `{"s":"A"}` is data of symbol A, `{"reject":"msg","resend":"..."}` a refused
 * subscription, `{"recycle":"why"}` a venue recycle notice, `{"ack":1}` a control frame; anything else is malformed.
 * Each connection attempt is timestamped on the clock (the runner asks for the URL as it connects).
 */
class TestProtocol implements ConnectionProtocol {
  readonly venue = 'binance' as const;
  readonly attempts: number[] = [];
  readonly polls: PollKind[] = [];
  pollImpl: ((kind: PollKind, signal: AbortSignal) => Promise<void>) | undefined;
  urlFn: () => string;
  frames: string[] = ['sub:A', 'sub:B'];
  readonly poll: ((kind: PollKind, signal: AbortSignal) => Promise<void>) | undefined;

  constructor(
    private readonly clock: ManualClock,
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

  /** Set to make this a private stream: `{"login":"ok"}` accepts, `{"login":"<why>"}` refuses. */
  loginFrames: (() => readonly string[]) | undefined;

  url(): string {
    this.attempts.push(this.clock.now());
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
  /** Every text frame handed to handleFrame, in order. */
  readonly handled: string[] = [];

  handleFrame(text: string): FrameOutcome {
    this.handled.push(text);
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
    if (msg['login'] === 'ok') return { kind: 'loggedIn' };
    if (typeof msg['login'] === 'string') return { kind: 'loginFailed', message: msg['login'] };
    return { kind: 'malformed', key: 'unknown', reason: `no known field in ${text.slice(0, 40)}` };
  }
}

/** TestProtocol counting its subscribes' answers: `{"ack":1}` answers one. */
class AnsweredProtocol extends TestProtocol {
  private unanswered = 0;
  override subscribeFrames(): readonly string[] {
    this.unanswered = this.frames.length;
    return this.frames;
  }
  override handleFrame(text: string): FrameOutcome {
    if (text === '{"ack":1}') this.unanswered = Math.max(0, this.unanswered - 1);
    return super.handleFrame(text);
  }
  unansweredSubscribes(): number {
    return this.unanswered;
  }
}

/** A loopback WebSocket venue recording every connection and every text frame received (at the test's clock). */
class Peer {
  readonly sockets: WebSocket[] = [];
  readonly received: { at: number; text: string; conn: number }[] = [];
  onText: ((socket: WebSocket, text: string) => void) | undefined;
  onConnection: ((socket: WebSocket) => void) | undefined;
  clock = new ManualClock(T0);
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
        this.received.push({ at: this.clock.now(), text, conn });
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

  /**
   * Resolves once every frame the client sent before now has arrived: a protocol ping goes out, and the client's
   * automatic pong comes back behind them on the same TCP stream.
   */
  async roundTrip(socket = this.latest()): Promise<void> {
    const pong = once(socket, 'pong');
    socket.ping();
    await pong;
  }

  texts(conn?: number): string[] {
    return this.received.filter((m) => conn === undefined || m.conn === conn).map((m) => m.text);
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

/** Polls `predicate` until it holds; the timeout is generous, since it only bounds waiting for sockets. */
async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
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
  statusesOf<K extends StreamStatus['kind']>(kind: K): Extract<StreamStatus, { kind: K }>[] {
    return this.statuses.filter((s): s is Extract<StreamStatus, { kind: K }> => s.kind === kind);
  }
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
  let clock = new ManualClock(T0);
  let runner: ConnectionRunner | undefined;
  const fast: Partial<ConnectionRunnerOptions> = {
    backoff: { initialMs: 10, maxMs: 40 },
    connectTimeoutMs: 1000,
    closeTimeoutMs: 200,
  };

  before(() => peer.start());
  after(() => peer.stop());
  beforeEach(() => {
    clock = new ManualClock(T0);
    peer.clock = clock;
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    peer.reset();
  });

  function protocol(
    url: string | (() => string),
    heartbeat?: HeartbeatRule,
    limits?: VenueLimits,
    withPoll = false,
  ): TestProtocol {
    return new TestProtocol(clock, url, heartbeat, limits, withPoll);
  }

  /** Moves the clock 1 ms at a time until `done()` holds, so that it stops exactly where a timer made it true. */
  function advanceUntil(what: string, done: () => boolean, maxMs: number): void {
    for (let ms = 0; !done(); ms++) {
      if (ms >= maxMs) assert.fail(`${what} did not happen within ${maxMs} ms`);
      clock.advance(1);
    }
  }

  function run(
    p: ConnectionProtocol,
    rec: Recorder,
    options: Partial<ConnectionRunnerOptions> = {},
  ): ConnectionRunner {
    runner = new ConnectionRunner(p, rec.handlers, {
      logger: pino({ level: 'silent' }),
      clock,
      ...fast,
      ...options,
    });
    runner.start();
    return runner;
  }

  /** Sends `text` from the peer's latest socket and waits until the runner has counted it. */
  async function serverSends(r: ConnectionRunner, text: string): Promise<void> {
    const before = r.status().messages_received;
    peer.latest().send(text);
    await waitFor(`the runner to receive ${text}`, () => r.status().messages_received > before);
  }

  /** Waits until every attempt made so far has failed (the next one is then scheduled on the clock). */
  async function attemptsFailed(r: ConnectionRunner, p: TestProtocol): Promise<void> {
    await waitFor(
      `attempt ${p.attempts.length} to fail`,
      () => r.status().consecutive_failures >= p.attempts.length,
    );
  }

  it('connects, subscribes, reports the status fields and turns healthy on data', async () => {
    const rec = new Recorder();
    const r = run(protocol(peer.url), rec);
    await waitFor('subscribes', () => peer.received.length === 2);
    assert.deepEqual(peer.texts(), ['sub:A', 'sub:B']);
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
    assert.equal(s.last_heartbeat, new Date(T0).toISOString(), 'times come from the injected clock');
    assert.equal(s.messages_received, 2);
    assert.equal(s.mode, 'websocket');
    assert.deepEqual(s.stale_symbols, []);
    assert.equal(s.consecutive_failures, 0);
    assert.deepEqual(
      rec.statuses.map((x) => x.kind),
      ['connected'],
    );
  });

  it('waits between attempts within the full-jitter bounds of the injected random', async () => {
    // A TCP listener that accepts and immediately closes: every attempt fails fast.
    const tcp = createServer((socket: Socket) => socket.destroy());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(tcp.address() as AddressInfo).port}/`;
    try {
      const p = protocol(url);
      // random 0.999 → delay just under each ceiling: 60, 120, 240, 240 ms (initial 60, cap 240; uncapped: 480).
      const r = run(p, new Recorder(), {
        random: () => 0.999,
        backoff: { initialMs: 60, maxMs: 240 },
        fallback: { afterFailures: 0 },
      });
      while (p.attempts.length < 5) {
        await attemptsFailed(r, p);
        const next = p.attempts.length + 1;
        advanceUntil(`attempt ${next}`, () => p.attempts.length === next, 240);
      }
      const gaps = p.attempts.slice(1, 5).map((t, i) => t - (p.attempts[i] as number));
      const ceilings = [60, 120, 240, 240];
      gaps.forEach((gap, i) => {
        const ceiling = ceilings[i] as number;
        assert.ok(gap >= ceiling * 0.999 - 2, `gap ${i} = ${gap} ms, expected ≥ ${ceiling * 0.999}`);
        assert.equal(
          gap,
          Math.floor(ceiling * 0.999),
          `gap ${i}: just under the ceiling, never the next one`,
        );
      });
      assert.ok(r.status().consecutive_failures >= 4);
      assert.ok(r.status().reconnect_count >= 4);
    } finally {
      await runner?.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it('reconnects at once with random 0 and counts the attempts', async () => {
    const port = await freePort();
    const p = protocol(`ws://127.0.0.1:${port}/`);
    const r = run(p, new Recorder(), {
      random: () => 0,
      backoff: { initialMs: 5_000, maxMs: 16_000 },
      fallback: { afterFailures: 0 },
    });
    // With random 0 even a 5 s ceiling waits the least full jitter gives: 1 ms.
    while (r.status().reconnect_count < 10) {
      await attemptsFailed(r, p);
      clock.advance(1);
    }
    assert.equal(clock.now() - T0, 10);
    assert.ok(r.status().errors >= 10);
    assert.match(r.status().last_error ?? '', /ECONNREFUSED/);
  });

  it('spaces connection attempts to the venue limit even when reconnects are immediate', async () => {
    const port = await freePort();
    const p = protocol(
      `ws://127.0.0.1:${port}/`,
      { kind: 'server-ping' },
      {
        connectAttempts: { count: 3, windowMs: 300 },
      },
    );
    const r = run(p, new Recorder(), { random: () => 0, fallback: { afterFailures: 0 } });
    while (p.attempts.length < 7) {
      await attemptsFailed(r, p);
      const next = p.attempts.length + 1;
      advanceUntil(`attempt ${next}`, () => p.attempts.length === next, 1_000);
    }
    assert.equal(r.counters().connects, 7);
    const took = (p.attempts[6] as number) - (p.attempts[0] as number);
    // Attempts 1-3 at once, 4-6 after one window, 7 after two.
    assert.ok(took >= 600, `7 attempts within ${took} ms`);
    for (let i = 3; i < p.attempts.length; i++) {
      const window = (p.attempts[i] as number) - (p.attempts[i - 3] as number);
      assert.ok(window >= 300, `attempts ${i - 3}..${i} within ${window} ms`);
    }
  });

  it('gives up a handshake after the connect timeout', async () => {
    // Accepts TCP but never answers the HTTP upgrade. The timeout is long, so that only the runner's own timer
    // (on the manual clock), not ws's real-time handshake timeout, can end the attempt.
    const held: Socket[] = [];
    const tcp = createServer((s) => held.push(s));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const rec = new Recorder();
      const r = run(protocol(`ws://127.0.0.1:${(tcp.address() as AddressInfo).port}/`), rec, {
        connectTimeoutMs: 60_000,
        backoff: { initialMs: 1000, maxMs: 1000 },
        fallback: { afterFailures: 0 },
      });
      await waitFor('the TCP connection', () => held.length === 1);
      clock.advance(60_000 + 100);
      await waitFor('first failure', () => r.status().consecutive_failures === 1);
      assert.equal(r.status().connected, false);
      assert.equal(r.status().last_error, 'connect timeout after 60000 ms');
      const ended = rec.statusesOf('error')[0];
      assert.equal(ended?.at, T0 + 60_000 + 100, 'the handshake ended on time, not before');
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it('sends a text ping, measures the pong round trip and stays connected', async () => {
    const r = run(
      protocol(peer.url, { kind: 'text-ping', ping: 'ping', pong: 'pong', intervalMs: 60 }),
      new Recorder(),
    );
    await waitFor('open', () => peer.received.length === 2);
    for (let k = 1; k <= 3; k++) {
      clock.advanceTo(T0 + 60 * k);
      await waitFor(`ping ${k}`, () => peer.texts().filter((t) => t === 'ping').length === k);
      clock.advance(10 + k);
      peer.latest().send('pong');
      await waitFor(`pong ${k}`, () => r.status().latency_ms === 10 + k);
    }
    const latency = r.status().latency_ms ?? 0;
    assert.ok(latency >= 10, `latency ${latency}`);
    assert.equal(peer.sockets.length, 1, 'answered pings keep the connection');
    assert.equal(r.counters().recycles, 0);
  });

  it('sends text pings only when idle with idleOnly', async () => {
    const r = run(
      protocol(peer.url, {
        kind: 'text-ping',
        ping: 'ping',
        pong: 'pong',
        intervalMs: 50,
        idleOnly: true,
      }),
      new Recorder(),
    );
    await waitFor('open', () => peer.received.length === 2);
    // Data every 25 ms for 250 ms: the connection is never idle for a ping interval.
    for (let t = 0; t < 250; t += 25) {
      await serverSends(r, '{"s":"A"}');
      clock.advance(25);
    }
    await peer.roundTrip();
    assert.equal(peer.texts().filter((t) => t === 'ping').length, 0);
    // Idle for a whole interval: now it pings.
    clock.advance(100);
    await waitFor('a ping once idle', () => peer.texts().includes('ping'));
  });

  it('recycles a connection whose pong does not come, and resubscribes', async () => {
    const rec = new Recorder();
    const r = run(
      protocol(peer.url, {
        kind: 'text-ping',
        ping: 'ping',
        pong: 'pong',
        intervalMs: 40,
        timeoutMs: 60,
      }),
      rec,
    );
    await waitFor('open', () => peer.received.length === 2);
    clock.advance(40);
    await waitFor('ping', () => peer.texts().includes('ping'));
    clock.advance(60);
    await waitFor('the failed connection', () => r.status().consecutive_failures === 1);
    clock.advance(40);
    await waitFor('second connection', () => peer.sockets.length >= 2);
    await waitFor('resubscribed', () => peer.texts(1).filter((t) => t.startsWith('sub:')).length === 2);
    assert.equal(rec.ofKind('recycle')[0]?.reason, 'heartbeat timeout: no pong within 60 ms');
    assert.match(r.status().last_error ?? '', /no pong within 60 ms/);
  });

  it('times a server-ping connection with pings of its own, by their payload, and a missing pong is no fault', async () => {
    const quiet = new Peer();
    await quiet.start(false);
    try {
      const pings: string[] = [];
      quiet.onConnection = (socket) => socket.on('ping', (data: Buffer) => pings.push(data.toString()));
      const r = run(protocol(quiet.url, { kind: 'server-ping', latencyPingMs: 50 }), new Recorder());
      await waitFor('open', () => r.status().connected);
      clock.advance(50);
      await waitFor('first ping', () => pings.length === 1);
      // Not answered: no latency, and the connection stays (the server's pings judge it, not ours).
      clock.advance(50);
      await waitFor('second ping', () => pings.length === 2);
      assert.notEqual(pings[0], pings[1]);
      // The first ping's late pong does not time the second; the second's does.
      quiet.latest().pong(pings[0]);
      await quiet.roundTrip();
      assert.equal(r.status().latency_ms, null);
      clock.advance(7);
      quiet.latest().pong(pings[1]);
      await waitFor('latency', () => r.status().latency_ms === 7);
      assert.equal(quiet.sockets.length, 1);
      assert.equal(r.counters().recycles, 0);
    } finally {
      await runner?.close();
      await quiet.stop();
    }
  });

  it('measures protocol ping latency and recycles when pongs stop', async () => {
    const quiet = new Peer();
    await quiet.start(false);
    try {
      const r = run(protocol(peer.url, { kind: 'ws-ping', intervalMs: 30, timeoutMs: 100 }), new Recorder());
      await waitFor('open', () => r.status().connected);
      clock.advance(30);
      await waitFor('latency', () => r.status().latency_ms !== null);
      assert.equal(r.counters().recycles, 0);
      await r.close();
      const rec2 = new Recorder();
      const r2 = run(protocol(quiet.url, { kind: 'ws-ping', intervalMs: 30, timeoutMs: 60 }), rec2);
      await waitFor('open', () => r2.status().connected);
      clock.advance(30 + 60);
      await waitFor('the failed connection', () => r2.status().consecutive_failures === 1);
      clock.advance(40);
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
    const r = run(protocol(peer.url), rec, { silenceTimeoutMs: 80 });
    await waitFor('data', () => r.status().messages_received === 1);
    clock.advance(80);
    await waitFor('disconnected', () => rec.statusesOf('disconnected').length === 1);
    clock.advance(0);
    await waitFor('second connection', () => peer.sockets.length >= 2 && r.status().connected);
    assert.match(rec.ofKind('recycle')[0]?.reason ?? '', /^silence: no frame for \d+ ms$/);
    assert.equal(rec.ofKind('recycle')[0]?.reason, 'silence: no frame for 80 ms');
    silent = false;
    // The second connection stays silent too and is recycled in turn; the third delivers data.
    clock.advance(80);
    await waitFor('the silent second connection to fail', () => r.status().consecutive_failures === 1);
    clock.advance(40);
    await waitFor('gap', () => rec.ofKind('gap').length === 1);
    const gap = rec.ofKind('gap')[0];
    assert.ok(gap && gap.to >= gap.from);
    assert.equal(gap?.reason, 'connection lost');
    assert.deepEqual([gap?.from, gap?.to], [T0, clock.now()], 'from the last data to the first data after');
    assert.ok(rec.statuses.some((s) => s.kind === 'disconnected'));
    assert.ok(r.status().reconnect_count >= 1);
  });

  it('detects one frozen symbol on a live connection and reports it fresh when it returns', async () => {
    const { logger, lines } = capturingLogger();
    const rec = new Recorder();
    const r = run(protocol(peer.url), rec, { staleSymbolMs: 100, logger });
    await waitFor('open', () => peer.received.length === 2);
    // A every 25 ms, B never.
    while (rec.ofKind('stale').length === 0 && clock.now() - T0 < 1_000) {
      await serverSends(r, '{"s":"A"}');
      clock.advance(25);
    }
    assert.equal(rec.ofKind('stale').length, 1);
    assert.equal(rec.ofKind('stale')[0]?.symbol, 'B');
    assert.equal(rec.ofKind('stale')[0]?.at, T0 + 100, 'stale once the window has passed');
    assert.deepEqual(r.status().stale_symbols, ['B']);
    assert.equal(r.status().is_healthy, false);
    assert.equal(r.status().connected, true);
    assert.equal(r.counters().staleEvents, 1);
    assert.ok(lines.some((l) => l.msg === 'symbol stale on a live connection'));
    await serverSends(r, '{"s":"B"}');
    assert.equal(rec.ofKind('fresh').length, 1);
    assert.deepEqual(r.status().stale_symbols, []);
    assert.equal(r.status().is_healthy, true);
    assert.equal(peer.sockets.length, 1, 'a frozen symbol does not recycle the connection');
  });

  it('recycles a connection whose heartbeats flow but whose symbols all went silent, when asked to', async () => {
    const rec = new Recorder();
    const r = run(protocol(peer.url), rec, { staleSymbolMs: 120, recycleWhenAllStale: true });
    await waitFor('open', () => peer.received.length === 2);
    await serverSends(r, '{"s":"A"}');
    await serverSends(r, '{"s":"B"}');
    // Only acks from now on: the connection lives, the data is gone.
    while (rec.ofKind('recycle').length === 0 && clock.now() - T0 < 1_000) {
      await serverSends(r, '{"ack":1}');
      clock.advance(30);
    }
    assert.equal(rec.ofKind('recycle')[0]?.reason, 'no data for any symbol in 120 ms');
    await waitFor('disconnected', () => rec.statusesOf('disconnected').length === 1);
    clock.advance(0);
    await waitFor('a new connection', () => peer.sockets.length >= 2);
    // Without the option the same silence only marks the symbols stale.
    await r.close();
    peer.reset();
    const rec2 = new Recorder();
    const r2 = run(protocol(peer.url), rec2, { staleSymbolMs: 120 });
    await waitFor('open', () => peer.received.length === 2);
    for (let t = 0; t < 400; t += 30) {
      await serverSends(r2, '{"ack":1}');
      clock.advance(30);
    }
    assert.equal(r2.status().stale_symbols.length, 2);
    await peer.roundTrip();
    assert.equal(peer.sockets.length, 1);
    assert.equal(rec2.ofKind('recycle').length, 0);
  });

  it('recycles a connection that delivers nothing while its subscribes stay unanswered, not one that delivers data', async () => {
    // A venue that lost the requests (it stopped answering while the socket opened): pings are answered, nothing
    // else ever comes. The second connection's subscribes are answered.
    const rec = new Recorder();
    const p = new AnsweredProtocol(clock, peer.url);
    peer.onText = (socket, text) => {
      if (peer.sockets.indexOf(socket) >= 1 && text.startsWith('sub:')) socket.send('{"ack":1}');
    };
    const r = run(p, rec, { subscribeAnswerTimeoutMs: 500 });
    await waitFor('subscribes', () => peer.received.length === 2);
    await peer.roundTrip();
    clock.advance(499);
    await peer.roundTrip();
    assert.equal(rec.ofKind('recycle').length, 0);
    clock.advance(1);
    assert.equal(rec.ofKind('recycle')[0]?.reason, 'no data, 2 subscribe(s) unanswered after 500 ms');
    await waitFor('disconnected', () => rec.statusesOf('disconnected').length === 1);
    assert.equal(r.status().consecutive_failures, 1, 'a connection that never delivered: a failed one');
    advanceUntil('a new connection', () => p.attempts.length === 2, 1_000);
    await waitFor('answered', () => p.unansweredSubscribes() === 0 && peer.received.length === 4);
    clock.advance(1_000);
    await peer.roundTrip();
    assert.equal(rec.ofKind('recycle').length, 1, 'answered: kept');

    // Data flows while a subscribe stays unanswered: the venue answers, the connection is kept.
    await r.close();
    peer.reset();
    const rec2 = new Recorder();
    const p2 = new AnsweredProtocol(clock, peer.url);
    const r2 = run(p2, rec2, { subscribeAnswerTimeoutMs: 500 });
    await waitFor('subscribes', () => peer.received.length === 2);
    await serverSends(r2, '{"ack":1}');
    await serverSends(r2, '{"s":"A"}');
    clock.advance(1_000);
    await peer.roundTrip();
    assert.equal(p2.unansweredSubscribes(), 1);
    assert.equal(rec2.ofKind('recycle').length, 0);
    assert.equal(peer.sockets.length, 1);
  });

  it('processes a burst of frames over several turns when it outlasts the turn budget, in order, none lost on close', async () => {
    // Each frame "takes" 1 ms of the budget's time: with a 3 ms budget a turn processes three frames.
    let now = 0;
    const turns = new TurnBudget({ budgetMs: 3, now: () => now });
    const p = protocol(peer.url);
    const original = p.handleFrame.bind(p);
    p.handleFrame = (text: string) => {
      now += 1;
      return original(text);
    };
    const rec = new Recorder();
    const r = run(p, rec, { turns });
    await waitFor('open', () => peer.sockets.length === 1 && r.status().connected);
    const burst = Array.from({ length: 40 }, (_, i) => `{"s":"${i % 2 === 0 ? 'A' : 'B'}","n":${i}}`);
    const socket = peer.latest();
    for (const text of burst) socket.send(text);
    await waitFor('the burst processed', () => p.handled.length === 40);
    assert.deepEqual(p.handled, burst, 'every frame, in the order sent');
    assert.ok(turns.stats().deferred > 0, 'the burst waited for later turns');
    assert.equal(r.status().messages_received, 40);
    assert.equal(r.status().is_healthy, true);

    // A burst followed by the close: what arrived before the close is processed before the close is.
    p.handled.length = 0;
    for (const text of burst) socket.send(text);
    socket.close(1000, 'bye');
    await waitFor('the close', () => rec.statusesOf('disconnected').length === 1);
    assert.deepEqual(p.handled, burst, 'the frames received before the close are all processed');
  });

  it('counts malformed frames and handler throws without dropping the connection', async () => {
    const { logger, lines } = capturingLogger();
    const rec = new Recorder();
    const p = protocol(peer.url);
    const r = run(p, rec, { logger });
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
    // random 0.5: the resend waits its first delay exactly (20 ms, ±20% by the random).
    const r = run(protocol(peer.url), rec, { logger, resubscribeDelayMs: 20, random: () => 0.5 });
    await waitFor('the refusal', () => rec.ofKind('rejected').length === 1);
    clock.advance(19);
    await peer.roundTrip();
    assert.equal(peer.texts().filter((t) => t === 'sub:B').length, 1, 'not resent before its delay');
    clock.advance(1);
    await waitFor('resent', () => peer.texts().filter((t) => t === 'sub:B').length === 2);
    const st = r.status();
    assert.equal(st.rejected_subscriptions, 1);
    assert.equal(st.last_error, 'Invalid request: too many streams');
    assert.equal(rec.ofKind('rejected')[0]?.message, 'Invalid request: too many streams');
    assert.ok(lines.some((l) => l.msg === 'subscription refused: Invalid request: too many streams'));
  });

  it('reconnects at once on a venue recycle notice and resubscribes everything', async () => {
    peer.onConnection = (socket) => socket.send('{"s":"A"}');
    const rec = new Recorder();
    const r = run(protocol(peer.url), rec, { backoff: { initialMs: 5_000, maxMs: 5_000 } });
    await waitFor('healthy', () => r.status().messages_received === 1);
    peer.latest().send('{"recycle":"server shutdown"}');
    await waitFor('disconnected', () => rec.statusesOf('disconnected').length === 1);
    clock.advance(0);
    await waitFor('resubscribed', () => peer.texts(1).length === 2);
    assert.equal(clock.now(), T0, 'no backoff wait after a recycle notice');
    assert.deepEqual(peer.texts(1), ['sub:A', 'sub:B']);
    assert.equal(rec.ofKind('recycle')[0]?.reason, 'server shutdown');
    assert.equal(r.status().reconnect_count, 1);
  });

  it('paces subscribes to the venue limit per sliding second and per hour', async () => {
    const p = protocol(peer.url, { kind: 'server-ping' }, { messagesPerSecond: 10 });
    p.frames = Array.from({ length: 25 }, (_, i) => `sub:${i}`);
    run(p, new Recorder());
    await waitFor('the first subscribes', () => peer.received.length > 0);
    await peer.roundTrip();
    // In 25 ms steps, each step's frames received (and timestamped) before the next step.
    while (peer.received.length < 25 && clock.now() - T0 < 5_000) {
      clock.advance(25);
      await peer.roundTrip();
    }
    const times = peer.received.map((m) => m.at);
    for (let i = 10; i < times.length; i++) {
      const window = (times[i] as number) - (times[i - 10] as number);
      assert.ok(window >= 990, `messages ${i - 10}..${i} within ${window} ms`);
    }
    assert.deepEqual(peer.texts(), p.frames);
    await runner?.close();
    peer.reset();
    // 3 subscribes per hour: after a reconnect the 4th waits (hour window), other messages are not held back.
    const hourly = protocol(
      peer.url,
      { kind: 'server-ping' },
      { messagesPerSecond: 50, subscribesPerHour: 3 },
    );
    hourly.frames = ['sub:1', 'sub:2', 'sub:3', 'sub:4'];
    const r = run(hourly, new Recorder());
    await waitFor('3 subscribes', () => peer.received.length === 3);
    clock.advance(100);
    await peer.roundTrip();
    assert.equal(peer.received.length, 3);
    assert.equal(r.send('hello'), true);
    clock.advance(50);
    await peer.roundTrip();
    assert.equal(peer.received.length, 3, 'the queue keeps order: a message waits behind the held subscribe');
  });

  it('falls back to REST polling after N failed reconnects and back to the websocket when healthy', async () => {
    const refused = `ws://127.0.0.1:${await freePort()}/`;
    let live = false;
    peer.onConnection = (socket) => socket.send('{"s":"A"}');
    const p = protocol(() => (live ? peer.url : refused), undefined, undefined, true);
    let aborted = 0;
    p.pollImpl = (_kind, signal) =>
      new Promise<void>((resolve) => {
        const onAbort = (): void => {
          aborted++;
          clock.clearTimer(t);
          resolve();
        };
        const t = clock.setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, 5);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    const rec = new Recorder();
    const r = run(p, rec, {
      fallback: { afterFailures: 3, pollIntervalMs: 60, pricePollIntervalMs: 20 },
      backoff: { initialMs: 10, maxMs: 30 },
    });
    while (r.status().mode !== 'polling') {
      await attemptsFailed(r, p);
      clock.advance(30);
    }
    assert.ok(r.status().consecutive_failures >= 3);
    assert.equal(rec.ofKind('mode')[0]?.mode, 'polling');
    assert.match(rec.ofKind('mode')[0]?.reason ?? '', /3 consecutive failed connections/);
    // Reconnects continue in the background while polling.
    const failures = r.status().consecutive_failures;
    while (r.status().consecutive_failures <= failures + 2) {
      await attemptsFailed(r, p);
      clock.advance(30);
    }
    assert.ok(
      p.polls.includes('full') && p.polls.filter((k) => k === 'prices').length >= 2,
      'both poll kinds',
    );
    assert.equal(r.status().is_healthy, false);
    live = true;
    await attemptsFailed(r, p);
    clock.advance(30);
    await waitFor('websocket again', () => r.status().mode === 'websocket');
    assert.deepEqual(
      rec.ofKind('mode').map((e) => e.mode),
      ['polling', 'websocket'],
    );
    assert.equal(r.status().consecutive_failures, 0);
    const pollsAtSwitch = p.polls.length;
    clock.advance(150);
    assert.equal(p.polls.length, pollsAtSwitch, 'no poll after the switch back');
    assert.equal(r.counters().modeSwitches, 2);
    assert.ok(aborted <= 2, 'only polls in flight at the switch are aborted');
  });

  it('counts failed polls as errors and keeps polling', async () => {
    const refused = `ws://127.0.0.1:${await freePort()}/`;
    const p = protocol(refused, undefined, undefined, true);
    p.pollImpl = () => Promise.reject(new Error('HTTP 429 (retry after 7 s)'));
    const r = run(p, new Recorder(), {
      fallback: { afterFailures: 1, pollIntervalMs: 20, pricePollIntervalMs: 0 },
    });
    await waitFor('polling', () => r.status().mode === 'polling');
    for (let i = 0; i < 3; i++) {
      clock.advance(20);
      await waitFor(`failed poll ${i + 2}`, () => r.counters().pollErrors >= i + 2);
    }
    assert.ok(r.counters().pollErrors >= 3);
    assert.equal(r.status().mode, 'polling');
    assert.ok(p.polls.every((k) => k === 'full'));
  });

  it('logs in first and subscribes only after the login is accepted, on every connection', async () => {
    const p = protocol(peer.url);
    let logins = 0;
    p.loginFrames = () => [`login:${++logins}`];
    const rec = new Recorder();
    const r = run(p, rec);
    await waitFor('login frame', () => peer.received.length === 1);
    await peer.roundTrip();
    assert.deepEqual(peer.texts(), ['login:1'], 'nothing but the login before its answer');
    peer.latest().send('{"login":"ok"}');
    await waitFor('subscribes', () => peer.received.length === 3);
    assert.deepEqual(peer.texts(0), ['login:1', 'sub:A', 'sub:B']);
    await serverSends(r, '{"s":"A"}');
    assert.equal(r.status().is_healthy, true);
    // A reconnect logs in again (fresh frames) before resubscribing.
    peer.latest().terminate();
    await waitFor('disconnect seen', () => rec.statusesOf('disconnected').length === 1);
    clock.advance(40);
    await waitFor('second connection', () => peer.sockets.length === 2);
    await waitFor('second login', () => peer.texts(1).length === 1);
    assert.deepEqual(peer.texts(1), ['login:2']);
    peer.latest().send('{"login":"ok"}');
    await waitFor('resubscribed', () => peer.texts(1).length === 3);
    assert.deepEqual(peer.texts(1), ['login:2', 'sub:A', 'sub:B']);
  });

  it('retries a refused login under the login backoff, never falls back to polling for it', async () => {
    const p = protocol(peer.url, undefined, undefined, true);
    p.loginFrames = () => ['login'];
    peer.onText = (socket, text) => {
      if (text === 'login') socket.send('{"login":"30011 invalid ACCESS_KEY"}');
    };
    const rec = new Recorder();
    const r = run(p, rec, {
      random: () => 0.999,
      loginBackoff: { initialMs: 1000, maxMs: 4000 },
      fallback: { afterFailures: 1 },
    });
    for (let n = 1; n <= 4; n++) {
      await waitFor(`refusal ${n}`, () => rec.statusesOf('disconnected').length === n);
      const before = p.attempts.length;
      advanceUntil(`attempt ${n + 1}`, () => p.attempts.length > before, 5000);
    }
    const gaps = p.attempts.slice(1, 5).map((t, i) => t - (p.attempts[i] as number));
    assert.deepEqual(gaps, [999, 1998, 3996, 3996], 'login backoff ceilings 1, 2, 4, 4 s (random 0.999)');
    assert.equal(r.status().mode, 'websocket', 'a wrong key is not an outage: no polling');
    assert.equal(p.polls.length, 0);
    assert.match(r.status().last_error ?? '', /30011 invalid ACCESS_KEY/);
    assert.ok(rec.statusesOf('error').some((e) => /30011/.test(e.message)));
    assert.deepEqual(
      peer.texts().filter((t) => t.startsWith('sub:')),
      [],
      'never subscribed',
    );
  });

  it('drops a connection whose login is not answered within loginTimeoutMs', async () => {
    const p = protocol(peer.url);
    p.loginFrames = () => ['login'];
    const rec = new Recorder();
    const r = run(p, rec, { loginTimeoutMs: 500, random: () => 0 });
    await waitFor('login frame', () => peer.received.length === 1);
    clock.advance(499);
    await peer.roundTrip();
    assert.equal(rec.statusesOf('disconnected').length, 0);
    clock.advance(1);
    await waitFor('drop', () => rec.statusesOf('disconnected').length === 1);
    assert.match(rec.statusesOf('disconnected')[0]?.reason ?? '', /no login answer within 500 ms/);
    await waitFor('failure counted', () => r.status().consecutive_failures === 1);
  });

  it('polls a schedule of kinds, each at its own period, all at once at the switch', async () => {
    const refused = `ws://127.0.0.1:${await freePort()}/`;
    const p = protocol(refused, undefined, undefined, true);
    const r = run(p, new Recorder(), {
      fallback: { afterFailures: 1, schedule: { positions: 20, orders: 50, account: 100 } },
      backoff: { initialMs: 10_000, maxMs: 10_000 },
    });
    await waitFor('polling', () => r.status().mode === 'polling');
    assert.deepEqual(p.polls, ['positions', 'orders', 'account']);
    p.polls.length = 0;
    for (let i = 0; i < 100; i++) {
      clock.advance(1);
      await Promise.resolve();
    }
    const count = (k: string): number => p.polls.filter((x) => x === k).length;
    assert.deepEqual([count('positions'), count('orders'), count('account')], [5, 2, 1]);
  });

  it('rejects invalid options with a clear error', () => {
    assert.throws(
      () =>
        new ConnectionRunner(protocol(peer.url), new Recorder().handlers, {
          logger: pino({ level: 'silent' }),
          connectTimeoutMs: -1,
        }),
      /connectTimeoutMs must be a positive number/,
    );
  });
});
