/**
 * Trader accounts, end to end: the simulator's Bitget and dYdX demo accounts, `tickwire all` following them from
 * its configuration, and clients on `/ws/dashboard` with a token each. What a client builds from the snapshots
 * and deltas is what the simulated exchange holds; a fill made while the private sockets are down arrives once;
 * neither client ever sees the other's account.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { parseDecimal, sub, toPlainString, ZERO } from '../../src/domain/decimal.ts';
import { Secret } from '../../src/config/secret.ts';
import { AccountAuth } from '../../src/gateway/auth.ts';
import { demoAccounts } from '../../src/sim/accounts/config.ts';
import { startSimulatedSystem, until } from './helpers.ts';

const AUTH_SECRET = 'e2e-accounts-secret-0123456789abcdef';
const BITGET = demoAccounts.bitget[0]!;
const DYDX = demoAccounts.dydx[0]!;

interface Keyed {
  readonly key: string;
  readonly [field: string]: unknown;
}

/** A dashboard client: applies every channel's snapshot and keyed-list deltas, and checks each channel's seq. */
class DashboardClient {
  readonly messages: Record<string, unknown>[] = [];
  readonly lists = new Map<string, Map<string, Keyed>>();
  readonly seqGaps: string[] = [];
  private readonly seq = new Map<string, number>();
  private readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => this.onMessage(JSON.parse(String(data)) as Record<string, unknown>));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  close(): void {
    this.ws.close();
  }

  list(channel: string): Keyed[] {
    return [...(this.lists.get(channel)?.values() ?? [])];
  }

  private onMessage(message: Record<string, unknown>): void {
    this.messages.push(message);
    const channel = message['channel'];
    if (typeof channel !== 'string' || typeof message['seq'] !== 'number') return;
    const seq = message['seq'];
    const last = this.seq.get(channel);
    if (message['snapshot'] !== true && last !== undefined && seq !== last + 1)
      this.seqGaps.push(`${channel}: ${last} → ${seq}`);
    this.seq.set(channel, seq);
    const data = message['data'] as { upsert?: Keyed[]; remove?: string[] } | undefined;
    if (data?.upsert === undefined) return;
    let list = this.lists.get(channel);
    if (list === undefined || message['snapshot'] === true) this.lists.set(channel, (list = new Map()));
    for (const item of data.upsert) list.set(item.key, item);
    for (const key of data.remove ?? []) list.delete(key);
  }
}

describe('trader accounts, end to end', () => {
  it('serves each account what its simulated exchange holds, to its own token only, across a dropped stream', async (t) => {
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['bitget', 'dydx'],
      symbols: ['BTC/USDT', 'BTC/USD'],
      seed: 31,
      untilLive: false,
      accounts: [
        {
          id: 'demo-bitget',
          venue: 'bitget',
          credentials: { apiKey: BITGET.apiKey, secret: BITGET.secret, passphrase: BITGET.passphrase },
        },
        { id: 'demo-dydx', venue: 'dydx', address: DYDX.address, subaccountNumber: DYDX.subaccountNumber },
      ],
      auth: { secret: AUTH_SECRET },
    });
    const auth = new AccountAuth({
      accounts: ['demo-bitget', 'demo-dydx'],
      secret: new Secret(AUTH_SECRET),
      now: Date.now,
    });
    const dashboardUrl = async (account: string): Promise<string> =>
      `${system.gateway.url}/ws/dashboard?token=${await auth.issue(account, 3600_000)}`;
    const dydxClient = new DashboardClient(await dashboardUrl('demo-dydx'));
    const bitgetClient = new DashboardClient(await dashboardUrl('demo-bitget'));
    t.after(() => {
      dydxClient.close();
      bitgetClient.close();
    });
    await Promise.all([dydxClient.opened(), bitgetClient.opened()]);
    const dydx = sim.accounts.of('dydx').accounts[0]!;
    const bitget = sim.accounts.of('bitget').accounts[0]!;

    // An order on each exchange: the fill and the position reach that account's client.
    const dydxOrder = dydx.placeOrder({
      symbol: 'BTC/USD',
      side: 'buy',
      type: 'market',
      size: parseDecimal('0.013'),
    });
    const bitgetOrder = bitget.placeOrder({
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'market',
      size: parseDecimal('0.021'),
    });
    // The simulated engines number their orders; the venues' ids differ, so a fill is recognized by what it is.
    const describe = (f: { symbol: unknown; side: unknown; size: unknown; price: unknown }): string =>
      `${String(f.symbol)} ${String(f.side)} ${String(f.size)} @ ${String(f.price)}`;
    const fillsOf = (order: { readonly seq: number }, account: typeof dydx): string[] =>
      account.fills
        .filter((f) => f.order.seq === order.seq)
        .map((f) => describe({ ...f, size: toPlainString(f.size), price: toPlainString(f.price) }));
    const hasFillOf = (
      client: DashboardClient,
      order: { readonly seq: number },
      account: typeof dydx,
    ): boolean => {
      const expected = fillsOf(order, account);
      const seen = client.list('trades').map((f) => describe(f as never));
      return expected.length > 0 && expected.every((e) => seen.includes(e));
    };
    await until(() => hasFillOf(dydxClient, dydxOrder, dydx), 60_000, 'the dYdX fill on the trades channel');
    await until(
      () => hasFillOf(bitgetClient, bitgetOrder, bitget),
      60_000,
      'the Bitget fill on the trades channel',
    );

    // The positions a client holds are the exchange's (the seeded traders trade too: compare once both agree).
    const positionsOf = (client: DashboardClient): string[] =>
      client
        .list('positions')
        .map((p) => `${String(p['symbol'])} ${String(p['side'])} ${String(p['size'])}`)
        .sort();
    const venuePositions = (account: typeof dydx): string[] =>
      account
        .positions()
        .map((p) => {
          const long = p.size.coef > 0n;
          return `${p.symbol} ${long ? 'long' : 'short'} ${toPlainString(long ? p.size : sub(ZERO, p.size))}`;
        })
        .sort();
    await until(
      () => JSON.stringify(positionsOf(dydxClient)) === JSON.stringify(venuePositions(dydx)),
      30_000,
      'the dYdX client holds the exchange positions',
    );
    await until(
      () => JSON.stringify(positionsOf(bitgetClient)) === JSON.stringify(venuePositions(bitget)),
      30_000,
      'the Bitget client holds the exchange positions',
    );

    // The private streams drop: a fill made meanwhile arrives once, from the reconcile or the stream.
    sim.accounts.of('dydx').faults.dropConnections();
    const duringDrop = dydx.placeOrder({
      symbol: 'BTC/USD',
      side: 'sell',
      type: 'market',
      size: parseDecimal('0.005'),
    });
    await until(
      () => hasFillOf(dydxClient, duringDrop, dydx),
      60_000,
      'the fill made while the stream was down',
    );
    const fillIds = dydxClient.messages
      .filter((m) => m['type'] === 'trade_update')
      .flatMap((m) => ((m['data'] as { upsert?: Keyed[] }).upsert ?? []).map((f) => f.key));
    assert.equal(new Set(fillIds).size, fillIds.length, 'no fill sent twice');
    const venueFills = dydx.fills.map((f) =>
      describe({ ...f, size: toPlainString(f.size), price: toPlainString(f.price) }),
    );
    for (const fill of dydxClient.list('trades'))
      assert.ok(
        venueFills.includes(describe(fill as never)),
        `${describe(fill as never)} is one of the exchange's`,
      );

    // Each token sees its own account only, and nobody skipped a sequence number.
    const accountsSeen = (client: DashboardClient): Set<unknown> =>
      new Set(client.messages.filter((m) => 'account' in m).map((m) => m['account']));
    assert.deepEqual([...accountsSeen(dydxClient)], ['demo-dydx']);
    assert.deepEqual([...accountsSeen(bitgetClient)], ['demo-bitget']);
    assert.deepEqual(dydxClient.seqGaps, []);
    assert.deepEqual(bitgetClient.seqGaps, []);

    // The stored fills are served over REST with the token.
    const response = await fetch(`${system.gateway.url.replace(/^ws/, 'http')}/api/account/fills`, {
      headers: { authorization: `Bearer ${await auth.issue('demo-bitget', 60_000)}` },
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { account: string; fills: Record<string, unknown>[] };
    assert.equal(body.account, 'demo-bitget');
    const stored = body.fills.map((f) => describe(f as never));
    for (const fill of fillsOf(bitgetOrder, bitget)) assert.ok(stored.includes(fill), `${fill} is stored`);
  });
});
