/**
 * The limits of docs/PROTOCOL.md, "Limits", on a real gateway: allowed origins, connections per address and in
 * total, permessage-deflate per client, the history budget of subscribes and of /api/candles, and the close of a
 * text frame that is not UTF-8.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import WebSocket from 'ws';
import type { Config } from '../../src/config/config.ts';
import { ManualClock } from '../../src/util/clock.ts';
import {
  M,
  makeBar,
  makeUpdate,
  startTestGateway,
  T0,
  TestClient,
  waitFor,
  type TestGateway,
} from './helpers.ts';

async function gateway(
  t: TestContext,
  limits: Partial<Config['gateway']> = {},
  clock?: ManualClock,
): Promise<TestGateway> {
  const g = await startTestGateway(limits, clock ? { clock } : {});
  t.after(() => g.close());
  return g;
}

/** The HTTP answer to a WebSocket upgrade the gateway refuses. */
async function refusal(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => {});
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
  let text = '';
  for await (const chunk of res) text += String(chunk);
  ws.terminate();
  return { status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> };
}

describe('gateway limits: WebSocket upgrades', () => {
  it('refuses a browser origin not allowed with 403 and counts it; no Origin, loopback and listed origins pass', async (t) => {
    const g = await gateway(t);
    const refused = await refusal(g.gateway.url, { origin: 'https://evil.example' });
    assert.deepEqual(refused, {
      status: 403,
      body: {
        error: {
          code: 'ORIGIN_NOT_ALLOWED',
          message: 'Origin not allowed: https://evil.example. See gateway.allowedOrigins.',
        },
      },
    });
    assert.equal(g.gateway.stats().gateway.refusedForOrigin, 1);
    (await TestClient.connect(g.gateway.url)).close();
    (await TestClient.connect(g.gateway.url, { origin: 'http://localhost:3000' })).close();

    const listed = await gateway(t, { allowedOrigins: ['https://charts.example.com'] });
    (await TestClient.connect(listed.gateway.url, { origin: 'https://charts.example.com' })).close();
    assert.equal((await refusal(listed.gateway.url, { origin: 'http://localhost:3000' })).status, 403);
  });

  it('holds at most maxConnectionsPerIp per address (429) and maxConnections in all (503)', async (t) => {
    const g = await gateway(t, { maxConnectionsPerIp: 2, maxConnections: 3, trustedProxies: 1 });
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    const a1 = await TestClient.connect(g.gateway.url, from('198.51.100.7'));
    await TestClient.connect(g.gateway.url, from('198.51.100.7'));
    const third = await refusal(g.gateway.url, { 'x-forwarded-for': '198.51.100.7' });
    assert.equal(third.status, 429);
    assert.equal((third.body['error'] as Record<string, unknown>)['code'], 'TOO_MANY_CONNECTIONS');
    await TestClient.connect(g.gateway.url, from('203.0.113.9'));
    const full = await refusal(g.gateway.url, { 'x-forwarded-for': '192.0.2.1' });
    assert.equal(full.status, 503);
    assert.equal((full.body['error'] as Record<string, unknown>)['code'], 'TOO_MANY_CONNECTIONS');
    const stats = g.gateway.stats().gateway;
    assert.equal(stats.refusedForConnectionsPerIp, 1);
    assert.equal(stats.refusedForMaxConnections, 1);
    // A closed connection gives its place back.
    a1.close();
    await a1.closed;
    await waitFor(() => g.gateway.stats().connections === 2, 3000, 'the close on the server');
    (await TestClient.connect(g.gateway.url, from('198.51.100.7'))).close();
  });

  it('negotiates permessage-deflate only when enabled, and only with a client that offers it', async (t) => {
    const off = await gateway(t);
    const offered = await TestClient.connect(off.gateway.url, { perMessageDeflate: true });
    assert.equal(offered.ws.extensions, '', 'off by default');
    offered.close();

    const on = await gateway(t, { perMessageDeflate: true });
    const plain = await TestClient.connect(on.gateway.url, { perMessageDeflate: false });
    assert.equal(plain.ws.extensions, '');
    const compressed = await TestClient.connect(on.gateway.url, { perMessageDeflate: true });
    assert.match(compressed.ws.extensions, /^permessage-deflate/);
    for (const c of [plain, compressed]) {
      c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 10 });
      assert.equal((await c.nextOfType('initial'))['symbol'], 'BTC/USDT');
    }
  });

  it('frames updates and a large initial alike for plain and compressed clients', async (t) => {
    const clock = new ManualClock(T0 + 400 * M);
    const g = await gateway(t, { perMessageDeflate: true, throttleMs: 1000 }, clock);
    for (let i = 0; i < 400; i++)
      g.store.put('BTC/USDT', '1m', makeBar(T0 + i * M, `100.${i}`, i + 1), ['binance']);
    const plain = await TestClient.connect(g.gateway.url, { perMessageDeflate: false });
    const compressed = await TestClient.connect(g.gateway.url, { perMessageDeflate: true });
    const frames = new Map<TestClient, number>();
    for (const c of [plain, compressed]) {
      frames.set(c, 0);
      c.ws.on('message', () => frames.set(c, (frames.get(c) ?? 0) + 1));
      c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 400 });
      const initial = await c.nextOfType('initial');
      assert.equal((initial['bars'] as unknown[]).length, 400, 'a large initial (over 16 KiB), whole');
      c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '5m', initialBars: 0 });
      await c.nextOfType('initial');
    }
    for (let n = 0; n < 3; n++) {
      if (n > 0) clock.advance(1000);
      const before = [plain, compressed].map((c) => c.messages.length);
      g.publish(makeUpdate(makeBar(T0 + 400 * M, `200.${n}`, n + 1)));
      g.publish(makeUpdate(makeBar(T0 + 400 * M, `200.${n}`, n + 1), 'live', 'BTC/USDT', '5m'));
      clock.advance(0);
      for (const [i, c] of [plain, compressed].entries()) {
        await waitFor(() => c.messages.length === (before[i] as number) + 2, 3000, 'both updates');
        const got = c.messages
          .slice(before[i])
          .map((m) => [m['interval'], (m['bar'] as { close: number }).close]);
        assert.deepEqual(got, [
          ['1m', Number(`200.${n}`)],
          ['5m', Number(`200.${n}`)],
        ]);
      }
    }
    assert.equal(frames.get(plain), frames.get(compressed), 'one frame per message for both');
  });

  it('closes a text frame that is not UTF-8 with 1007 and keeps serving the others', async (t) => {
    const g = await gateway(t);
    const bad = await TestClient.connect(g.gateway.url);
    const good = await TestClient.connect(g.gateway.url);
    bad.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assert.equal(await bad.closed, 1007);
    await good.roundTrip();
  });
});

describe('gateway limits: history budget', () => {
  it('refuses a subscribe over the connection budget with HISTORY_BUDGET_EXCEEDED until it has refilled', async (t) => {
    const clock = new ManualClock(Date.UTC(2024, 9, 24, 10));
    const g = await gateway(
      t,
      { maxInitialBars: 1000, historyBarsPerSecond: 1000, historyBurstBars: 2000 },
      clock,
    );
    const c = await TestClient.connect(g.gateway.url);
    const subscribe = (interval: string): void =>
      c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval, initialBars: 1000 });
    subscribe('1m');
    await c.nextOfType('initial');
    subscribe('5m');
    await c.nextOfType('initial');
    subscribe('15m');
    assert.deepEqual(await c.nextOfType('error'), {
      type: 'error',
      message:
        'History budget exceeded: 1000 bars asked; this connection may read 1000 bars per second ' +
        '(burst 2000). Retry in 1 s.',
      code: 'HISTORY_BUDGET_EXCEEDED',
      symbol: 'BTC/USDT',
      interval: '15m',
    });
    // Not subscribed: the next subscribe is answered by an initial, once the budget has refilled.
    assert.equal(g.gateway.stats().broadcaster.rooms.length, 2);
    subscribe('1h');
    await c.nextOfType('error');
    const other = await TestClient.connect(g.gateway.url);
    other.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '15m', initialBars: 1000 });
    await other.nextOfType('initial');
    clock.advance(1000);
    subscribe('15m');
    assert.equal((await c.nextOfType('initial'))['interval'], '15m');
    assert.equal(g.gateway.stats().gateway.errorsByCode.HISTORY_BUDGET_EXCEEDED, 2);
  });

  it('charges /api/candles to the address budget shared with its connections: 429 with Retry-After', async (t) => {
    const clock = new ManualClock(Date.UTC(2024, 9, 24, 10));
    const g = await gateway(
      t,
      { maxInitialBars: 1000, historyBarsPerSecondPerIp: 500, historyBurstBarsPerIp: 1500 },
      clock,
    );
    const c = await TestClient.connect(g.gateway.url);
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 1000 });
    await c.nextOfType('initial');
    const base = g.gateway.url.replace('ws://', 'http://') + '/api/candles?symbol=BTC/USDT&interval=1m';
    assert.equal((await fetch(`${base}&limit=500`)).status, 200);
    const over = await fetch(`${base}&limit=1000`);
    assert.equal(over.status, 429);
    assert.equal(over.headers.get('retry-after'), '2');
    const body = (await over.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'HISTORY_BUDGET_EXCEEDED');
    assert.match(
      body.error.message,
      /this address may read 500 bars per second \(burst 1500\)\. Retry in 2 s\.$/,
    );
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '5m', initialBars: 10 });
    assert.equal((await c.nextOfType('error'))['code'], 'HISTORY_BUDGET_EXCEEDED', 'the same address budget');
    clock.advance(2000);
    assert.equal((await fetch(`${base}&limit=1000`)).status, 200);
  });
});
