import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TickwireError } from '../../domain/errors.ts';
import { toPlainString } from '../../domain/decimal.ts';
import { checkSubaccountRef, DydxAccountRest } from './account-rest.ts';
import { AccountIndexer } from './account-server.test-support.ts';

const ADDRESS = 'dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art';
const venues: AccountIndexer[] = [];

async function setup(notIndexed = false): Promise<{ venue: AccountIndexer; rest: DydxAccountRest }> {
  const venue = new AccountIndexer({
    address: ADDRESS,
    subaccountNumber: 0,
    now: () => 1_780_000_000_000,
    notIndexed,
  });
  await venue.start();
  venues.push(venue);
  const rest = new DydxAccountRest({
    restUrl: venue.restUrl,
    address: ADDRESS,
    subaccountNumber: 0,
    requestsPerSecond: 1000,
    pageLimit: 2,
    http: { maxRetries: 0 },
  });
  return { venue, rest };
}

describe('dYdX account REST against an indexer', () => {
  after(async () => {
    for (const v of venues) await v.close();
  });

  it('reads the snapshot with working orders only, and the orders, positions and PnL endpoints', async () => {
    const { venue, rest } = await setup();
    const filled = venue.placeOrder('BTC-USD', 'BUY', '0.1', '60000');
    venue.fill(filled, '0.1');
    const open = venue.placeOrder('ETH-USD', 'SELL', '1', '2600');
    venue.fill(open, '0.4');
    const state = await rest.fetchSnapshot(1);
    assert.equal(state.indexed, true);
    assert.deepEqual(
      state.snapshot.openOrders.map((o) => [o.orderId, o.status]),
      [[open, 'partially_filled']],
    );
    assert.equal(toPlainString(state.snapshot.summary.equity), toPlainString(venue.equity()));
    assert.deepEqual(state.snapshot.positions.map((p) => [p.symbol, p.side, toPlainString(p.size)]).sort(), [
      ['BTC/USD', 'long', '0.1'],
      ['ETH/USD', 'short', '0.4'],
    ]);
    const statusQuery = venue.requests.find((r) => r.startsWith('/v4/orders'));
    assert.match(statusQuery ?? '', /status=OPEN%2CUNTRIGGERED%2CBEST_EFFORT_OPENED%2CBEST_EFFORT_CANCELED/);
    const all = await rest.fetchOrders({}, 1);
    assert.equal(all.length, 2);
    assert.deepEqual(
      (await rest.fetchOpenOrders(1)).map((o) => o.orderId),
      [open],
    );
    const positions = await rest.fetchPositions({ status: 'OPEN' }, 1);
    assert.equal(positions.length, 2);
    const pnl = await rest.fetchHistoricalPnl({ from: 0 });
    assert.equal(toPlainString(pnl[0]?.equity ?? { coef: 0n, scale: 0 }), toPlainString(venue.equity()));
  });

  it('pages fills back by block height and returns those since a height or a time, ascending, once each', async () => {
    const { venue, rest } = await setup();
    const id = venue.placeOrder('BTC-USD', 'BUY', '1', '60000');
    const fills = Array.from({ length: 7 }, () => venue.fill(id, '0.1'));
    const since = await rest.fetchFillsSince({ height: Number(fills[2]?.createdAtHeight) });
    assert.deepEqual(
      since.map((f) => f.fill.fillId),
      fills.slice(2).map((f) => f.id),
    );
    const everything = await rest.fetchFillsSince({ time: 0 });
    assert.equal(everything.length, 7);
    assert.ok(venue.requests.some((r) => r.includes('createdBeforeOrAtHeight=')));
  });

  it('reads a subaccount not indexed yet (404) as the empty snapshot', async () => {
    const { rest } = await setup(true);
    const state = await rest.fetchSnapshot(5);
    assert.equal(state.indexed, false);
    assert.deepEqual(state.snapshot.positions, []);
    assert.equal(state.snapshot.time, 5);
  });

  it('turns a 403 into a clear VENUE_REJECTED without the address in it', async () => {
    const { venue, rest } = await setup();
    venue.blocked = true;
    await assert.rejects(
      () => rest.fetchSnapshot(1),
      (err: unknown) =>
        err instanceof TickwireError &&
        err.code === 'VENUE_REJECTED' &&
        /HTTP 403: address blocked/.test(err.message) &&
        !err.message.includes(ADDRESS),
    );
  });

  it('refuses an address or subaccount number that cannot be right', () => {
    assert.throws(() => checkSubaccountRef({ address: '0xabc', subaccountNumber: 0 }), /dydx1/);
    assert.throws(() => checkSubaccountRef({ address: ADDRESS, subaccountNumber: -1 }), /subaccountNumber/);
    assert.throws(
      () => checkSubaccountRef({ address: ADDRESS, subaccountNumber: 128_000 }),
      /subaccountNumber/,
    );
  });
});
