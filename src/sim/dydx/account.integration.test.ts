import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';
import { parseDecimal, sub } from '../../domain/decimal.ts';
import { startSimulator, type Simulator } from '../simulator.ts';
import { WebSocket } from 'ws';
import { getJson, RecordingClient } from '../test-kit.ts';

const WS = `${FIXTURES_DIR}dydx/indexer_ws_captures_2024/`;
const HTTP = `${FIXTURES_DIR}dydx/indexer_http_captures_2024/`;
const ADDRESS = 'dydx19uzcm4j5gwx3ffld7avv8q05c75ml7znzpaan0';
const UNKNOWN = 'dydx1wqhv93j6cs35xhqmz2rqmwzrjh4k2uafj9xjgx';
const START = Date.UTC(2026, 2, 2, 7, 58, 0);

type Msg = Record<string, unknown>;
const read = (path: string): Msg => JSON.parse(readFileSync(path, 'utf8')) as Msg;
const keys = (value: unknown): string[] => Object.keys(value as Msg).sort();
const contentsOf = (m: Msg): Msg => m['contents'] as Msg;

describe('dYdX simulator subaccounts', () => {
  let sim: Simulator;
  let clock = START;
  const clients: RecordingClient[] = [];
  const subscribe = async (id: string): Promise<RecordingClient> => {
    const c = new RecordingClient(sim.urls.dydx.wsUrl);
    clients.push(c);
    await c.opened;
    c.send({ type: 'subscribe', channel: 'v4_subaccounts', id });
    return c;
  };
  const isType =
    (type: string) =>
    (m: unknown): m is Msg =>
      (m as Msg)['type'] === type;

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USD', 'ETH/USD'],
      historyDays: 0,
      tradesPerSecond: 5,
      now: () => clock,
      dydx: { accounts: [{ address: ADDRESS, subaccountNumber: 0, trader: false }] },
    });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sim.close();
  });

  test('subscribed has the captures shape; an unknown subaccount is {}', async () => {
    const c = await subscribe(`${ADDRESS}/0`);
    const subscribed = await c.waitFor(isType('subscribed'));
    const captured = read(`${WS}v4_accounts_subscribed.json`);
    assert.deepEqual(keys(subscribed), keys(captured));
    assert.deepEqual(keys(contentsOf(subscribed)), keys(contentsOf(captured)));
    const subaccount = contentsOf(subscribed)['subaccount'] as Msg;
    assert.deepEqual(keys(subaccount), keys(contentsOf(captured)['subaccount']));
    assert.equal(subaccount['equity'], '10000');
    const httpAsset = (read(`${HTTP}asset_positions.json`)['positions'] as Msg[])[0];
    assert.deepEqual(keys((subaccount['assetPositions'] as Msg)['USDC']), keys(httpAsset));
    assert.equal(subscribed['message_id'], 1);
    const unknown = await subscribe(`${UNKNOWN}/0`);
    assert.deepEqual(contentsOf(await unknown.waitFor(isType('subscribed'))), {});
  });

  test('a fill sends channel_data with fills, orders and positions shaped like the captures', async () => {
    const c = await subscribe(`${ADDRESS}/0`);
    await c.waitFor(isType('subscribed'));
    const account = sim.accounts.of('dydx').accounts[0];
    assert.ok(account !== undefined);
    const price = sub(account.mark('ETH/USD'), parseDecimal('0.5'));
    const order = account.placeOrder({
      symbol: 'ETH/USD',
      side: 'buy',
      type: 'limit',
      size: parseDecimal('0.5'),
      price,
    });
    for (let i = 0; i < 600 && order.status !== 'filled'; i++) {
      clock += 10_000;
      sim.advance();
    }
    assert.equal(order.status, 'filled');
    const withFill = await c.waitFor((m): m is Msg => isType('channel_data')(m) && 'fills' in contentsOf(m));
    const captured = read(`${WS}v4_accounts_fills.json`);
    assert.deepEqual(keys(withFill), keys(captured));
    assert.equal(withFill['version'], captured['version']);
    const mine = contentsOf(withFill);
    const theirs = contentsOf(captured);
    for (const part of ['fills', 'perpetualPositions']) {
      assert.deepEqual(keys((mine[part] as Msg[])[0]), keys((theirs[part] as Msg[])[0]), part);
    }
    const capturedOrder = keys((theirs['orders'] as Msg[])[0]).filter((k) => k !== 'triggerPrice');
    assert.deepEqual(keys((mine['orders'] as Msg[])[0]), capturedOrder);
    const ids = c.frames.map((f) => (f as Msg)['message_id']);
    assert.deepEqual(
      ids,
      ids.map((_, i) => i),
      'message_id counts every message of the connection',
    );

    const base = `${sim.urls.dydx.restUrl}/v4`;
    const subaccount = await getJson(`${base}/addresses/${ADDRESS}/subaccountNumber/0`);
    assert.equal(subaccount.status, 200);
    const http = read(`${HTTP}subaccount.json`)['subaccount'] as Msg;
    const got = (subaccount.body as Msg)['subaccount'] as Msg;
    assert.deepEqual(keys(got), keys(http));
    const positions = got['openPerpetualPositions'] as Msg;
    assert.deepEqual(keys(positions['ETH-USD']), keys((http['openPerpetualPositions'] as Msg)['ETH-USD']));
    const fills = await getJson(`${base}/fills?address=${ADDRESS}&subaccountNumber=0`);
    const httpFill = (read(`${HTTP}fills.json`)['fills'] as Msg[])[0];
    assert.deepEqual(keys(((fills.body as Msg)['fills'] as Msg[])[0]), keys(httpFill));
    const orders = await getJson(`${base}/orders?address=${ADDRESS}&subaccountNumber=0`);
    assert.equal(((orders.body as Msg[])[0] as Msg)['status'], 'FILLED');
    const pp = await getJson(`${base}/perpetualPositions?address=${ADDRESS}&subaccountNumber=0`);
    assert.equal((((pp.body as Msg)['positions'] as Msg[])[0] as Msg)['size'], '0.5');
    const pnl = await getJson(`${base}/historical-pnl?address=${ADDRESS}&subaccountNumber=0`);
    assert.ok(((pnl.body as Msg)['historicalPnl'] as Msg[]).length >= 1);
    const missing = await getJson(`${base}/addresses/${UNKNOWN}/subaccountNumber/0`);
    assert.equal(missing.status, 404);
  });

  test('dropping the subaccount sockets closes them; refused connections answer 503', async () => {
    const c = await subscribe(`${ADDRESS}/0`);
    await c.waitFor(isType('subscribed'));
    const faults = sim.accounts.of('dydx').faults;
    assert.ok(faults.dropConnections() >= 1);
    await c.closed;
    faults.refuseConnections(60_000);
    const refused = new WebSocket(sim.urls.dydx.wsUrl);
    refused.on('error', () => undefined);
    const status = await new Promise<number>((resolve) =>
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    refused.terminate();
    assert.equal(status, 503);
    clock += 60_001;
    const again = await subscribe(`${ADDRESS}/0`);
    await again.waitFor(isType('subscribed'));
  });
});
