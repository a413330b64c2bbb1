import type {
  AccountSnapshot,
  AccountSummary,
  Balance,
  Fill,
  Order,
  OrderStatus,
  OrderType,
  Position,
  PositionEnd,
  PositionSide,
} from '../../domain/account.ts';
import { add, compare, mul, sub, ZERO, type Decimal } from '../../domain/decimal.ts';
import {
  array,
  decimal,
  isJsonObject,
  isoTime,
  nonEmptyString,
  nonNegativeDecimal,
  optionalDecimal,
  positiveDecimal,
  stringValue,
  type JsonObject,
} from '../json-fields.ts';
import { fromDydxTicker } from './symbols.ts';
import type { DydxOrderStatus, DydxOrderType } from './account-wire.ts';

/**
 * Pure mapping of a dYdX v4 subaccount (v4_subaccounts frames and the account REST answers) to Tickwire's account
 * types (src/domain/account.ts). The indexer prints human units, so nothing is converted: prices in USD, sizes in
 * base units, balances and fees in USDC. Functions throw an Error naming the field on malformed input; the source
 * counts such frames, the REST client turns them into VENUE_REJECTED.
 */

/** The settlement and fee currency of dYdX perpetuals. */
export const DYDX_COLLATERAL = 'USDC';

/** Subaccounts from this number up hold isolated-margin positions (dYdX parent/child subaccounts). */
export const FIRST_ISOLATED_SUBACCOUNT = 128;

/** "BTC-USD" → "BTC/USD"; throws for a ticker with no canonical form. */
export function accountSymbol(ticker: unknown, field = 'ticker'): string {
  const text = nonEmptyString(ticker, field);
  const symbol = fromDydxTicker(text);
  if (symbol === undefined) throw new Error(`field ${field} "${text}" is not a BASE-QUOTE market`);
  return symbol;
}

function negate(d: Decimal): Decimal {
  return sub(ZERO, d);
}

function abs(d: Decimal): Decimal {
  return d.coef < 0n ? negate(d) : d;
}

function positionSide(value: unknown, field: string): PositionSide {
  if (value === 'LONG') return 'long';
  if (value === 'SHORT') return 'short';
  throw new Error(`field ${field} must be LONG or SHORT`);
}

function object(value: unknown, field: string): JsonObject {
  if (!isJsonObject(value)) throw new Error(`field ${field} must be an object`);
  return value;
}

/** What one perpetual position report means: an open position to upsert, or the end of one. */
export type DydxPositionChange =
  | { readonly kind: 'open'; readonly position: Position }
  | {
      readonly kind: 'ended';
      readonly symbol: string;
      readonly side: PositionSide;
      readonly end: PositionEnd;
      readonly realizedPnl: Decimal | undefined;
      readonly time: number;
    };

/**
 * One perpetual position. OPEN → the position (size unsigned, side from LONG/SHORT); CLOSED → ended 'closed';
 * LIQUIDATED → ended 'liquidated'. dYdX reports no leverage, margin or liquidation price per position: margin is
 * 0 and the others are absent (cross margin is shared by the subaccount; free collateral is in the summary).
 * `time` is when the change was learned (the indexer gives no update time on positions).
 */
export function parsePosition(raw: unknown, time: number, subaccountNumber: number): DydxPositionChange {
  const p = object(raw, 'position');
  const symbol = accountSymbol(p['market'], 'market');
  const side = positionSide(p['side'], 'side');
  const status = p['status'];
  if (status === 'CLOSED' || status === 'LIQUIDATED') {
    return {
      kind: 'ended',
      symbol,
      side,
      end: status === 'CLOSED' ? 'closed' : 'liquidated',
      realizedPnl: optionalDecimal(p['realizedPnl'], 'realizedPnl'),
      time,
    };
  }
  if (status !== 'OPEN') throw new Error('field status must be OPEN, CLOSED or LIQUIDATED');
  const position: Position = {
    symbol,
    side,
    size: abs(decimal(p['size'], 'size')),
    entryPrice: positiveDecimal(p['entryPrice'], 'entryPrice'),
    marginMode: subaccountNumber >= FIRST_ISOLATED_SUBACCOUNT ? 'isolated' : 'cross',
    unrealizedPnl: decimal(p['unrealizedPnl'], 'unrealizedPnl'),
    realizedPnl: optionalDecimal(p['realizedPnl'], 'realizedPnl'),
    margin: ZERO,
    timestamp: time,
  };
  return { kind: 'open', position };
}

/**
 * One asset position as a balance. `size` is unsigned and `side` gives the sign: a SHORT USDC position is a
 * negative balance (the collateral borrowed against long perpetuals). The indexer locks nothing per asset, so
 * available = total and locked = 0; what margin holds shows in the summary's `available` (free collateral).
 */
export function parseBalance(raw: unknown, time: number): Balance {
  const a = object(raw, 'assetPosition');
  const size = nonNegativeDecimal(a['size'], 'size');
  const total = positionSide(a['side'], 'side') === 'short' ? negate(size) : size;
  return { currency: nonEmptyString(a['symbol'], 'symbol'), total, available: total, locked: ZERO, time };
}

const OPEN_STATUSES: ReadonlySet<string> = new Set<DydxOrderStatus>([
  'OPEN',
  'BEST_EFFORT_OPENED',
  'UNTRIGGERED',
]);
const CANCELED_STATUSES: ReadonlySet<string> = new Set<DydxOrderStatus>(['CANCELED', 'BEST_EFFORT_CANCELED']);

const ORDER_TYPES: Readonly<Record<DydxOrderType, OrderType>> = {
  LIMIT: 'limit',
  MARKET: 'market',
  STOP_LIMIT: 'stop_limit',
  STOP_MARKET: 'stop_market',
  TAKE_PROFIT: 'other',
  TAKE_PROFIT_MARKET: 'other',
  TRAILING_STOP: 'other',
};

/** Whether an order of this status is still working (it belongs to the open orders). */
export function isOpenStatus(status: OrderStatus): boolean {
  return status === 'open' || status === 'partially_filled';
}

/**
 * One order, merged over `previous` (what was known of it): stream updates may carry only part of an order (an
 * expired order comes as id, status, ticker and removal reason). Status: OPEN, BEST_EFFORT_OPENED, UNTRIGGERED →
 * open (partially_filled when 0 < filled < size); FILLED → filled; CANCELED, BEST_EFFORT_CANCELED → canceled
 * (`reason` = the indexer's removalReason). Filled size is `totalFilled`, else `totalOptimisticFilled` (best-effort
 * updates), else what was known. A market order has no limit price. Returns undefined for a partial update of an
 * order never seen (nothing to merge it with); throws on malformed fields.
 */
export function parseOrder(raw: unknown, previous: Order | undefined, time: number): Order | undefined {
  const o = object(raw, 'order');
  const orderId = nonEmptyString(o['id'], 'id');
  const rawStatus = stringValue(o['status'], 'status');
  const known = previous?.orderId === orderId ? previous : undefined;
  const has = (field: string): boolean => o[field] !== undefined && o[field] !== null;
  if (known === undefined && !(has('side') && has('size') && has('ticker'))) return undefined;

  const symbol = has('ticker') ? accountSymbol(o['ticker']) : (known as Order).symbol;
  let side = known?.side;
  if (has('side')) {
    if (o['side'] !== 'BUY' && o['side'] !== 'SELL') throw new Error('field side must be BUY or SELL');
    side = o['side'] === 'BUY' ? 'buy' : 'sell';
  }
  const size = has('size') ? nonNegativeDecimal(o['size'], 'size') : (known as Order).size;
  let type = known?.type ?? 'limit';
  if (has('type')) type = ORDER_TYPES[stringValue(o['type'], 'type') as DydxOrderType] ?? 'other';
  const filledSize = has('totalFilled')
    ? nonNegativeDecimal(o['totalFilled'], 'totalFilled')
    : has('totalOptimisticFilled')
      ? nonNegativeDecimal(o['totalOptimisticFilled'], 'totalOptimisticFilled')
      : (known?.filledSize ?? ZERO);
  let status: OrderStatus;
  if (OPEN_STATUSES.has(rawStatus)) {
    const partial = filledSize.coef > 0n && compare(filledSize, size) < 0;
    status = partial ? 'partially_filled' : 'open';
  } else if (rawStatus === 'FILLED') {
    status = 'filled';
  } else if (CANCELED_STATUSES.has(rawStatus)) {
    status = 'canceled';
  } else {
    throw new Error(`field status "${rawStatus}" is not a known order status`);
  }
  const price = has('price') ? positiveDecimal(o['price'], 'price') : known?.price;
  const updatedAt = has('updatedAt') ? isoTime(o['updatedAt'], 'updatedAt') : time;
  const clientOrderId = has('clientId') ? stringValue(o['clientId'], 'clientId') : known?.clientOrderId;
  const reduceOnly = typeof o['reduceOnly'] === 'boolean' ? o['reduceOnly'] : known?.reduceOnly;
  const reason = has('removalReason') ? stringValue(o['removalReason'], 'removalReason') : known?.reason;
  return {
    orderId,
    ...(clientOrderId === undefined ? {} : { clientOrderId }),
    symbol,
    market: 'perpetual',
    side: side as Order['side'],
    type,
    ...(price === undefined || type === 'market' || type === 'stop_market' ? {} : { price }),
    size,
    filledSize,
    status,
    ...(reduceOnly === undefined ? {} : { reduceOnly }),
    ...(reason === undefined ? {} : { reason }),
    createdAt: known?.createdAt ?? updatedAt,
    updatedAt,
  };
}

/**
 * One fill (stream: `ticker`; REST: `market`). `fee` is positive when paid and negative for a maker rebate, as
 * Tickwire counts it; a fill without `fee` (the 2023 schema) counts 0. LIQUIDATED marks this subaccount's
 * liquidation.
 */
export function parseFill(raw: unknown): Fill {
  const f = object(raw, 'fill');
  const side = f['side'];
  if (side !== 'BUY' && side !== 'SELL') throw new Error('field side must be BUY or SELL');
  const liquidity = f['liquidity'];
  if (liquidity !== 'MAKER' && liquidity !== 'TAKER')
    throw new Error('field liquidity must be MAKER or TAKER');
  const type = stringValue(f['type'], 'type');
  const symbol =
    f['ticker'] !== undefined ? accountSymbol(f['ticker']) : accountSymbol(f['market'], 'market');
  return {
    fillId: nonEmptyString(f['id'], 'id'),
    orderId: f['orderId'] === undefined || f['orderId'] === null ? '' : stringValue(f['orderId'], 'orderId'),
    symbol,
    market: 'perpetual',
    side: side === 'BUY' ? 'buy' : 'sell',
    price: positiveDecimal(f['price'], 'price'),
    size: nonNegativeDecimal(f['size'], 'size'),
    fee: optionalDecimal(f['fee'], 'fee') ?? ZERO,
    feeCurrency: DYDX_COLLATERAL,
    liquidity: liquidity === 'MAKER' ? 'maker' : 'taker',
    ...(type === 'LIQUIDATED' ? { liquidation: true } : {}),
    time: isoTime(f['createdAt'], 'createdAt'),
  };
}

/** The block height of a fill (`createdAtHeight`), for resuming fills over REST. */
export function fillHeight(raw: unknown): number {
  return blockHeight(object(raw, 'fill')['createdAtHeight'], 'createdAtHeight');
}

/** A block height printed as a decimal string ("18794557"). */
export function blockHeight(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`field ${field} must be a block height`);
  return n;
}

function optionalHeight(value: unknown, field: string): number | undefined {
  return value === undefined || value === null ? undefined : blockHeight(value, field);
}

/**
 * Equity from balances and positions, as the indexer defines it: USDC + Σ signed size × oracle price, where
 * size × oracle = size × entryPrice + unrealizedPnl. Exact for the figures of the last report; the stream sends no
 * oracle moves, so between reports it is as old as the positions' unrealized PnL.
 */
export function deriveEquity(balances: readonly Balance[], positions: readonly Position[]): Decimal {
  let equity = ZERO;
  for (const b of balances) if (b.currency === DYDX_COLLATERAL) equity = add(equity, b.total);
  for (const p of positions) {
    const signed = p.side === 'long' ? p.size : negate(p.size);
    equity = add(equity, add(mul(signed, p.entryPrice), p.unrealizedPnl));
  }
  return equity;
}

/** Σ unrealized PnL of the positions. */
export function unrealizedOf(positions: readonly Position[]): Decimal {
  let sum = ZERO;
  for (const p of positions) sum = add(sum, p.unrealizedPnl);
  return sum;
}

/** Lower rank = less final: when the indexer lists one order twice, the more final report wins. */
function finality(status: OrderStatus): number {
  return isOpenStatus(status) ? 0 : 1;
}

/** A parsed subaccount: the snapshot, and the indexer's block height when it says. */
export interface DydxAccountState {
  readonly snapshot: AccountSnapshot;
  /** false for the `{}` of a subaccount the indexer has not indexed yet (an empty snapshot). */
  readonly indexed: boolean;
  readonly blockHeight: number | undefined;
}

/** The empty snapshot of a subaccount not indexed yet: no balances, positions or orders, equity 0. */
export function emptySnapshot(time: number): AccountSnapshot {
  const summary: AccountSummary = {
    equity: ZERO,
    currency: DYDX_COLLATERAL,
    available: ZERO,
    unrealizedPnl: ZERO,
    time,
  };
  return { summary, balances: [], positions: [], openOrders: [], time };
}

/**
 * A subaccount object (REST `subaccount`, the `subscribed` contents' `subaccount`) and its orders as a snapshot.
 * Only working orders are kept (the `subscribed` list also holds BEST_EFFORT_CANCELED ones); an order listed twice
 * counts once, its most final report winning. Closed positions listed among the open ones are skipped.
 */
export function parseSubaccount(raw: unknown, orders: readonly unknown[], time: number): DydxAccountState {
  const s = object(raw, 'subaccount');
  const subaccountNumber = s['subaccountNumber'];
  if (typeof subaccountNumber !== 'number' || !Number.isSafeInteger(subaccountNumber) || subaccountNumber < 0)
    throw new Error('field subaccountNumber must be an integer not below zero');
  const positions: Position[] = [];
  const open = object(s['openPerpetualPositions'] ?? {}, 'openPerpetualPositions');
  for (const [market, value] of Object.entries(open)) {
    const change = parsePosition(value, time, subaccountNumber);
    if (change.kind === 'open') positions.push(change.position);
    else if (change.symbol !== accountSymbol(market, 'openPerpetualPositions key'))
      throw new Error(`openPerpetualPositions.${market} names another market`);
  }
  const balances: Balance[] = [];
  const assets = object(s['assetPositions'] ?? {}, 'assetPositions');
  for (const value of Object.values(assets)) balances.push(parseBalance(value, time));
  const byId = new Map<string, Order>();
  for (const rawOrder of orders) {
    const order = parseOrder(rawOrder, undefined, time);
    if (order === undefined) throw new Error('an order of the snapshot lacks side, size or ticker');
    const seen = byId.get(order.orderId);
    if (seen === undefined || finality(order.status) >= finality(seen.status)) byId.set(order.orderId, order);
  }
  const summary: AccountSummary = {
    equity: decimal(s['equity'], 'equity'),
    currency: DYDX_COLLATERAL,
    available: decimal(s['freeCollateral'], 'freeCollateral'),
    unrealizedPnl: unrealizedOf(positions),
    time,
  };
  const snapshot: AccountSnapshot = {
    summary,
    balances,
    positions,
    openOrders: [...byId.values()].filter((o) => isOpenStatus(o.status)),
    time,
  };
  return {
    snapshot,
    indexed: true,
    blockHeight: optionalHeight(s['latestProcessedBlockHeight'], 'latestProcessedBlockHeight'),
  };
}

/**
 * `subscribed` contents: `{subaccount, orders, blockHeight?}`, or `{}` when the indexer has not indexed the
 * subaccount yet (its REST answered 404): an empty snapshot, not an error.
 */
export function parseSubscribed(contents: unknown, time: number): DydxAccountState {
  const c = object(contents, 'contents');
  if (c['subaccount'] === undefined) {
    if (Object.keys(c).length > 0 && c['orders'] === undefined && c['blockHeight'] === undefined)
      throw new Error('contents has neither subaccount nor the empty form {}');
    return { snapshot: emptySnapshot(time), indexed: false, blockHeight: undefined };
  }
  const orders = c['orders'] === undefined ? [] : array(c['orders'], 'orders', 'orders');
  const state = parseSubaccount(c['subaccount'], orders, time);
  const height = optionalHeight(c['blockHeight'], 'blockHeight');
  return height === undefined ? state : { ...state, blockHeight: Math.max(height, state.blockHeight ?? 0) };
}

/** One `channel_data` update, read. Orders stay raw: they merge over what the reader knew of them (parseOrder). */
export interface DydxAccountUpdate {
  readonly positions: readonly DydxPositionChange[];
  readonly balances: readonly Balance[];
  readonly orders: readonly JsonObject[];
  /** Fills with their block heights, in the order sent. */
  readonly fills: readonly { readonly fill: Fill; readonly height: number }[];
  /** Transfers (deposits, withdrawals): the balance change follows in `assetPositions`; kept for the record. */
  readonly transfers: readonly JsonObject[];
  readonly tradingReward: JsonObject | undefined;
  readonly blockHeight: number | undefined;
}

/**
 * One `channel_data` contents object (a `channel_batch_data` frame holds an array of them). Positions, balances
 * and fills are read at once; `time` stamps positions and balances (they carry no time of their own).
 */
export function parseUpdate(contents: unknown, time: number, subaccountNumber: number): DydxAccountUpdate {
  const c = object(contents, 'contents');
  const list = (field: string): unknown[] =>
    c[field] === undefined || c[field] === null ? [] : array(c[field], field, 'objects');
  const positions = list('perpetualPositions').map((p) => parsePosition(p, time, subaccountNumber));
  const balances = list('assetPositions').map((a) => parseBalance(a, time));
  const orders = list('orders').map((o, i) => object(o, `orders[${i}]`));
  const fills = list('fills').map((f) => ({ fill: parseFill(f), height: fillHeight(f) }));
  const rawTransfers = c['transfers'];
  const transfers =
    rawTransfers === undefined || rawTransfers === null
      ? []
      : Array.isArray(rawTransfers)
        ? rawTransfers.map((t, i) => object(t, `transfers[${i}]`))
        : [object(rawTransfers, 'transfers')];
  const reward = c['tradingReward'];
  return {
    positions,
    balances,
    orders,
    fills,
    transfers,
    tradingReward: reward === undefined || reward === null ? undefined : object(reward, 'tradingReward'),
    blockHeight: optionalHeight(c['blockHeight'], 'blockHeight'),
  };
}

/** One point of /v4/historical-pnl. */
export interface DydxPnlPoint {
  readonly time: number;
  readonly equity: Decimal;
  readonly totalPnl: Decimal;
  readonly netTransfers: Decimal;
  readonly blockHeight: number;
}

export function parsePnlPoint(raw: unknown): DydxPnlPoint {
  const p = object(raw, 'historicalPnl');
  return {
    time: isoTime(p['createdAt'], 'createdAt'),
    equity: decimal(p['equity'], 'equity'),
    totalPnl: decimal(p['totalPnl'], 'totalPnl'),
    netTransfers: decimal(p['netTransfers'], 'netTransfers'),
    blockHeight: blockHeight(p['blockHeight'], 'blockHeight'),
  };
}

/** The indexer's compliance refusal (its REST answers 403; the socket sends this text in an `error` frame). */
export function isBlockedMessage(message: string): boolean {
  return /has been blocked|\bblocked\b/i.test(message);
}
