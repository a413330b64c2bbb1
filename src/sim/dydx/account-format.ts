/**
 * dYdX v4 Indexer subaccount payloads built from a simulated account (EXCHANGES.md §6, the indexer captures in
 * test fixtures): the subaccount object (equity, freeCollateral, openPerpetualPositions, assetPositions), perpetual
 * positions, orders and fills, for the `v4_subaccounts` socket channel and the address REST endpoints. Human units as
 * plain decimal strings, times ISO-8601, heights decimal strings, fees positive when paid. The USDC asset position
 * is the quote balance: balance − Σ size × entry price (a long spends USDC, a short receives it), so that
 * equity = USDC + Σ size × oracle price; freeCollateral = equity − Σ |size| × oracle × initialMarginFraction (0.05).
 */
import { createHash } from 'node:crypto';
import { add, mul, sub, toPlainString, type Decimal } from '../../domain/decimal.ts';
import type { SimAccount, SimFill, SimOrder, SimPosition } from '../accounts/engine.ts';
import { abs, divide, sign, ZERO } from '../accounts/numbers.ts';
import type { DydxSimInstrument } from './instruments.ts';

/** The indexer's initial margin fraction of the simulated markets (marketObject). */
const INITIAL_MARGIN_FRACTION: Decimal = { coef: 5n, scale: 2 };
/** Short-term orders are good for this many blocks (the indexer's IOC orders: about 20). */
const SHORT_TERM_BLOCKS = 20;

/** One simulated dYdX subaccount and the markets it trades. */
export interface DydxSimAccount {
  readonly address: string;
  readonly subaccountNumber: number;
  /** "address/number", the v4_subaccounts id. */
  readonly id: string;
  readonly engine: SimAccount;
  /** Instruments by canonical symbol ("BTC/USD"). */
  readonly instruments: ReadonlyMap<string, DydxSimInstrument>;
  /** Any instrument: block heights are the same for every market. */
  readonly clock: DydxSimInstrument;
}

const plain = (d: Decimal): string => toPlainString(d);
const iso = (ms: number): string => new Date(ms).toISOString();

/** A deterministic UUID-shaped id (version 5 layout), as the indexer's ids look. */
export function dydxUuid(...parts: readonly (string | number)[]): string {
  const h = createHash('sha1').update(parts.join('/')).digest('hex');
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function subaccountUuid(account: DydxSimAccount): string {
  return dydxUuid(account.address, account.subaccountNumber);
}

export function height(account: DydxSimAccount, ms: number): string {
  return String(account.clock.height(ms));
}

function ticker(account: DydxSimAccount, symbol: string): DydxSimInstrument {
  const instrument = account.instruments.get(symbol);
  if (instrument === undefined) throw new Error(`dydx sim: no market ${symbol}`);
  return instrument;
}

/** The USDC balance of the subaccount (signed; negative = borrowed against longs). */
export function usdcBalance(account: DydxSimAccount): Decimal {
  const engine = account.engine;
  return engine.positions().reduce((s, p) => sub(s, mul(p.size, p.entryPrice)), engine.balance);
}

export function freeCollateral(account: DydxSimAccount): Decimal {
  const engine = account.engine;
  const initial = engine
    .positions()
    .reduce((s, p) => add(s, mul(mul(abs(p.size), engine.mark(p.symbol)), INITIAL_MARGIN_FRACTION)), ZERO);
  return sub(engine.equity(), initial);
}

export function assetPosition(account: DydxSimAccount, withIds: boolean): Record<string, unknown> {
  const usdc = usdcBalance(account);
  const row: Record<string, unknown> = {
    assetId: '0',
    side: sign(usdc) < 0 ? 'SHORT' : 'LONG',
    size: plain(abs(usdc)),
    subaccountNumber: account.subaccountNumber,
    symbol: 'USDC',
  };
  if (withIds) {
    row['address'] = account.address;
    row['positionId'] = dydxUuid(account.address, account.subaccountNumber, 'asset', 'USDC');
  }
  return row;
}

const POSITION_STATUS = { open: 'OPEN', closed: 'CLOSED', liquidated: 'LIQUIDATED' } as const;

/**
 * A perpetual position. `shape` "full" is the subaccount/REST object (createdAt, closedAt…); "update" is the
 * channel_data one (address and positionId instead).
 */
export function positionObject(
  account: DydxSimAccount,
  p: SimPosition,
  shape: 'full' | 'update',
): Record<string, unknown> {
  const engine = account.engine;
  const open = p.status === 'open';
  // A closed position keeps its last side and reports size 0.
  const side = sign(open ? p.size : p.maxSize) < 0 ? 'SHORT' : 'LONG';
  const row: Record<string, unknown> = {
    market: ticker(account, p.symbol).ticker,
    status: POSITION_STATUS[p.status],
    side,
    size: plain(p.size),
    maxSize: plain(p.maxSize),
    entryPrice: plain(p.entryPrice),
    exitPrice: p.exitPrice === undefined ? null : plain(p.exitPrice),
    realizedPnl: plain(p.realizedPnl),
    unrealizedPnl: open ? plain(engine.unrealizedPnl(p)) : '0',
    sumOpen: plain(p.sumOpen),
    sumClose: plain(p.sumClose),
    netFunding: plain(p.netFunding),
    subaccountNumber: account.subaccountNumber,
  };
  if (shape === 'full') {
    row['createdAt'] = iso(p.openedAt);
    row['createdAtHeight'] = height(account, p.openedAt);
    row['closedAt'] = p.closedAt === undefined ? null : iso(p.closedAt);
  } else {
    row['address'] = account.address;
    row['positionId'] = dydxUuid(account.address, account.subaccountNumber, 'position', p.seq);
  }
  return row;
}

export function subaccountObject(account: DydxSimAccount, now: number): Record<string, unknown> {
  const engine = account.engine;
  const positions: Record<string, unknown> = {};
  for (const p of engine.positions())
    positions[ticker(account, p.symbol).ticker] = positionObject(account, p, 'full');
  return {
    address: account.address,
    subaccountNumber: account.subaccountNumber,
    equity: plain(engine.equity()),
    freeCollateral: plain(freeCollateral(account)),
    openPerpetualPositions: positions,
    assetPositions: { USDC: assetPosition(account, false) },
    marginEnabled: true,
    updatedAtHeight: height(account, engine.balanceTime),
    latestProcessedBlockHeight: height(account, now),
  };
}

const ORDER_STATUS: Readonly<Record<SimOrder['status'], string>> = {
  open: 'OPEN',
  partially_filled: 'OPEN',
  filled: 'FILLED',
  canceled: 'CANCELED',
  rejected: 'CANCELED',
};

const REMOVAL_REASON: Partial<Record<NonNullable<SimOrder['reason']>, string>> = {
  insufficient_margin: 'REMOVAL_REASON_UNDERCOLLATERALIZED',
  canceled_by_user: 'REMOVAL_REASON_USER_CANCELED',
  liquidation: 'REMOVAL_REASON_FULLY_FILLED',
  reduce_only: 'REMOVAL_REASON_REDUCE_ONLY_RESIZE',
  no_price: 'REMOVAL_REASON_UNDERCOLLATERALIZED',
};

/** An order; `withNumber` adds subaccountNumber (the subscribed and REST objects have it, updates do not). */
export function orderObject(
  account: DydxSimAccount,
  o: SimOrder,
  withNumber: boolean,
): Record<string, unknown> {
  const instrument = ticker(account, o.symbol);
  const shortTerm = o.type === 'market';
  // A market order is an IOC limit order at a worst price 5 % through the mark, as the dYdX clients send it.
  const mark = account.engine.mark(o.symbol);
  const worst = o.side === 'buy' ? mul(mark, { coef: 105n, scale: 2 }) : mul(mark, { coef: 95n, scale: 2 });
  const price = o.price ?? roundToTick(worst, instrument);
  const created = height(account, o.createdAt);
  const row: Record<string, unknown> = {
    id: dydxUuid(account.address, account.subaccountNumber, 'order', o.seq),
    subaccountId: subaccountUuid(account),
    clientId: String(o.seq),
    clobPairId: String(instrument.params.clobPairId),
    side: o.side === 'buy' ? 'BUY' : 'SELL',
    size: plain(o.size),
    totalFilled: plain(o.filled),
    price: plain(price),
    type: o.type === 'market' ? 'MARKET' : 'LIMIT',
    status: ORDER_STATUS[o.status],
    timeInForce: shortTerm ? 'IOC' : 'GTT',
    reduceOnly: o.reduceOnly,
    orderFlags: shortTerm ? '0' : '64',
    goodTilBlock: shortTerm ? String(Number(created) + SHORT_TERM_BLOCKS) : null,
    goodTilBlockTime: shortTerm ? null : iso(o.createdAt + 28 * 24 * 3_600_000),
    createdAtHeight: created,
    clientMetadata: '0',
    updatedAt: iso(o.updatedAt),
    updatedAtHeight: height(account, o.updatedAt),
    postOnly: false,
    ticker: instrument.ticker,
  };
  if (withNumber) row['subaccountNumber'] = account.subaccountNumber;
  const reason = o.status === 'canceled' || o.status === 'rejected' ? o.reason : undefined;
  if (reason !== undefined && REMOVAL_REASON[reason] !== undefined)
    row['removalReason'] = REMOVAL_REASON[reason];
  return row;
}

function roundToTick(price: Decimal, instrument: DydxSimInstrument): Decimal {
  const tick = instrument.market.spec.tick;
  const n = divide(price, tick, 0);
  return { coef: n.coef * tick.coef, scale: tick.scale };
}

/** A fill as `v4_subaccounts` sends it. */
export function fillUpdate(account: DydxSimAccount, f: SimFill): Record<string, unknown> {
  const instrument = ticker(account, f.symbol);
  const h = account.clock.height(f.time);
  const id = dydxUuid(account.address, account.subaccountNumber, 'fill', f.seq);
  return {
    id,
    subaccountId: subaccountUuid(account),
    side: f.side === 'buy' ? 'BUY' : 'SELL',
    liquidity: f.liquidity === 'maker' ? 'MAKER' : 'TAKER',
    type: f.liquidation ? 'LIQUIDATED' : 'LIMIT',
    clobPairId: String(instrument.params.clobPairId),
    orderId: dydxUuid(account.address, account.subaccountNumber, 'order', f.order.seq),
    size: plain(f.size),
    price: plain(f.price),
    quoteAmount: plain(mul(f.size, f.price)),
    eventId: `${(h >>> 0).toString(16).padStart(8, '0')}00000002${(f.seq >>> 0).toString(16).padStart(8, '0')}`,
    transactionHash: createHash('sha256').update(id).digest('hex').toUpperCase(),
    createdAt: iso(f.time),
    createdAtHeight: String(h),
    clientMetadata: '0',
    fee: plain(f.fee),
    ticker: instrument.ticker,
  };
}

/** A fill as `/v4/fills` answers it. */
export function fillRest(account: DydxSimAccount, f: SimFill): Record<string, unknown> {
  return {
    id: dydxUuid(account.address, account.subaccountNumber, 'fill', f.seq),
    side: f.side === 'buy' ? 'BUY' : 'SELL',
    liquidity: f.liquidity === 'maker' ? 'MAKER' : 'TAKER',
    type: f.liquidation ? 'LIQUIDATED' : 'LIMIT',
    market: ticker(account, f.symbol).ticker,
    marketType: 'PERPETUAL',
    price: plain(f.price),
    size: plain(f.size),
    fee: plain(f.fee),
    createdAt: iso(f.time),
    createdAtHeight: height(account, f.time),
    orderId: dydxUuid(account.address, account.subaccountNumber, 'order', f.order.seq),
    clientMetadata: '0',
    subaccountNumber: account.subaccountNumber,
  };
}
