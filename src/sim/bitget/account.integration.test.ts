import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { parseDecimal, sub } from '../../domain/decimal.ts';
import { startSimulator, type Simulator } from '../simulator.ts';
import { waitUntil } from '../test-kit.ts';

const KEY = 'bg_test_key';
const SECRET = 'test-secret';
const PASS = 'test-pass';
const START = Date.UTC(2026, 2, 2, 7, 58, 0);

const sign = (secret: string, text: string): string =>
  createHmac('sha256', secret).update(text).digest('base64');

/** A private-socket client that keeps raw text frames and the close code. */
class Client {
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
  async next(match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await waitUntil(() => (found = this.json().find(match)) !== undefined);
    return found as Record<string, unknown>;
  }
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close();
    await this.closed;
  }
}

describe('Bitget simulator private side', () => {
  let sim: Simulator;
  let clock = START;
  const clients: Client[] = [];
  const connect = async (): Promise<Client> => {
    const c = new Client(sim.urls.bitget.privateWsUrl);
    clients.push(c);
    await c.opened;
    return c;
  };
  const loginArgs = (over: Record<string, string> = {}) => {
    const timestamp = over['timestamp'] ?? String(Math.floor(clock / 1000));
    return {
      op: 'login',
      args: [
        {
          apiKey: KEY,
          passphrase: PASS,
          timestamp,
          sign: sign(over['secret'] ?? SECRET, `${timestamp}GET/user/verify`),
          ...over,
        },
      ],
    };
  };
  const restGet = async (path: string, over: Record<string, string> = {}) => {
    const ts = over['ts'] ?? String(clock);
    const headers: Record<string, string> = {
      'ACCESS-KEY': over['key'] ?? KEY,
      'ACCESS-SIGN': sign(over['secret'] ?? SECRET, `${ts}GET${path}`),
      'ACCESS-TIMESTAMP': ts,
      'ACCESS-PASSPHRASE': over['pass'] ?? PASS,
      'Content-Type': 'application/json',
    };
    const res = await fetch(`${sim.urls.bitget.restUrl}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const step = (ms: number): void => {
    clock += ms;
    sim.advance();
  };

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT'],
      historyDays: 0,
      tradesPerSecond: 5,
      now: () => clock,
      bitget: {
        accounts: [{ apiKey: KEY, secret: SECRET, passphrase: PASS, trader: false }],
        accountPushMs: 60_000,
      },
    });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sim.close();
  });

  test('login succeeds with a right signature; each failure has its code and closes the socket', async () => {
    const ok = await connect();
    ok.send(loginArgs());
    assert.deepEqual(await ok.next((m) => m['event'] === 'login'), { event: 'login', code: 0 });
    ok.send('ping');
    await waitUntil(() => ok.texts.includes('pong'));

    const cases: [Record<string, string>, number][] = [
      [{ apiKey: 'nobody' }, 30011],
      [{ passphrase: 'wrong' }, 30012],
      [{ timestamp: 'yesterday' }, 30013],
      [{ timestamp: String(Math.floor(clock / 1000) - 60) }, 30014],
      [{ secret: 'not-the-secret' }, 30015],
    ];
    for (const [over, code] of cases) {
      const c = await connect();
      const args = loginArgs(over);
      if (over['secret'] !== undefined) delete (args.args[0] as Record<string, string>)['secret'];
      c.send(args);
      const error = await c.next((m) => m['event'] === 'error');
      assert.equal(error['code'], code, JSON.stringify(error));
      assert.doesNotMatch(JSON.stringify(error), new RegExp(`${SECRET}|${PASS}`));
      await c.closed;
    }
    sim.accounts.of('bitget').faults.rejectLogins(1);
    const rejected = await connect();
    rejected.send(loginArgs());
    assert.equal((await rejected.next((m) => m['event'] === 'error'))['code'], 30005);
    await rejected.closed;

    const early = await connect();
    early.send({
      op: 'subscribe',
      args: [{ instType: 'USDT-FUTURES', channel: 'positions', instId: 'default' }],
    });
    assert.equal((await early.next((m) => m['event'] === 'error'))['code'], 30004);
  });

  test('signed REST: right signature answers, each wrong part has its code', async () => {
    const path = '/api/v2/mix/account/accounts?productType=USDT-FUTURES';
    const good = await restGet(path);
    assert.equal(good.status, 200);
    assert.equal(good.body['code'], '00000');
    const [row] = good.body['data'] as Record<string, string>[];
    assert.equal(row?.['marginCoin'], 'USDT');
    assert.equal(row?.['accountEquity'], '10000');
    const failures: [Record<string, string>, string][] = [
      [{ key: '' }, '40001'],
      [{ key: 'nobody' }, '40037'],
      [{ pass: 'wrong' }, '40012'],
      [{ ts: 'abc' }, '40005'],
      [{ ts: String(clock - 60_000) }, '40008'],
      [{ secret: 'wrong' }, '40009'],
    ];
    for (const [over, code] of failures) {
      const bad = await restGet(path, over);
      assert.equal(bad.status, 400);
      assert.equal(bad.body['code'], code, JSON.stringify(bad.body));
    }
    const assets = await restGet('/api/v2/spot/account/assets');
    assert.deepEqual(
      (assets.body['data'] as { coin: string }[]).map((a) => a.coin),
      ['USDT', 'BTC'],
    );
  });

  test('a trade crossing a resting limit order pushes order, fill, position and account in the real format', async () => {
    const c = await connect();
    c.send(loginArgs());
    await c.next((m) => m['event'] === 'login');
    const channels = ['orders', 'fill', 'positions', 'account'];
    c.send({
      op: 'subscribe',
      args: channels.map((channel) => ({
        instType: 'USDT-FUTURES',
        channel,
        ...(channel === 'account' ? { coin: 'default' } : { instId: 'default' }),
      })),
    });
    for (const channel of channels) {
      await c.next(
        (m) => m['event'] === 'subscribe' && (m['arg'] as { channel: string }).channel === channel,
      );
    }
    const account = sim.accounts.of('bitget').accounts[0];
    assert.ok(account !== undefined);
    const price = sub(account.mark('BTC/USDT'), parseDecimal('5'));
    const order = account.placeOrder({
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      size: parseDecimal('0.02'),
      price,
    });
    for (let i = 0; i < 600 && order.status !== 'filled'; i++) step(10_000);
    assert.equal(order.status, 'filled');
    const push = (channel: string) => (m: Record<string, unknown>) =>
      m['action'] === 'snapshot' && (m['arg'] as { channel: string }).channel === channel;
    const orders = await c.next((m) => push('orders')(m) && JSON.stringify(m).includes('"status":"filled"'));
    assert.deepEqual(Object.keys(orders).sort(), ['action', 'arg', 'data', 'ts']);
    assert.equal(typeof orders['ts'], 'number');
    const fill = (await c.next(push('fill')))['data'] as Record<string, unknown>[];
    const fee = (fill[0]?.['feeDetail'] as { totalFee: string }[])[0]?.totalFee ?? '';
    assert.match(fee, /^-0\.\d+$/, 'a paid fee is negative');
    assert.equal(fill[0]?.['tradeScope'], 'maker');
    const positions = (await c.next((m) => push('positions')(m) && (m['data'] as unknown[]).length > 0))[
      'data'
    ] as Record<string, unknown>[];
    assert.equal(positions.length, 1);
    assert.equal(positions[0]?.['holdSide'], 'long');
    assert.equal(typeof positions[0]?.['leverage'], 'number');
    await c.next(push('account'));
    const rest = await restGet('/api/v2/mix/position/all-position?productType=USDT-FUTURES&marginCoin=USDT');
    const [pos] = rest.body['data'] as Record<string, unknown>[];
    assert.equal(pos?.['total'], '0.02');
    assert.equal(pos?.['leverage'], '10');
    const fills = await restGet('/api/v2/mix/order/fills?productType=USDT-FUTURES');
    assert.ok(((fills.body['data'] as { fillList: unknown[] }).fillList ?? []).length >= 1);
  });

  test('faults: refused connections, then accepted again; dropped private sockets', async () => {
    const faults = sim.accounts.of('bitget').faults;
    faults.refuseConnections(30_000);
    const refused = new WebSocket(sim.urls.bitget.privateWsUrl);
    refused.on('error', () => undefined);
    const status = await new Promise<number>((resolve) =>
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    refused.terminate();
    assert.equal(status, 503);
    clock += 30_001;
    const c = await connect();
    assert.equal(faults.dropConnections() >= 1, true);
    await c.closed;
  });
});
