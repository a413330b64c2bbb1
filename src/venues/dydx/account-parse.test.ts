import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Order } from '../../domain/account.ts';
import { toPlainString, type Decimal } from '../../domain/decimal.ts';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';
import {
  deriveEquity,
  isBlockedMessage,
  parseFill,
  parseOrder,
  parsePnlPoint,
  parsePosition,
  parseSubaccount,
  parseSubscribed,
  parseUpdate,
} from './account-parse.ts';

// Captures of the indexer (test/fixtures/SOURCES.md: nautilus_trader test data, captured 2024), and our own
// dydx-account fixtures (test/fixtures/dydx-account/SOURCES.md).
const WS_DIR = `${FIXTURES_DIR}dydx/indexer_ws_captures_2024/`;
const HTTP_DIR = `${FIXTURES_DIR}dydx/indexer_http_captures_2024/`;
const ACCOUNT_DIR = `${FIXTURES_DIR}dydx-account/`;
const T = Date.parse('2024-12-31T00:00:00Z');

function json(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

const d = (x: Decimal | undefined): string | undefined => (x === undefined ? undefined : toPlainString(x));

describe('dYdX account parse: subscribed snapshots', () => {
  it('reads the subaccount, its positions, USDC balance and working orders (v4_accounts_balance)', () => {
    const frame = json(WS_DIR + 'v4_accounts_balance.json');
    const state = parseSubscribed(frame['contents'], T);
    assert.equal(state.indexed, true);
    assert.equal(state.blockHeight, 19300874);
    const s = state.snapshot;
    assert.equal(d(s.summary.equity), '326.241869692');
    assert.equal(d(s.summary.available), '20.9475641534');
    assert.equal(s.summary.currency, 'USDC');
    assert.equal(d(s.summary.unrealizedPnl), '46.926203570587196467990672');
    const eth = s.positions.find((p) => p.symbol === 'ETH/USD');
    assert.ok(eth);
    assert.equal(eth.side, 'short');
    assert.equal(d(eth.size), '0.007');
    assert.equal(d(eth.entryPrice), '2656.54285714285714285714');
    assert.equal(eth.marginMode, 'cross');
    assert.equal(d(eth.realizedPnl), '0.08849999999999999999998');
    const btc = s.positions.find((p) => p.symbol === 'BTC/USD');
    assert.equal(btc?.side, 'long');
    assert.equal(d(btc?.size), '0.1036');
    // USDC SHORT is a negative balance: collateral borrowed against the long BTC.
    assert.deepEqual(
      s.balances.map((b) => [b.currency, d(b.total), d(b.available), d(b.locked)]),
      [['USDC', '-5742.811799', '-5742.811799', '0']],
    );
    // Every listed order is BEST_EFFORT_CANCELED: none is working.
    assert.deepEqual(s.openOrders, []);
  });

  it('derives the indexer equity from USDC and the positions (size × entry + unrealized)', () => {
    for (const name of ['v4_accounts_balance.json', 'v4_accounts_subscribed_negative_initial_margin.json']) {
      const s = parseSubscribed(json(WS_DIR + name)['contents'], T).snapshot;
      const derived = deriveEquity(s.balances, s.positions);
      // The indexer rounds equity to 9 places; the derivation is exact.
      assert.equal(d(derived)?.slice(0, d(s.summary.equity)?.length), d(s.summary.equity), name);
    }
  });

  it('keeps an order listed twice once, the more final report winning', () => {
    const s = parseSubscribed(
      json(WS_DIR + 'v4_accounts_subscribed_best_effort_canceled.json')['contents'],
      T,
    );
    assert.deepEqual(s.snapshot.openOrders, []);
    const open = parseSubscribed(json(WS_DIR + 'v4_accounts_subscribed.json')['contents'], T).snapshot;
    assert.equal(open.openOrders.length, 1);
    const o = open.openOrders[0] as Order;
    assert.equal(o.orderId, '05009670-3fba-5ec7-8447-efb81a03cd9f');
    assert.equal(o.symbol, 'ETH/USD');
    assert.equal(o.side, 'buy');
    assert.equal(o.status, 'open');
    assert.equal(o.clientOrderId, '2043599281');
    assert.equal(d(o.price), '3335.3');
    assert.deepEqual(open.positions, []);
    assert.equal(d(open.summary.equity), '11.623325');
  });

  it('reads the {} of a subaccount not indexed yet as an empty snapshot', () => {
    const frame = json(ACCOUNT_DIR + 'subscribed_not_indexed.json');
    const state = parseSubscribed(frame['contents'], T);
    assert.equal(state.indexed, false);
    assert.deepEqual(state.snapshot.positions, []);
    assert.deepEqual(state.snapshot.openOrders, []);
    assert.equal(d(state.snapshot.summary.equity), '0');
  });

  it('reads the REST subaccount the same way', () => {
    const body = json(HTTP_DIR + 'subaccount.json');
    const state = parseSubaccount(body['subaccount'], [], T);
    assert.equal(d(state.snapshot.summary.equity), '99.206819554');
    assert.equal(state.snapshot.positions[0]?.symbol, 'ETH/USD');
    assert.equal(state.blockHeight, 18164178);
  });

  it('refuses malformed contents with the field named', () => {
    assert.throws(() => parseSubscribed({ foo: 1 }, T), /neither subaccount/);
    const bad = json(WS_DIR + 'v4_accounts_subscribed.json')['contents'] as Record<string, unknown>;
    const sub = { ...(bad['subaccount'] as object), equity: 12 };
    assert.throws(() => parseSubscribed({ ...bad, subaccount: sub }, T), /field equity/);
  });
});

describe('dYdX account parse: updates', () => {
  it('reads fills with positive fees, taker liquidity and the height; FILLED order; OPEN position', () => {
    const frame = json(WS_DIR + 'v4_accounts_fills.json');
    const u = parseUpdate(frame['contents'], T, 0);
    assert.equal(u.blockHeight, 18794557);
    assert.equal(u.fills.length, 2);
    const f = u.fills[0];
    assert.ok(f);
    assert.equal(f.height, 18794557);
    assert.equal(f.fill.fillId, 'aec07db3-d668-5b77-8508-0f50a28bb303');
    assert.equal(f.fill.orderId, '70dbcf99-214e-54f5-9ddd-3c5e1a46b95e');
    assert.equal(f.fill.symbol, 'ETH/USD');
    assert.equal(f.fill.side, 'buy');
    assert.equal(d(f.fill.price), '2620.1');
    assert.equal(d(f.fill.size), '0.001');
    assert.equal(d(f.fill.fee), '0.001311');
    assert.equal(f.fill.feeCurrency, 'USDC');
    assert.equal(f.fill.liquidity, 'taker');
    assert.equal(f.fill.liquidation, undefined);
    assert.equal(f.fill.time, Date.parse('2024-08-12T14:06:01.172Z'));
    const order = parseOrder(u.orders[0], undefined, T);
    assert.equal(order?.status, 'filled');
    assert.equal(d(order?.filledSize), '0.002');
    const p = u.positions[0];
    assert.equal(p?.kind, 'open');
    if (p?.kind === 'open') {
      assert.equal(p.position.side, 'long');
      assert.equal(d(p.position.size), '0.005');
      assert.equal(d(p.position.unrealizedPnl), '-1.683806695');
    }
  });

  it('reads a maker fill with its rebate sign kept and a REST fill by market', () => {
    const body = json(HTTP_DIR + 'v4_fills.json');
    const f = parseFill((body['fills'] as unknown[])[0]);
    assert.equal(f.liquidity, 'maker');
    assert.equal(f.symbol, 'ETH/USD');
    assert.equal(d(f.fee), '0.000496');
    const rebate = parseFill({ ...((body['fills'] as unknown[])[0] as object), fee: '-0.0001' });
    assert.equal(d(rebate.fee), '-0.0001');
  });

  it('marks a LIQUIDATED fill as a liquidation, and counts a fill without fee (2023 schema) as fee 0', () => {
    const docs = json(WS_DIR + 'v4_accounts_channel_data__DOCS_EXAMPLE_2023.json');
    const u = parseUpdate(docs['contents'], T, 0);
    assert.equal(d(u.fills[0]?.fill.fee), '0');
    const raw = (docs['contents'] as { fills: object[] }).fills[0] as object;
    assert.equal(parseFill({ ...raw, type: 'LIQUIDATED' }).liquidation, true);
    assert.equal(parseFill({ ...raw, type: 'LIQUIDATION' }).liquidation, undefined);
  });

  it('maps order statuses: opened, best-effort opened, untriggered, canceled, best-effort canceled', () => {
    const opened = parseUpdate(json(WS_DIR + 'v4_accounts_channel_data_order.json')['contents'], T, 0);
    const o = parseOrder(opened.orders[0], undefined, T);
    assert.equal(o?.status, 'open');
    assert.equal(o?.createdAt, Date.parse('2024-08-12T11:19:22.082Z'));
    const canceledFrame = json(WS_DIR + 'v4_accounts_channel_data_order_canceled.json');
    const c = parseOrder(parseUpdate(canceledFrame['contents'], T, 0).orders[0], o, T);
    assert.equal(c?.status, 'canceled');
    assert.equal(c?.reason, 'ORDER_REMOVAL_REASON_USER_CANCELED');
    // Created when first seen, updated by the cancel.
    assert.equal(c?.createdAt, o?.createdAt);
    assert.equal(c?.updatedAt, Date.parse('2024-08-12T11:27:02.651Z'));
    const beo = json(WS_DIR + 'v4_accounts_channel_data_order_opened.json');
    const b = parseOrder(parseUpdate(beo['contents'], T, 0).orders[0], undefined, T);
    assert.equal(b?.status, 'open');
    assert.equal(b?.createdAt, T, 'no updatedAt: the time it was learned');
    const bec = json(WS_DIR + 'v4_accounts_channel_data_order_best_effort_canceled.json');
    const x = parseOrder(parseUpdate(bec['contents'], T, 0).orders[0], undefined, T);
    assert.equal(x?.status, 'canceled');
    assert.equal(d(x?.filledSize), '0.003', 'totalOptimisticFilled');
    const conditional = json(HTTP_DIR + 'conditional_order__DERIVED_from_orders.json');
    const u = parseOrder({ ...conditional, status: 'UNTRIGGERED', totalFilled: '0' }, undefined, T);
    assert.equal(u?.status, 'open');
    assert.equal(u?.type, 'stop_limit');
  });

  it('reads partially filled when 0 < totalFilled < size', () => {
    const frame = json(WS_DIR + 'v4_accounts_channel_data_order.json');
    const raw = (frame['contents'] as { orders: object[] }).orders[0] as object;
    assert.equal(
      parseOrder({ ...raw, size: '0.003', totalFilled: '0.001' }, undefined, T)?.status,
      'partially_filled',
    );
    assert.equal(parseOrder({ ...raw, size: '0.003', totalFilled: '0.003' }, undefined, T)?.status, 'open');
    assert.equal(parseOrder({ ...raw, type: 'MARKET' }, undefined, T)?.price, undefined);
  });

  it('merges a partial order update (expired) over what was known, and skips one never seen', () => {
    const frame = json(WS_DIR + 'v4_accounts_channel_data_order_expired.json');
    const raw = (frame['contents'] as { orders: object[] }).orders[0];
    assert.equal(parseOrder(raw, undefined, T), undefined);
    const known: Order = {
      orderId: '5a1c10aa-66bb-5cf2-a106-32d6470eb43e',
      symbol: 'ETH/USD',
      market: 'perpetual',
      side: 'sell',
      type: 'limit',
      price: { coef: 2500n, scale: 0 },
      size: { coef: 1n, scale: 2 },
      filledSize: { coef: 0n, scale: 0 },
      status: 'open',
      createdAt: 1,
      updatedAt: 1,
    };
    const merged = parseOrder(raw, known, T);
    assert.equal(merged?.status, 'canceled');
    assert.equal(merged?.reason, 'ORDER_REMOVAL_REASON_EXPIRED');
    assert.equal(merged?.side, 'sell');
    assert.equal(d(merged?.size), '0.01');
    assert.equal(merged?.createdAt, 1);
    assert.equal(merged?.updatedAt, T);
  });

  it('reads CLOSED and LIQUIDATED positions as ended', () => {
    const frame = json(WS_DIR + 'v4_accounts_channel_data_affiliate_rev_share.json');
    const raw = (frame['contents'] as { perpetualPositions: object[] }).perpetualPositions[0] as object;
    const closed = parsePosition({ ...raw, status: 'CLOSED', size: '0' }, T, 0);
    assert.deepEqual(
      closed.kind === 'ended' ? [closed.symbol, closed.side, closed.end, d(closed.realizedPnl)] : [],
      ['ETH/USD', 'long', 'closed', '1.64521562499999999999999'],
    );
    const liq = parsePosition({ ...raw, status: 'LIQUIDATED' }, T, 0);
    assert.equal(liq.kind === 'ended' ? liq.end : undefined, 'liquidated');
    const isolated = parsePosition(raw, T, 128);
    assert.equal(isolated.kind === 'open' ? isolated.position.marginMode : undefined, 'isolated');
  });

  it('reads transfers, trading rewards and asset positions', () => {
    const t = parseUpdate(json(WS_DIR + 'v4_accounts_channel_data_transfers.json')['contents'], T, 0);
    assert.equal(t.transfers.length, 1);
    assert.equal(t.transfers[0]?.['type'], 'WITHDRAWAL');
    const r = parseUpdate(json(WS_DIR + 'v4_accounts_rewards.json')['contents'], T, 0);
    assert.equal(r.tradingReward?.['tradingReward'], '0.000406735266535702');
    const a = parseUpdate(
      { assetPositions: [{ symbol: 'USDC', side: 'LONG', size: '90.461932', assetId: '0' }] },
      T,
      0,
    );
    assert.equal(d(a.balances[0]?.total), '90.461932');
  });

  it('refuses malformed items with the field named', () => {
    assert.throws(() => parseUpdate({ fills: [{ id: 'x', side: 'UP' }] }, T, 0), /field side/);
    assert.throws(
      () => parseUpdate({ perpetualPositions: [{ market: 'BTC-USD', side: 'LONG', status: 'X' }] }, T, 0),
      /status/,
    );
    assert.throws(
      () => parseOrder({ id: 'a', status: 'WEIRD', side: 'BUY', size: '1', ticker: 'BTC-USD' }, undefined, T),
      /status/,
    );
  });
});

describe('dYdX account parse: REST extras', () => {
  it('reads historical PnL points and recognises the blocked-address refusal', () => {
    const body = json(ACCOUNT_DIR + 'historical_pnl.json');
    const p = parsePnlPoint((body['historicalPnl'] as unknown[])[0]);
    assert.equal(d(p.equity), '1000.123456');
    assert.equal(p.blockHeight, 20000000);
    const blocked = json(ACCOUNT_DIR + 'error_blocked.json');
    assert.ok(isBlockedMessage(blocked['message'] as string));
    assert.ok(!isBlockedMessage('Internal error, could not fetch data for subscription: v4_subaccounts.'));
  });
});
