import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../telemetry/logger.ts';
import { ManualClock } from '../../util/clock.ts';
import { BitgetAccountRest } from './account-rest.ts';
import { BitgetAccountSource } from './account-source.ts';
import { bitgetSign } from './account-sign.ts';
import { BitgetApiError } from './parse.ts';
import { capturingLogger, SourceRecorder, waitFor } from '../../account/source-recorder.test-support.ts';

/*
 * The source against a small loopback server that speaks Bitget's v2 private protocol as documented (EXCHANGES.md
 * §3 and §6): login verified like Bitget (seconds timestamp within 30 s, HMAC over ts+GET+/user/verify, codes
 * 30011-30015 then a close), subscribe acks, pushes in the real frame format, and the signed REST endpoints with
 * their envelopes (4xx + Bitget code on a bad signature). The simulator's private side (branch acct-sim) was not
 * available when this was written. Time is a ManualClock shared by the source and the server: every backoff, poll
 * and heartbeat fires only when a test moves it; tests wait in real time only for socket and HTTP events.
 */

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const CREDS = { apiKey: 'bg_key_4f1c2a', secret: 'bg-secret-9d8e7f6a5b4c', passphrase: 'pass-phrase-xyz' };

interface FakeFill {
  tradeId: string;
  orderId: string;
  price: string;
  size: string;
  fee: string;
  cTime: number;
}

/** A Bitget v2 private endpoint (socket + REST) for one account. */
class FakeBitget {
  readonly clock: ManualClock;
  url = '';
  restUrl = '';
  /** Socket frames received, per connection. */
  readonly frames: string[][] = [];
  readonly sockets: WebSocket[] = [];
  /** Whether new sockets are accepted; false: they are closed at once (the venue is down). */
  accepting = true;
  /** Credentials the venue knows. */
  creds = { ...CREDS };
  fills: FakeFill[] = [];
  /** Pending futures orders as REST lists them. */
  pending: Record<string, string>[] = [];
  restCalls: string[] = [];
  restRefusals = 0;
  /** While set, REST answers wait for it (a slow reconcile). */
  gate: Promise<void> | undefined;
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly loggedIn = new WeakSet<WebSocket>();

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  async start(): Promise<void> {
    this.http = createServer((req, res) => this.onRest(req, res));
    this.wss = new WebSocketServer({ server: this.http, path: '/v2/ws/private' });
    this.wss.on('connection', (socket) => this.onSocket(socket));
    await new Promise<void>((resolve) => this.http?.listen(0, '127.0.0.1', resolve));
    const port = (this.http.address() as AddressInfo).port;
    this.url = `ws://127.0.0.1:${port}/v2/ws/private`;
    this.restUrl = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.wss?.close(() => resolve()));
    this.http?.closeAllConnections();
    await new Promise<void>((resolve) => this.http?.close(() => resolve()));
  }

  dropAll(): void {
    for (const s of this.sockets) s.terminate();
  }

  reset(): void {
    this.dropAll();
    this.sockets.length = 0;
    this.frames.length = 0;
    this.accepting = true;
    this.creds = { ...CREDS };
    this.fills = [];
    this.pending = [];
    this.restCalls = [];
    this.restRefusals = 0;
    this.gate = undefined;
  }

  latest(): WebSocket {
    const s = this.sockets.at(-1);
    assert.ok(s, 'no socket');
    return s;
  }

  /** A new fill: pushed on logged-in sockets when `push`, always listed by REST. */
  addFill(fill: FakeFill, push: boolean): void {
    this.fills.push(fill);
    if (!push) return;
    for (const s of this.sockets) if (this.loggedIn.has(s) && s.readyState === s.OPEN) s.send(fillPush(fill));
  }

  private onSocket(socket: WebSocket): void {
    const conn = this.frames.length;
    this.frames.push([]);
    this.sockets.push(socket);
    if (!this.accepting) {
      socket.close(1013, 'try again later');
      return;
    }
    socket.on('message', (data) => {
      const text = String(data);
      this.frames[conn]?.push(text);
      if (text === 'ping') return socket.send('pong');
      const msg = JSON.parse(text) as { op: string; args: Record<string, string>[] };
      if (msg.op === 'login') return this.login(socket, msg.args[0] ?? {});
      if (msg.op === 'subscribe') {
        if (!this.loggedIn.has(socket))
          return socket.send(JSON.stringify({ event: 'error', code: 30004, msg: 'User not logged in' }));
        for (const arg of msg.args) {
          socket.send(JSON.stringify({ event: 'subscribe', arg }));
          if (arg['channel'] === 'positions') socket.send(positionsPush([]));
        }
      }
    });
  }

  /** Bitget's checks, in its order: key, passphrase, timestamp form, age, signature. */
  private login(socket: WebSocket, arg: Record<string, string>): void {
    const refuse = (code: number, msg: string): void => {
      socket.send(JSON.stringify({ event: 'error', code, msg }));
      socket.close(1000);
    };
    const ts = arg['timestamp'] ?? '';
    if (arg['apiKey'] !== this.creds.apiKey) return refuse(30011, 'Invalid ACCESS_KEY');
    if (arg['passphrase'] !== this.creds.passphrase) return refuse(30012, 'Invalid ACCESS_PASSPHRASE');
    if (!/^\d{10}$/.test(ts)) return refuse(30013, 'Invalid ACCESS_TIMESTAMP');
    if (Math.abs(Number(ts) * 1000 - this.clock.now()) > 30_000)
      return refuse(30014, 'Request timestamp expired');
    if (arg['sign'] !== bitgetSign(this.creds.secret, `${ts}GET/user/verify`))
      return refuse(30015, 'Invalid sign');
    this.loggedIn.add(socket);
    socket.send(JSON.stringify({ event: 'login', code: 0, msg: '' }));
  }

  private onRest(req: IncomingMessage, res: ServerResponse): void {
    if (this.gate !== undefined) {
      void this.gate.then(() => this.onRest(req, res));
      this.gate = undefined;
      return;
    }
    const target = req.url ?? '';
    const url = new URL(target, 'http://x');
    this.restCalls.push(url.pathname);
    const h = (name: string): string => String(req.headers[name] ?? '');
    const expected = bitgetSign(this.creds.secret, `${h('access-timestamp')}GET${target}`);
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (h('access-key') !== this.creds.apiKey || h('access-sign') !== expected) {
      this.restRefusals++;
      return send(400, {
        code: '40009',
        msg: 'sign signature error',
        requestTime: this.clock.now(),
        data: null,
      });
    }
    const ok = (data: unknown): void => send(200, { code: '00000', msg: 'success', requestTime: 0, data });
    switch (url.pathname) {
      case '/api/v2/mix/account/accounts':
        return ok([
          {
            marginCoin: 'USDT',
            locked: '0',
            available: '900.5',
            accountEquity: '1000.25',
            usdtEquity: '1000.25',
            unrealizedPL: '1.5',
          },
        ]);
      case '/api/v2/mix/position/all-position':
        return ok([]);
      case '/api/v2/mix/order/orders-pending':
        return ok(
          this.pending.length === 0
            ? { entrustedList: null, endId: null }
            : { entrustedList: this.pending, endId: this.pending.at(-1)?.['orderId'] },
        );
      case '/api/v2/mix/order/fills': {
        const start = Number(url.searchParams.get('startTime') ?? 0);
        const list = this.fills.filter((f) => f.cTime >= start).sort((a, b) => b.cTime - a.cTime);
        return ok({ fillList: list.map(restFill), endId: list.at(-1)?.tradeId ?? null });
      }
      default:
        return send(404, { code: '40404', msg: 'Request URL NOT FOUND', data: null });
    }
  }
}

function fillRow(f: FakeFill): Record<string, unknown> {
  return {
    orderId: f.orderId,
    tradeId: f.tradeId,
    symbol: 'BTCUSDT',
    side: 'buy',
    orderType: 'market',
    posMode: 'one_way_mode',
    price: f.price,
    baseVolume: f.size,
    quoteVolume: '0',
    profit: '0',
    tradeSide: 'open',
    tradeScope: 'taker',
    feeDetail: [{ feeCoin: 'USDT', deduction: 'no', totalDeductionFee: '0', totalFee: f.fee }],
    cTime: String(f.cTime),
    uTime: String(f.cTime),
  };
}

function restFill(f: FakeFill): Record<string, unknown> {
  const { uTime: _u, ...row } = fillRow(f);
  return row;
}

function fillPush(f: FakeFill): string {
  return JSON.stringify({
    action: 'snapshot',
    arg: { instType: 'USDT-FUTURES', channel: 'fill', instId: 'default' },
    data: [fillRow(f)],
    ts: f.cTime,
  });
}

function positionsPush(rows: unknown[]): string {
  return JSON.stringify({
    action: 'snapshot',
    arg: { instType: 'USDT-FUTURES', channel: 'positions', instId: 'default' },
    data: rows,
    ts: T0,
  });
}

describe('BitgetAccountSource against a Bitget v2 private server', () => {
  let clock = new ManualClock(T0);
  const venue = new FakeBitget(clock);
  let source: BitgetAccountSource | undefined;

  before(() => venue.start());
  after(() => venue.stop());
  afterEach(async () => {
    await source?.close();
    source = undefined;
    venue.reset();
  });

  function open(
    log: Logger = pino({ level: 'silent' }),
    creds = CREDS,
  ): { source: BitgetAccountSource; rec: SourceRecorder } {
    clock = new ManualClock(T0);
    (venue as { clock: ManualClock }).clock = clock;
    const rec = new SourceRecorder();
    source = new BitgetAccountSource({
      account: { id: 'demo-bitget', venue: 'bitget' },
      credentials: creds,
      wsUrl: venue.url,
      restUrl: venue.restUrl,
      logger: log,
      clock,
      random: () => 0.5,
      spot: false,
      rest: { requestsPerSecond: 1000, maxRetries: 0 },
      connection: {
        backoff: { initialMs: 100, maxMs: 400 },
        loginBackoff: { initialMs: 1_000, maxMs: 8_000 },
        connectTimeoutMs: 1_000,
        closeTimeoutMs: 200,
      },
    });
    source.start(rec.handlers);
    return { source, rec };
  }

  it('logs in, subscribes only after the login answer, reconciles and streams fills', async () => {
    const { source: s, rec } = open();
    await waitFor('subscribed', () => (venue.frames[0]?.length ?? 0) >= 2);
    const [login, subscribe] = venue.frames[0] ?? [];
    const loginArgs = (JSON.parse(login ?? '{}') as { op: string; args: Record<string, string>[] }).args[0];
    assert.equal(loginArgs?.['timestamp'], String(T0 / 1000), 'seconds');
    const sub = JSON.parse(subscribe ?? '{}') as { op: string; args: Record<string, string>[] };
    assert.equal(sub.op, 'subscribe');
    assert.deepEqual(
      sub.args.map((a) => `${a['channel']}:${a['instType']}`),
      ['account:USDT-FUTURES', 'positions:USDT-FUTURES', 'orders:USDT-FUTURES', 'fill:USDT-FUTURES'],
    );
    await waitFor('rest snapshot', () => rec.of('snapshot').length === 1);
    const snap = rec.of('snapshot')[0];
    assert.equal(snap?.source, 'rest');
    assert.equal(snap?.snapshot.summary.equity.coef, 100025n);
    await waitFor('healthy', () => s.status().healthy);
    assert.deepEqual(
      rec.of('positions').map((p) => [p.complete, p.positions.length]),
      [[true, 0]],
    );
    venue.addFill(
      { tradeId: 't1', orderId: 'o1', price: '43000.5', size: '0.01', fee: '-0.2580', cTime: T0 + 10 },
      true,
    );
    await waitFor('stream fill', () => rec.fillIds().length === 1);
    const fill = rec.of('fills')[0]?.fills[0];
    assert.equal(fill?.fee.coef, 2580n, 'a paid fee is positive');
    assert.equal(rec.of('fills')[0]?.source, 'stream');
    // Heartbeat: a text ping every 30 s, answered by pong.
    clock.advance(30_000);
    await waitFor('ping', () => venue.frames[0]?.includes('ping') === true);
    const status = s.status();
    assert.equal(status.connected, true);
    assert.equal(status.mode, 'stream');
    assert.equal(status.url, venue.url);
    assert.equal(status.lastError, undefined);
    assert.deepEqual(rec.alerts, []);
  });

  for (const [code, wrong] of [
    ['30011', { ...CREDS, apiKey: 'bg_key_wrong' }],
    ['30012', { ...CREDS, passphrase: 'not-it' }],
    ['30015', { ...CREDS, secret: 'bg-secret-wrong' }],
  ] as const) {
    it(`reports a refused login (${code}) once, retries under the login backoff, never subscribes`, async () => {
      const log = capturingLogger();
      const { source: s, rec } = open(log.logger, wrong);
      await waitFor('refused', () => s.status().lastError?.code === 'ACCOUNT_LOGIN_FAILED');
      assert.match(s.status().lastError?.message ?? '', new RegExp(`^Bitget refused the login: ${code} `));
      await waitFor('closed', () => rec.statuses.some((x) => !x.connected && x.lastError !== undefined));
      // The login backoff: nothing before its first delay (random 0.5 → 500 ms), then one more attempt.
      clock.advance(499);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(venue.sockets.length, 1, 'no retry before the backoff');
      clock.advance(1);
      await waitFor('second attempt', () => venue.sockets.length === 2);
      await waitFor('second refusal', () => (venue.frames[1]?.length ?? 0) >= 1);
      await waitFor('second close', () => venue.latest().readyState === venue.latest().CLOSED);
      const alerts = rec.alerts.filter((a) => a.kind === 'account_login_failed');
      assert.equal(alerts.length, 1, 'one alert per streak');
      assert.equal(alerts[0]?.details?.['code'], code);
      assert.equal(s.status().mode, 'stream', 'a refused key is not an outage: no polling');
      assert.ok(
        venue.frames.flat().every((f) => !f.includes('"subscribe"')),
        'never subscribed',
      );
      assert.equal(venue.restCalls.length, 0, 'no REST with a refused key');
      // No credential anywhere the source reports to.
      const reported = JSON.stringify([rec.alerts, rec.statuses, s.status()]) + log.text();
      for (const secret of [CREDS.secret, CREDS.passphrase, wrong.secret, wrong.passphrase])
        assert.ok(!reported.includes(secret), 'no secret or passphrase in alerts, status or logs');
    });
  }

  it('reports an expired login timestamp (30014): the venue clock is ahead of ours', async () => {
    // The venue's clock runs 31 s ahead of ours: the signed timestamp is too old for it.
    const { source: s } = open();
    (venue as { clock: ManualClock }).clock = new ManualClock(T0 + 31_000);
    await waitFor('refused', () => s.status().lastError?.code === 'ACCOUNT_LOGIN_FAILED');
    assert.match(s.status().lastError?.message ?? '', /30014/);
  });

  it('recovers after a refused login once the key is right again, with account_stream_recovered', async () => {
    venue.creds = { ...CREDS, apiKey: 'rotated' };
    const { source: s, rec } = open();
    await waitFor('refused', () => s.status().lastError?.code === 'ACCOUNT_LOGIN_FAILED');
    await waitFor('closed', () => venue.latest().readyState === venue.latest().CLOSED);
    venue.creds = { ...CREDS };
    clock.advance(1_000);
    await waitFor('healthy', () => s.status().healthy);
    assert.equal(s.status().lastError, undefined);
    assert.deepEqual(
      rec.alerts.map((a) => a.kind),
      ['account_login_failed', 'account_stream_recovered'],
    );
  });

  it('socket → polling → socket: every fill arrives, none is lost, each id counted once', async () => {
    const { source: s, rec } = open();
    await waitFor('healthy', () => s.status().healthy);
    venue.addFill(
      { tradeId: 'f1', orderId: 'o1', price: '100', size: '1', fee: '-0.1', cTime: T0 + 1 },
      true,
    );
    await waitFor('f1', () => rec.fillIds().length === 1);
    // The venue goes down: the socket drops and new ones are refused.
    venue.accepting = false;
    clock.advance(5);
    venue.addFill(
      { tradeId: 'f2', orderId: 'o2', price: '101', size: '1', fee: '-0.1', cTime: T0 + 5 },
      false,
    );
    venue.dropAll();
    for (let i = 0; i < 10 && s.status().mode !== 'polling'; i++) {
      await waitFor(`attempt ${i}`, () => venue.sockets.every((x) => x.readyState === x.CLOSED));
      const before = venue.sockets.length;
      for (let t = 0; t < 500 && venue.sockets.length === before; t += 50) {
        clock.advance(50);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await waitFor('polling', () => s.status().mode === 'polling');
    assert.ok(rec.alerts.some((a) => a.kind === 'account_polling'));
    // The switch polls every kind at once: the orders poll brings f2 over REST.
    await waitFor('f2 over REST', () => rec.fillIds().includes('f2'));
    venue.addFill(
      { tradeId: 'f3', orderId: 'o3', price: '102', size: '1', fee: '-0.1', cTime: T0 + 2_000 },
      false,
    );
    const callsBefore = venue.restCalls.length;
    clock.advance(5_000);
    await waitFor('f3 on the 5 s orders poll', () => rec.fillIds().includes('f3'));
    assert.ok(venue.restCalls.slice(callsBefore).includes('/api/v2/mix/position/all-position'));
    // A fill between polls, then the venue is back: the reconcile after the login brings it.
    venue.addFill(
      { tradeId: 'f4', orderId: 'o4', price: '103', size: '1', fee: '-0.1', cTime: T0 + 6_000 },
      false,
    );
    venue.accepting = true;
    for (let t = 0; t < 1_000 && s.status().mode === 'polling'; t += 50) {
      clock.advance(50);
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor('stream again', () => s.status().mode === 'stream' && s.status().healthy);
    await waitFor('f4 by the reconcile', () => rec.fillIds().includes('f4'));
    assert.ok(rec.alerts.some((a) => a.kind === 'account_stream_recovered'));
    venue.addFill(
      { tradeId: 'f5', orderId: 'o5', price: '104', size: '1', fee: '-0.1', cTime: T0 + 9_000 },
      true,
    );
    await waitFor('f5 on the stream', () => rec.fillIds().includes('f5'));
    assert.deepEqual(rec.fillIds(), ['f1', 'f2', 'f3', 'f4', 'f5']);
    // The last reconcile ran after the switch back: a REST snapshot follows every gap.
    assert.ok(rec.of('snapshot').length >= 2);
    const pollsAfter = venue.restCalls.length;
    clock.advance(20_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(venue.restCalls.slice(pollsAfter), [], 'no polling once the stream is back');
  });
  it('polls open orders and reports one that left the list as filled or canceled by its fills', async () => {
    venue.accepting = false;
    const order = (orderId: string): Record<string, string> => ({
      symbol: 'BTCUSDT',
      size: '1',
      orderId,
      clientOid: `c-${orderId}`,
      baseVolume: '0',
      price: '90',
      priceAvg: '',
      status: 'live',
      side: 'buy',
      orderType: 'limit',
      reduceOnly: 'NO',
      cTime: String(T0),
      uTime: String(T0),
    });
    venue.pending = [order('o7'), order('o8')];
    const { source: s, rec } = open();
    for (let t = 0; t < 5_000 && s.status().mode !== 'polling'; t += 50) {
      clock.advance(50);
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor('two open orders', () => rec.of('order').length === 2);
    assert.deepEqual(
      rec.of('order').map((e) => [e.order.orderId, e.order.status]),
      [
        ['o7', 'open'],
        ['o8', 'open'],
      ],
    );
    // o7 fills completely, o8 is canceled: both leave the pending list.
    venue.addFill(
      { tradeId: 'f7', orderId: 'o7', price: '90', size: '1', fee: '-0.05', cTime: T0 + 100 },
      false,
    );
    venue.pending = [];
    clock.advance(5_000);
    await waitFor('final orders', () => rec.of('order').length === 4);
    assert.deepEqual(
      rec
        .of('order')
        .slice(2)
        .map((e) => [e.order.orderId, e.order.status]),
      [
        ['o7', 'filled'],
        ['o8', 'canceled'],
      ],
    );
    assert.deepEqual(rec.fillIds(), ['f7']);
  });

  it("REST: a refused signature is a BitgetApiError with Bitget's code and no secret", async () => {
    clock = new ManualClock(T0);
    const rest = new BitgetAccountRest({
      restUrl: venue.restUrl,
      credentials: { ...CREDS, secret: 'bg-secret-wrong' },
      clock,
      http: { maxRetries: 0 },
    });
    await assert.rejects(rest.positions(), (err: unknown) => {
      assert.ok(err instanceof BitgetApiError);
      assert.equal(err.code, '40009');
      assert.match(err.message, /all-position: sign signature error/);
      assert.ok(!err.message.includes('bg-secret'));
      return true;
    });
    assert.equal(venue.restRefusals, 1);
    const good = new BitgetAccountRest({ restUrl: venue.restUrl, credentials: CREDS, clock });
    assert.deepEqual(await good.positions(), []);
    assert.equal((await good.summary())?.currency, 'USDT');
  });
  it('applies stream pushes that arrive during the reconcile after its REST snapshot', async () => {
    let release: () => void = () => undefined;
    venue.gate = new Promise<void>((resolve) => (release = resolve));
    const { source: s, rec } = open();
    await waitFor('subscribed', () => (venue.frames[0]?.length ?? 0) >= 2);
    await waitFor('ack seen', () => s.status().healthy);
    venue.addFill({ tradeId: 'h1', orderId: 'o1', price: '1', size: '1', fee: '-0.1', cTime: T0 + 1 }, true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rec.events.length, 0, 'held while the snapshot is on its way');
    release();
    await waitFor('snapshot and fill', () => rec.fillIds().length === 1 && rec.of('snapshot').length === 1);
    assert.deepEqual(
      rec.events.map((e) => e.kind),
      ['snapshot', 'positions', 'fills'],
    );
  });
});
