import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClient, type JsonMessage } from '../../test/gateway/helpers.ts';
import type { AccountEvent } from '../account/contract.ts';
import type { Balance, Fill, Order, Position } from '../domain/account.ts';
import { parseDecimal } from '../domain/decimal.ts';
import { ACCOUNT_CHANNELS } from '../protocol/account-messages.ts';
import {
  accountJson,
  dashboardJson,
  fillJson,
  orderJson,
  performanceJson,
  positionJson,
} from './account-json.ts';
import {
  AccountModel,
  DYDX_ADDRESS,
  STATIC_TOKEN,
  startAccountGateway,
  type AccountGateway,
} from './account-channels.test-support.ts';

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const d = parseDecimal;
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];

/** Random but valid account events of one account; ids carry the account so a leak is visible. */
function eventMaker(account: string, rnd: () => number, complete: boolean) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const amount = (max: number, places = 2): string => (rnd() * max).toFixed(places);
  let fillN = 0;
  const fills: Fill[] = [];
  return {
    fills,
    next(time: number): AccountEvent {
      const r = rnd();
      if (r < 0.15) {
        return {
          kind: 'summary',
          summary: {
            equity: d(amount(20_000)),
            currency: 'USDT',
            available: d(amount(10_000)),
            unrealizedPnl: d((rnd() * 400 - 200).toFixed(3)),
            time,
          },
        };
      }
      if (r < 0.3) {
        const balances: Balance[] = [pick(['USDT', 'BTC'])].map((currency) => {
          const total = d(amount(5000, 4));
          return { currency, total, available: total, locked: d('0'), time };
        });
        return { kind: 'balances', balances };
      }
      if (r < 0.5) {
        const positions: Position[] = SYMBOLS.filter(() => rnd() < 0.5).map((symbol) => ({
          symbol,
          side: rnd() < 0.5 ? 'long' : 'short',
          size: d(amount(3, 3)),
          entryPrice: d(amount(60_000, 1)),
          markPrice: d(amount(60_000, 1)),
          marginMode: 'cross',
          unrealizedPnl: d((rnd() * 100 - 50).toFixed(2)),
          margin: d(amount(1000)),
          timestamp: time,
        }));
        return { kind: 'positions', positions, complete, time };
      }
      if (r < 0.55 && !complete) {
        return { kind: 'positionEnded', symbol: pick(SYMBOLS), side: 'long', end: 'closed', time };
      }
      if (r < 0.75) {
        const order: Order = {
          orderId: `${account}-o${Math.floor(rnd() * 8)}`,
          symbol: pick(SYMBOLS),
          market: 'perpetual',
          side: pick(['buy', 'sell'] as const),
          type: 'limit',
          price: d(amount(60_000, 1)),
          size: d(amount(2, 3)),
          filledSize: d('0'),
          status: pick(['open', 'open', 'partially_filled', 'filled', 'canceled'] as const),
          createdAt: time,
          updatedAt: time,
        };
        return { kind: 'order', order };
      }
      // Now and then a fill repeats (a REST reconcile overlapping the stream): counted once.
      const repeat = fills.length > 0 && rnd() < 0.2;
      const fill: Fill = repeat
        ? pick(fills)
        : {
            fillId: `${account}-f${++fillN}`,
            orderId: `${account}-o${Math.floor(rnd() * 8)}`,
            symbol: pick(SYMBOLS),
            market: 'perpetual',
            side: pick(['buy', 'sell'] as const),
            price: d(amount(60_000, 1)),
            size: d(amount(1, 4)),
            fee: d(amount(5, 4)),
            feeCurrency: 'USDT',
            liquidity: pick(['maker', 'taker'] as const),
            ...(rnd() < 0.5 ? { realizedPnl: d((rnd() * 200 - 100).toFixed(2)) } : {}),
            time,
          };
      if (!repeat) fills.push(fill);
      return { kind: 'fills', fills: [fill], source: repeat ? 'rest' : 'stream' };
    },
  };
}

/** The state a client must hold for `account`, computed from the hub's view (not from the gateway). */
function expectedState(g: AccountGateway, account: string): Record<string, unknown> {
  const view = g.hub.view(account);
  assert.ok(view);
  const keyed = <T extends { key: string }>(items: T[]) => Object.fromEntries(items.map((i) => [i.key, i]));
  return {
    dashboard: dashboardJson(view),
    account: accountJson(view),
    performance: performanceJson(view),
    positions: keyed(view.positions.map(positionJson)),
    orders: keyed(view.openOrders.map(orderJson)),
  };
}

function modelState(model: AccountModel): Record<string, unknown> {
  const list = (c: 'positions' | 'orders') => Object.fromEntries(model.lists.get(c) ?? []);
  return {
    dashboard: model.objects.get('dashboard'),
    account: model.objects.get('account'),
    performance: model.objects.get('performance'),
    positions: list('positions'),
    orders: list('orders'),
  };
}

function modelOf(messages: readonly JsonMessage[]): AccountModel {
  const model = new AccountModel();
  for (const m of messages) if (AccountModel.isAccountMessage(m)) model.apply(m);
  return model;
}

async function subscribeAll(c: TestClient): Promise<void> {
  for (const channel of ACCOUNT_CHANNELS) c.send({ type: 'subscribe', channel });
  await c.roundTrip();
}

describe('account channels', () => {
  let g: AccountGateway;
  before(async () => {
    g = await startAccountGateway();
  });
  after(async () => {
    await g.close();
  });

  it('two accounts, thousands of interleaved random updates: each client applying the deltas holds the server state, and only its own account', async () => {
    const alphaToken = await g.auth.issue('alpha', 86_400_000);
    const alpha = await TestClient.connect(`${g.gateway.url}/ws?token=${alphaToken}`);
    const beta = await TestClient.connect(g.gateway.url);
    beta.send({ type: 'auth', token: STATIC_TOKEN });
    const dashboard = await TestClient.connect(`${g.gateway.url}/ws/dashboard?token=${alphaToken}`);
    await subscribeAll(alpha);
    await subscribeAll(beta);
    await dashboard.roundTrip();
    assert.deepEqual(
      alpha.messages.find((m) => m.type === 'authenticated'),
      { type: 'authenticated', account: 'alpha', venue: 'bitget', expiresAt: g.clock.now() + 86_400_000 },
    );
    assert.equal(beta.messages.find((m) => m.type === 'authenticated')?.['account'], 'beta');

    const rnd = random(12);
    const makers = { alpha: eventMaker('alpha', rnd, true), beta: eventMaker('beta', rnd, false) };
    // A late subscriber joins halfway and must end up equal too.
    let late: TestClient | undefined;
    for (let i = 0; i < 3000; i++) {
      g.clock.advance(997);
      const account = rnd() < 0.5 ? 'alpha' : 'beta';
      g.sources[account].emit(makers[account].next(g.clock.now()));
      if (i === 1500) {
        late = await TestClient.connect(`${g.gateway.url}/ws/dashboard?token=${alphaToken}`);
        await late.roundTrip();
      }
      // Let the clients read as they go (a real market does not send 3000 changes in one turn).
      if (i % 100 === 99) for (const c of [alpha, beta, dashboard, late]) await c?.roundTrip();
    }
    for (const c of [alpha, beta, dashboard, late as TestClient]) await c.roundTrip();

    for (const [client, account] of [
      [alpha, 'alpha'],
      [beta, 'beta'],
      [dashboard, 'alpha'],
      [late as TestClient, 'alpha'],
    ] as const) {
      const model = modelOf(client.messages);
      assert.equal(model.gaps, 0, `${account}: no seq gap`);
      assert.ok(model.changes > 500, `${account}: the changes were sent as deltas`);
      assert.deepEqual(
        modelState(model),
        expectedState(g, account),
        `${account}: client state = server state`,
      );
      // Every fill once, as the hub counted it (repeats dropped).
      const stored = await g.hub.fills(account, { limit: 100_000 });
      const seen = [...(model.lists.get('trades')?.keys() ?? [])];
      const sinceJoin = stored.filter((f) => seen.includes(f.fillId));
      assert.equal(new Set(seen).size, seen.length);
      if (client !== late) assert.deepEqual(sinceJoin.map(fillJson), stored.map(fillJson));
      // Nothing of the other account, anywhere.
      const other = account === 'alpha' ? 'beta' : 'alpha';
      const text = client.messages.map((m) => JSON.stringify(m)).join('\n');
      assert.ok(!text.includes(`"${other}`), `${account}'s client saw nothing of ${other}`);
      assert.ok(client.messages.filter(AccountModel.isAccountMessage).every((m) => m['account'] === account));
    }
    for (const c of [alpha, beta, dashboard, late as TestClient]) c.close();
  });

  it('throttled: changes within a period merge into one delta per channel, and the model still matches', async () => {
    const t = await startAccountGateway({ throttleMs: 250 });
    try {
      const token = await t.auth.issue('beta', 3_600_000);
      const c = await TestClient.connect(`${t.gateway.url}/ws/dashboard?token=${token}`);
      await c.roundTrip();
      const make = eventMaker('beta', random(5), false);
      for (let i = 0; i < 400; i++) {
        t.clock.advance(50);
        t.sources.beta.emit(make.next(t.clock.now()));
      }
      t.clock.advance(250);
      await c.roundTrip();
      const model = modelOf(c.messages);
      assert.equal(model.gaps, 0);
      // 20 s in 80 periods: at most one delta per channel and period (and the one after the last change).
      assert.ok(model.changes <= 6 * (80 + 1), `at most one delta per channel and period: ${model.changes}`);
      assert.ok(model.changes < 400, 'changes merged');
      assert.deepEqual(modelState(model), expectedState(t, 'beta'));
      c.close();
    } finally {
      await t.close();
    }
  });

  it('account alerts reach their own account only; feed alerts reach everyone', async () => {
    const a = await TestClient.connect(
      `${g.gateway.url}/ws/dashboard?token=${await g.auth.issue('alpha', 600_000)}`,
    );
    const b = await TestClient.connect(`${g.gateway.url}/ws/dashboard?token=${STATIC_TOKEN}`);
    const anon = await TestClient.connect(g.gateway.url);
    anon.send({ type: 'subscribe', channel: 'alerts' });
    // The account's alerts start once the token is checked, which is asynchronous (a pong can overtake it): the
    // kept alerts it sends first say it is done. An alert raised before would come in them, not as `alert`.
    for (const c of [a, b]) await c.next((m) => m.type === 'alerts');
    for (const c of [a, b, anon]) await c.roundTrip();
    const gotA = a.nextOfType('alert');
    g.sources.alpha.alert({
      severity: 'warning',
      kind: 'account_login_failed',
      venue: 'bitget',
      message: 'login refused',
    });
    const alert = await gotA;
    assert.equal(alert['account'], 'alpha');
    assert.equal(alert['kind'], 'account_login_failed');
    for (const c of [a, b, anon]) await c.roundTrip();
    assert.equal(b.messages.filter((m) => m.type === 'alert').length, 0);
    assert.equal(anon.messages.filter((m) => m.type === 'alert').length, 0);
    // A client that subscribes later sees the kept account alert only if it is that account's.
    const a2 = await TestClient.connect(
      `${g.gateway.url}/ws/dashboard?token=${await g.auth.issue('alpha', 600_000)}`,
    );
    const b2 = await TestClient.connect(`${g.gateway.url}/ws/dashboard?token=${STATIC_TOKEN}`);
    // The kept alerts follow the token's check, which is asynchronous: a pong can overtake them, so wait for them.
    const kept = async (c: TestClient) =>
      (await c.next((m) => m.type === 'alerts'))['alerts'] as { kind: string; account?: string }[];
    const keptA = await kept(a2);
    const keptB = await kept(b2);
    assert.ok(keptA.some((x) => x.kind === 'account_login_failed'));
    assert.ok(keptA.every((x) => x.account === 'alpha'));
    assert.ok(keptB.every((x) => x.account === 'beta'));
    for (const c of [a, b, anon, a2, b2]) c.close();
  });

  it('refusals: no token, a bad token, an expired one, another account; public channels keep working', async () => {
    const anon = await TestClient.connect(g.gateway.url);
    anon.send({ type: 'subscribe', channel: 'positions' });
    assert.deepEqual(await anon.nextOfType('error'), {
      type: 'error',
      message: 'Authentication required: this channel is private. Send a token (see docs/PROTOCOL.md).',
      code: 'AUTH_REQUIRED',
      channel: 'positions',
    });
    anon.send({ type: 'auth', token: 'nonsense' });
    assert.equal((await anon.nextOfType('error'))['code'], 'AUTH_INVALID');
    anon.send({ type: 'subscribe', channel: 'alerts' });
    assert.equal((await anon.nextOfType('subscribed'))['channel'], 'alerts');
    // The public trades channel is untouched: with a symbol it is the market one.
    anon.send({ type: 'subscribe', channel: 'trades', venue: 'binance', symbol: 'BTC/USDT' });
    assert.deepEqual(await anon.nextOfType('subscribed'), {
      type: 'subscribed',
      channel: 'trades',
      venue: 'binance',
      symbol: 'BTC/USDT',
    });

    const bad = await TestClient.connect(`${g.gateway.url}/ws?token=not-a-token`);
    assert.equal(await bad.closed, 4401);
    assert.equal(bad.messages[0]?.['code'], 'AUTH_INVALID');
    const noToken = await TestClient.connect(`${g.gateway.url}/ws/dashboard`);
    assert.equal(await noToken.closed, 4401);
    assert.equal(noToken.messages[0]?.['code'], 'AUTH_REQUIRED');

    const c = await TestClient.connect(`${g.gateway.url}/ws?token=${await g.auth.issue('alpha', 60_000)}`);
    c.send({ type: 'auth', token: STATIC_TOKEN });
    assert.equal((await c.nextOfType('error'))['code'], 'ACCOUNT_FORBIDDEN');
    anon.close();
    c.close();
  });

  it('a token is disconnected when it expires (4440), unless renewed in time with auth', async () => {
    const short = await TestClient.connect(
      `${g.gateway.url}/ws?token=${await g.auth.issue('alpha', 60_000)}`,
    );
    const renewed = await TestClient.connect(
      `${g.gateway.url}/ws?token=${await g.auth.issue('alpha', 60_000)}`,
    );
    await short.roundTrip();
    await renewed.roundTrip();
    g.clock.advance(30_000);
    renewed.send({ type: 'auth', token: await g.auth.issue('alpha', 3_600_000) });
    await renewed.nextOfType('authenticated');
    g.clock.advance(29_999);
    await short.roundTrip();
    assert.equal(short.closeCode, undefined, 'not a millisecond early');
    g.clock.advance(1);
    assert.equal(await short.closed, 4440);
    assert.deepEqual(short.messages.at(-1), {
      type: 'error',
      message: 'Token expired. Get a new one.',
      code: 'AUTH_EXPIRED',
    });
    await renewed.roundTrip();
    assert.equal(renewed.closeCode, undefined, 'the renewed token lives on');
    renewed.close();
  });

  it('HTTP: /ws/status/{address}, /api/account/fills and /performance for the token’s account only', async () => {
    const token = await g.auth.issue('beta', 600_000);
    const get = async (path: string, bearer?: string) => {
      const res = await fetch(
        `${g.httpUrl}${path}`,
        bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {},
      );
      return {
        status: res.status,
        body: (await res.json()) as Record<string, unknown>,
        headers: res.headers,
      };
    };
    g.sources.beta.report({
      connected: true,
      healthy: true,
      subscriptions: ['v4_subaccounts'],
      lastHeartbeat: g.clock.now(),
    });
    const status = await get(`/ws/status/${DYDX_ADDRESS}`, token);
    assert.equal(status.status, 200);
    assert.deepEqual(status.body, {
      connected: true,
      is_healthy: true,
      ws_url: 'wss://dydx.example/private',
      user_address: DYDX_ADDRESS,
      subscriptions: ['v4_subaccounts'],
      handlers_registered: 1,
      reconnect_count: 0,
      last_heartbeat: new Date(g.clock.now()).toISOString(),
      account: 'beta',
      venue: 'dydx',
      mode: 'stream',
    });
    assert.equal((await get('/ws/status/beta', token)).status, 200);
    const forbidden = await get('/ws/status/alpha', token);
    assert.equal(forbidden.status, 403);
    assert.deepEqual(forbidden.body, {
      error: { code: 'ACCOUNT_FORBIDDEN', message: 'This token is for another account.' },
    });
    const missing = await get(`/ws/status/${DYDX_ADDRESS}`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    assert.equal((missing.body['error'] as { code: string }).code, 'AUTH_REQUIRED');
    assert.equal(
      ((await get('/api/account/fills', 'x.y.z')).body['error'] as { code: string }).code,
      'AUTH_INVALID',
    );

    const fills = await get('/api/account/fills?limit=5', token);
    assert.equal(fills.status, 200);
    assert.equal(fills.body['account'], 'beta');
    const rows = fills.body['fills'] as { fillId: string; fee: string }[];
    assert.ok(rows.length > 0 && rows.length <= 5 && rows.every((f) => f.fillId.startsWith('beta-')));
    assert.equal(typeof rows[0]?.fee, 'string');
    assert.equal((await get('/api/account/fills?limit=0', token)).status, 400);
    assert.equal(
      ((await get('/api/account/fills?from=yesterday', token)).body['error'] as { code: string }).code,
      'INVALID_RANGE',
    );
    const perf = await get('/api/account/performance', token);
    assert.equal(perf.status, 200);
    assert.equal(
      (perf.body['performance'] as { totalValue: string }).totalValue,
      performanceJson(g.hub.view('beta')!).totalValue,
    );
    assert.ok(Array.isArray(perf.body['equityCurve']));
    assert.ok(perf.headers.get('ratelimit-limit'), 'rate-limited like /api/');
  });
});
