import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { TestClient, waitFor } from '../../test/gateway/helpers.ts';
import { DEFAULT_CONFIG } from '../config/config.ts';
import type { ErrorCode } from '../domain/errors.ts';
import type {
  AlertsSubscribeMessage,
  AlertsUnsubscribeMessage,
  ClientMessage,
  SubscribeMessage,
  UnsubscribeMessage,
} from '../protocol/client-messages.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { TurnBudget } from '../util/turn-budget.ts';
import type { BusIntake } from './bus-intake.ts';
import type { Channel, ClientSink } from './channel.ts';
import { ClientConnections } from './client-connections.ts';
import { ClientErrors } from './client-errors.ts';
import { ConnectionAdmission } from './connection-admission.ts';
import { HistoryBudget } from './history-budget.ts';
import type { RoomStats } from './stats.ts';

/**
 * A channel as the connections see it: it records what it is asked and holds one subscription per key. Any
 * kind of subscription (the private account channels next) plugs in the same way.
 */
class FakeChannel<S extends ClientMessage, U extends ClientMessage> implements Channel<S, U> {
  readonly calls: string[] = [];
  private readonly held = new Map<ClientSink, Set<string>>();

  constructor(
    readonly subscribeType: S['type'],
    readonly unsubscribeType: U['type'],
    private readonly keyOf: (msg: S | U) => string,
  ) {}

  get roomCount(): number {
    return 0;
  }
  roomStats(): Iterable<RoomStats> {
    return [];
  }
  listen(_intake: BusIntake): () => void {
    return () => {};
  }
  stop(): void {}
  holds(client: ClientSink, msg: S): boolean {
    return this.held.get(client)?.has(this.keyOf(msg)) === true;
  }
  subscribe(client: ClientSink, msg: S): void {
    this.calls.push(`subscribe ${this.keyOf(msg)}`);
    const keys = this.held.get(client) ?? new Set();
    keys.add(this.keyOf(msg));
    this.held.set(client, keys);
    client.send(JSON.stringify({ type: 'ok', key: this.keyOf(msg) }));
  }
  unsubscribe(client: ClientSink, msg: U): void {
    this.calls.push(`unsubscribe ${this.keyOf(msg)}`);
    this.held.get(client)?.delete(this.keyOf(msg));
  }
  encodeError(code: ErrorCode, message: string, msg: S): string {
    return JSON.stringify({ type: 'error', code, message, about: this.keyOf(msg) });
  }
  subscriptionCount(client: ClientSink): number {
    return this.held.get(client)?.size ?? 0;
  }
  leaveAll(client: ClientSink): void {
    this.calls.push('leaveAll');
    this.held.delete(client);
  }
}

/**
 * A turn budget that holds every task while `holding`, as a budget spent by other work would, and hands them to
 * the real budget in order at `release`: a test decides when a waiting handshake or message gets its turn.
 */
class HeldTurns extends TurnBudget {
  holding = false;
  readonly held: (() => void)[] = [];

  override run(owner: object, task: () => void): void {
    if (this.holding) this.held.push(() => super.run(owner, task));
    else super.run(owner, task);
  }

  release(): void {
    this.holding = false;
    for (const run of this.held.splice(0)) run();
  }
}

interface HarnessOptions {
  readonly maxSubscriptionsPerConnection?: number;
  readonly maxConnectionsPerIp?: number;
  readonly maxMessagesPerSecond?: number;
  readonly inputTurns?: TurnBudget;
}

interface Harness {
  readonly url: string;
  readonly clock: ManualClock;
  readonly connections: ClientConnections;
  readonly admission: ConnectionAdmission;
  readonly errors: ClientErrors;
  readonly candles: FakeChannel<SubscribeMessage, UnsubscribeMessage>;
  readonly alerts: FakeChannel<AlertsSubscribeMessage, AlertsUnsubscribeMessage>;
  readonly server: Server;
}

async function start(t: TestContext, options: HarnessOptions = {}): Promise<Harness> {
  const clock = new ManualClock(Date.UTC(2024, 9, 24));
  const candles = new FakeChannel<SubscribeMessage, UnsubscribeMessage>('subscribe', 'unsubscribe', (m) =>
    'symbol' in m ? `${m.symbol}:${m.interval}` : '',
  );
  const alerts = new FakeChannel<AlertsSubscribeMessage, AlertsUnsubscribeMessage>(
    'alerts-subscribe',
    'alerts-unsubscribe',
    () => 'alerts',
  );
  const errors = new ClientErrors();
  const limits = {
    ...DEFAULT_CONFIG.gateway,
    heartbeatMs: 1000,
    maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection ?? 2,
    maxConnectionsPerIp: options.maxConnectionsPerIp ?? DEFAULT_CONFIG.gateway.maxConnectionsPerIp,
    maxMessagesPerSecond: options.maxMessagesPerSecond ?? DEFAULT_CONFIG.gateway.maxMessagesPerSecond,
  };
  const admission = new ConnectionAdmission(limits);
  const connections = new ClientConnections({
    limits,
    admission,
    historyBudget: new HistoryBudget(limits, clock),
    rules: { symbols: ['BTC/USDT', 'ETH/USDT'], maxInitialBars: 100, defaultInitialBars: 10 },
    channels: [candles, alerts],
    errors,
    clock,
    logger: silentLogger(),
    ...(options.inputTurns ? { inputTurns: options.inputTurns } : {}),
  });
  const server = createServer();
  server.on('upgrade', (req, socket, head: Buffer) => connections.upgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await connections.close();
    server.close();
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, clock, connections, admission, errors, candles, alerts, server };
}

describe('ClientConnections', () => {
  it('hands each client message to the channel of its type, and answers ping itself', async (t) => {
    const h = await start(t);
    const c = await TestClient.connect(h.url);
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
    await c.nextOfType('ok');
    c.send({ type: 'subscribe', channel: 'alerts' });
    await c.nextOfType('ok');
    c.send({ type: 'unsubscribe', channel: 'alerts' });
    c.send({ type: 'unsubscribe', symbol: 'BTC/USDT', interval: '1m' });
    c.send({ type: 'ping' });
    await c.nextOfType('pong');
    assert.deepEqual(h.candles.calls, ['subscribe BTC/USDT:1m', 'unsubscribe BTC/USDT:1m']);
    assert.deepEqual(h.alerts.calls, ['subscribe alerts', 'unsubscribe alerts']);
    assert.equal(h.connections.subscribedCount, 0);
  });

  it('counts one subscription limit over every channel; a repeat of one held is not a new one', async (t) => {
    const h = await start(t, { maxSubscriptionsPerConnection: 2 });
    const c = await TestClient.connect(h.url);
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
    await c.nextOfType('ok');
    c.send({ type: 'subscribe', channel: 'alerts' });
    await c.nextOfType('ok');
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
    await c.nextOfType('ok');
    c.send({ type: 'subscribe', symbol: 'ETH/USDT', interval: '1m' });
    assert.deepEqual(await c.nextOfType('error'), {
      type: 'error',
      code: 'TOO_MANY_SUBSCRIPTIONS',
      message: 'Too many subscriptions: at most 2 per connection. Unsubscribe from one first.',
      about: 'ETH/USDT:1m',
    });
    assert.equal(h.errors.byCode.TOO_MANY_SUBSCRIPTIONS, 1);
    assert.equal(h.connections.subscribedCount, 1);
    c.send({ type: 'unsubscribe', channel: 'alerts' });
    c.send({ type: 'subscribe', symbol: 'ETH/USDT', interval: '1m' });
    assert.equal((await c.nextOfType('ok'))['key'], 'ETH/USDT:1m', 'room again once one is left');
  });

  it('counts invalid messages by code and keeps the connection', async (t) => {
    const h = await start(t);
    const c = await TestClient.connect(h.url);
    c.send('{');
    assert.equal((await c.nextOfType('error'))['code'], 'INVALID_MESSAGE');
    c.send({ type: 'subscribe', symbol: 'XRP/USDT', interval: '1m' });
    assert.equal((await c.nextOfType('error'))['code'], 'INVALID_SYMBOL');
    assert.deepEqual(h.errors.byCode, { INVALID_MESSAGE: 1, INVALID_SYMBOL: 1 });
    assert.equal(h.connections.counters.messagesReceived, 2);
  });

  it('leaves every channel when a client goes', async (t) => {
    const h = await start(t);
    const c = await TestClient.connect(h.url);
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
    await c.nextOfType('ok');
    c.close();
    await waitFor(() => h.connections.size === 0, 3000, 'the disconnect');
    assert.deepEqual(h.candles.calls.slice(-1), ['leaveAll']);
    assert.deepEqual(h.alerts.calls, ['leaveAll']);
  });

  it('heartbeat: terminates a client that did not answer the previous ping, keeps one that did', async (t) => {
    const h = await start(t);
    const silent = await TestClient.connect(h.url, { autoPong: false });
    const healthy = await TestClient.connect(h.url);
    assert.equal(h.clock.pending, 2, 'the heartbeat and the loop-stall check run on the clock');
    const pinged = Promise.all([once(silent.ws, 'ping'), once(healthy.ws, 'ping')]);
    h.clock.advance(1000);
    await pinged;
    // The pong left before the client saw the ping; a round trip after it makes sure the gateway has it too.
    healthy.send({ type: 'ping' });
    await healthy.nextOfType('pong');
    h.clock.advance(1000);
    assert.equal(await silent.closed, 1006, 'cut without a close frame');
    assert.equal(h.connections.counters.terminatedByHeartbeat, 1);
    assert.equal(healthy.closeCode, undefined);
    assert.equal(h.connections.size, 1);
  });

  it('close(): 1001 to every client, and no new connection', async (t) => {
    const h = await start(t);
    const a = await TestClient.connect(h.url);
    const b = await TestClient.connect(`${h.url}/ws`);
    await h.connections.close();
    assert.equal(await a.closed, 1001);
    assert.equal(await b.closed, 1001);
    await assert.rejects(TestClient.connect(h.url));
    assert.equal(h.clock.pending, 0, 'the heartbeat stopped');
  });
});

/** The 'ok' keys a client was sent, in order. */
function okKeys(c: TestClient): unknown[] {
  return c.messages.filter((m) => m.type === 'ok').map((m) => m['key']);
}

/** A WebSocket client that is not waited for: its handshake may never complete. */
function connecting(url: string): { ws: WebSocket; opened: () => boolean; closed: Promise<void> } {
  const ws = new WebSocket(url);
  let opened = false;
  ws.on('open', () => {
    opened = true;
  });
  ws.on('error', () => {});
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  return { ws, opened: () => opened, closed };
}

describe('ClientConnections: client input under the turn budget', () => {
  it('handshakes and messages past the budget wait for later turns, and are all handled in arrival order', async (t) => {
    // The budget's clock moves a millisecond at each look: a turn runs a task or two, the rest wait.
    let now = 0;
    const turns = new TurnBudget({ budgetMs: 2, now: () => now++ });
    const h = await start(t, { inputTurns: turns, maxSubscriptionsPerConnection: 10 });
    const clients = await Promise.all(Array.from({ length: 6 }, () => TestClient.connect(h.url)));
    const keys = ['BTC/USDT:1m', 'ETH/USDT:1m', 'BTC/USDT:5m', 'ETH/USDT:1h'];
    for (const c of clients)
      for (const key of keys) {
        const [symbol, interval] = key.split(':');
        c.send({ type: 'subscribe', symbol, interval });
      }
    for (const c of clients) await waitFor(() => okKeys(c).length === keys.length, 5000, 'every reply');
    for (const c of clients) assert.deepEqual(okKeys(c), keys, 'each client answered in the order it sent');
    assert.equal(h.connections.counters.messagesReceived, clients.length * keys.length);
    assert.ok(turns.stats().deferred > 0, 'some waited for a later turn');
    assert.equal(turns.stats().waiting, 0);
  });

  it('a handshake waiting for its turn holds its place; a client gone meanwhile gives it back at its turn', async (t) => {
    const turns = new HeldTurns();
    const h = await start(t, { inputTurns: turns, maxConnectionsPerIp: 1 });
    turns.holding = true;
    const early = connecting(h.url);
    await waitFor(() => turns.held.length === 1, 5000, 'the handshake waiting');
    assert.equal(h.admission.open, 1, 'counted while it waits');
    await assert.rejects(TestClient.connect(h.url), 'the address is at its limit');
    // Node reads nothing of an upgraded socket until it is handed on: the gateway sees the client gone at its turn.
    early.ws.terminate();
    await early.closed;
    turns.release();
    await waitFor(() => h.admission.open === 0 && h.connections.size === 0, 5000, 'the place given back');
    const c = await TestClient.connect(h.url);
    assert.equal(early.opened(), false);
    assert.equal(h.connections.size, 1);
    assert.equal(h.admission.open, 1);
    c.close();
  });

  it('a handshake still waiting when the gateway closes is refused', async (t) => {
    const turns = new HeldTurns();
    const h = await start(t, { inputTurns: turns });
    turns.holding = true;
    const late = connecting(h.url);
    await waitFor(() => turns.held.length === 1, 5000, 'the handshake waiting');
    await h.connections.close();
    turns.release();
    await late.closed;
    assert.equal(late.opened(), false);
    assert.equal(h.connections.size, 0);
    await waitFor(() => h.admission.open === 0, 5000, 'the place given back');
  });

  it('the message limit counts messages when they are read: a flood waiting for its turn keeps nothing past its close', async (t) => {
    const turns = new HeldTurns();
    const h = await start(t, { inputTurns: turns, maxMessagesPerSecond: 5 });
    const c = await TestClient.connect(h.url);
    turns.holding = true;
    // The clock stands still: 5 messages find a token, the 6th is answered RATE_LIMITED, and past the 10th
    // refused within the second the connection floods.
    for (let i = 0; i < 20; i++) c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
    await waitFor(() => h.connections.counters.messagesReceived === 20, 5000, 'every message read');
    assert.equal(turns.held.length, 1, "the client's messages wait as one task");
    turns.release();
    assert.equal(await c.closed, 4029);
    assert.deepEqual(
      c.messages.map((m) => (m.type === 'error' ? m['code'] : m.type)),
      ['ok', 'ok', 'ok', 'ok', 'ok', 'RATE_LIMITED'],
    );
    assert.deepEqual(h.candles.calls, [...Array(5).fill('subscribe BTC/USDT:1m'), 'leaveAll']);
    assert.equal(h.connections.counters.closedForFlooding, 1);
  });

  it('messages still waiting when their client goes are dropped: no subscription outlives its client', async (t) => {
    const turns = new HeldTurns();
    const h = await start(t, { inputTurns: turns });
    const c = await TestClient.connect(h.url);
    turns.holding = true;
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m' });
    await waitFor(() => turns.held.length === 1, 5000, 'the message waiting');
    c.close();
    await waitFor(() => h.connections.size === 0, 5000, 'the disconnect');
    turns.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(h.candles.calls, ['leaveAll']);
    assert.equal(h.connections.counters.messagesReceived, 1, 'read, never handled');
  });
});
