import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseDecimal } from '../../domain/decimal.ts';
import { startSimulator, type Simulator } from '../simulator.ts';
import { RecordingClient, waitUntil } from '../test-kit.ts';

const ADDRESS = 'dydx19uzcm4j5gwx3ffld7avv8q05c75ml7znzpaan0';
/** Two minutes before a funding time (every 8 h from 00:00 UTC). */
const START = Date.UTC(2026, 2, 2, 15, 58, 0);

type Msg = Record<string, unknown>;

describe('simulated accounts over real sockets: funding and liquidation', () => {
  let sim: Simulator;
  let clock = START;
  const clients: RecordingClient[] = [];
  const step = (ms: number): void => {
    clock += ms;
    sim.advance();
  };

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USD'],
      historyDays: 0,
      tradesPerSecond: 5,
      now: () => clock,
      bitget: { accounts: [{ apiKey: 'k', secret: 's', passphrase: 'p', trader: false }] },
      dydx: { accounts: [{ address: ADDRESS, subaccountNumber: 0, trader: false }] },
    });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sim.close();
  });

  test('dYdX: funding at the period boundary arrives as a position update with netFunding', async () => {
    const c = new RecordingClient(sim.urls.dydx.wsUrl);
    clients.push(c);
    await c.opened;
    c.send({ type: 'subscribe', channel: 'v4_subaccounts', id: `${ADDRESS}/0` });
    await c.waitFor((m): m is Msg => (m as Msg)['type'] === 'subscribed');
    const account = sim.accounts.of('dydx').accounts[0];
    assert.ok(account !== undefined);
    account.placeOrder({ symbol: 'ETH/USD', side: 'buy', type: 'market', size: parseDecimal('0.5') });
    const balance = account.balance;
    step(3 * 60_000);
    const update = await c.waitFor(
      (m): m is Msg =>
        (m as Msg)['type'] === 'channel_data' &&
        !('fills' in ((m as Msg)['contents'] as Msg)) &&
        'perpetualPositions' in ((m as Msg)['contents'] as Msg),
    );
    const [position] = (update['contents'] as Msg)['perpetualPositions'] as Msg[];
    assert.match(String(position?.['netFunding']), /^-\d+\.\d+$/, 'a long pays a positive rate');
    assert.ok(account.balance.coef !== balance.coef || account.balance.scale !== balance.scale);
  });

  test('Bitget: a position is liquidated when the mark crosses its liquidation price, pushed as a burst fill', async () => {
    // Every frame here is JSON: no text ping is sent, so no `pong` comes back.
    const socket = new RecordingClient(sim.urls.bitget.privateWsUrl);
    clients.push(socket);
    await socket.opened;
    const ts = String(Math.floor(clock / 1000));
    const sign = createHmac('sha256', 's').update(`${ts}GET/user/verify`).digest('base64');
    socket.send({ op: 'login', args: [{ apiKey: 'k', passphrase: 'p', timestamp: ts, sign }] });
    await waitUntil(() => (socket.frames as Msg[]).some((m) => m['event'] === 'login'));
    socket.send({
      op: 'subscribe',
      args: [{ instType: 'USDT-FUTURES', channel: 'fill', instId: 'default' }],
    });
    await waitUntil(() => (socket.frames as Msg[]).some((m) => m['event'] === 'subscribe'));
    const account = sim.accounts.of('bitget').accounts[0];
    assert.ok(account !== undefined);
    account.placeOrder({
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      size: parseDecimal('0.01'),
      leverage: 200,
      marginMode: 'isolated',
    });
    const position = account.position('BTC/USDT');
    assert.ok(position !== undefined);
    for (let i = 0; i < 6 * 60 && account.position('BTC/USDT') !== undefined; i++) step(60_000);
    assert.equal(position.status, 'liquidated');
    await waitUntil(() =>
      (socket.frames as Msg[]).some((m) => JSON.stringify(m).includes('"tradeSide":"burst_sell_single"')),
    );
  });
});
