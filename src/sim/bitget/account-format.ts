/**
 * Bitget v2 private payloads built from a simulated account (EXCHANGES.md §6, the ccxt comment samples): the
 * `account` rows (futures and spot), `positions` rows (the full list), `orders` and `fill` rows, and their REST
 * counterparts. Numbers are strings except the socket's `leverage`, a number as on Bitget; times are ms strings.
 * Fees are negative when paid, as Bitget sends them. The account trades in one-way mode: `posMode`
 * "one_way_mode", `posSide` "net", `tradeSide` "buy_single"/"sell_single", `holdSide` long/short.
 */
import { add, mul, sub, toFixedString, toPlainString, type Decimal } from '../../domain/decimal.ts';
import type { SimAccount, SimFill, SimOrder, SimPosition } from '../accounts/engine.ts';
import { divide, isPositive, negate, sign, ZERO } from '../accounts/numbers.ts';
import { bitgetInstId } from './instruments.ts';

/** One simulated Bitget account: its key triple, its futures engine and its (static) spot balances. */
export interface BitgetSimAccount {
  readonly index: number;
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string;
  readonly futures: SimAccount;
  readonly spot: ReadonlyMap<string, Decimal>;
  readonly spotTime: number;
}

/** A Bitget-style id (19 digits, beyond 2^53) of an account's n-th object of a kind. */
export function bitgetObjectId(
  accountIndex: number,
  kind: 'order' | 'fill' | 'position',
  seq: number,
): string {
  const base = {
    order: 1_130_000_000_000_000_000n,
    fill: 1_140_000_000_000_000_000n,
    position: 930_000_000_000_000_000n,
  }[kind];
  return (base + BigInt(accountIndex) * 1_000_000_000_000n + BigInt(seq) * 7n).toString();
}

const fixed = (d: Decimal, places = 8): string => toFixedString(d, places);
const plain = (d: Decimal): string => toPlainString(d);

/** `account` channel row, futures (USDT-FUTURES). */
export function futuresAccountRow(account: SimAccount): Record<string, string> {
  const equity = account.equity();
  const frozen = account.orderMargin();
  const free = account.available();
  const maintenance = account.positions().reduce((s, p) => add(s, account.maintenanceMargin(p)), ZERO);
  return {
    marginCoin: account.settings.currency,
    frozen: fixed(frozen),
    available: fixed(sub(account.balance, frozen)),
    maxOpenPosAvailable: fixed(isPositive(free) ? free : ZERO),
    maxTransferOut: fixed(isPositive(free) ? free : ZERO),
    equity: fixed(equity),
    usdtEquity: fixed(equity, 12),
    crossedRiskRate: isPositive(equity) ? fixed(divide(maintenance, equity, 12), 12) : '0',
    unrealizedPL: fixed(account.totalUnrealizedPnl()),
  };
}

/** `account` channel row of one spot coin. */
export function spotAccountRow(coin: string, amount: Decimal, time: number): Record<string, string> {
  return {
    coin,
    available: plain(amount),
    frozen: '0',
    locked: '0',
    limitAvailable: '0',
    uTime: String(time),
  };
}

/** `positions` row; `rest` prints leverage as a string and adds markPrice, as the REST answer does. */
export function positionRow(
  account: SimAccount,
  accountIndex: number,
  p: SimPosition,
  rest: boolean,
): Record<string, unknown> {
  const margin = account.margin(p);
  const upl = account.unrealizedPnl(p);
  const maintenance = account.maintenanceMargin(p);
  const liq = account.liquidationPrice(p);
  const achieved = sub(add(p.realizedPnl, p.fees), p.netFunding);
  const row: Record<string, unknown> = {
    posId: bitgetObjectId(accountIndex, 'position', p.seq),
    instId: bitgetInstId(p.symbol),
    marginCoin: account.settings.currency,
    marginSize: fixed(margin),
    marginMode: p.marginMode === 'cross' ? 'crossed' : 'isolated',
    holdSide: sign(p.size) > 0 ? 'long' : 'short',
    posMode: 'one_way_mode',
    total: plain(abs(p.size)),
    available: plain(abs(p.size)),
    frozen: '0',
    openPriceAvg: plain(p.entryPrice),
    leverage: rest ? String(p.leverage) : p.leverage,
    achievedProfits: fixed(achieved),
    unrealizedPL: fixed(upl),
    unrealizedPLR: isPositive(margin) ? fixed(divide(upl, margin, 12), 12) : '0',
    liquidationPrice: liq === undefined ? '0' : plain(liq),
    keepMarginRate: plain(account.settings.maintenanceMarginRate),
    marginRate: isPositive(add(margin, upl)) ? fixed(divide(maintenance, add(margin, upl), 12), 12) : '1',
    breakEvenPrice: plain(p.entryPrice),
    totalFee: fixed(negate(p.fees)),
    deductedFee: '0',
    cTime: String(p.openedAt),
    uTime: String(p.updatedAt),
    autoMargin: 'off',
  };
  if (rest) {
    row['symbol'] = row['instId'];
    delete row['instId'];
    row['markPrice'] = plain(account.mark(p.symbol));
  }
  return row;
}

function abs(d: Decimal): Decimal {
  return d.coef < 0n ? negate(d) : d;
}

const STATUS: Readonly<Record<SimOrder['status'], string>> = {
  open: 'live',
  partially_filled: 'partially_filled',
  filled: 'filled',
  canceled: 'canceled',
  rejected: 'canceled',
};

/** `orders` channel row (futures); `fill` adds the latest fill's fields, as Bitget does when one happens. */
export function orderRow(
  account: SimAccount,
  accountIndex: number,
  o: SimOrder,
  fill?: SimFill,
): Record<string, unknown> {
  const avg = isPositive(o.filled) ? divide(o.filledQuote, o.filled, 8) : ZERO;
  const row: Record<string, unknown> = {
    orderId: bitgetObjectId(accountIndex, 'order', o.seq),
    clientOid: o.clientId,
    instId: bitgetInstId(o.symbol),
    side: o.side,
    posSide: 'net',
    tradeSide: `${o.side}_single`,
    posMode: 'one_way_mode',
    orderType: o.type,
    force: o.type === 'market' ? 'ioc' : 'gtc',
    size: plain(o.size),
    price: o.price === undefined ? '0' : plain(o.price),
    priceAvg: plain(avg),
    accBaseVolume: plain(o.filled),
    notionalUsd: fixed(mul(o.size, o.price ?? account.mark(o.symbol))),
    status: STATUS[o.status],
    leverage: String(o.leverage),
    marginCoin: account.settings.currency,
    marginMode: o.marginMode === 'cross' ? 'crossed' : 'isolated',
    reduceOnly: o.reduceOnly ? 'yes' : 'no',
    enterPointSource: 'API',
    feeDetail: isPositive(o.fees) ? [{ feeCoin: account.settings.currency, fee: fixed(negate(o.fees)) }] : [],
    cTime: String(o.createdAt),
    uTime: String(o.updatedAt),
  };
  if (fill !== undefined) {
    row['fillPrice'] = plain(fill.price);
    row['baseVolume'] = plain(fill.size);
    row['fillFee'] = fixed(negate(fill.fee));
    row['fillFeeCoin'] = account.settings.currency;
    row['fillNotionalUsd'] = fixed(mul(fill.price, fill.size));
    row['fillTime'] = String(fill.time);
    row['tradeId'] = bitgetObjectId(accountIndex, 'fill', fill.seq);
    row['tradeScope'] = fill.liquidity === 'maker' ? 'M' : 'T';
    row['pnl'] = fixed(fill.realizedPnl);
  }
  return row;
}

/** `fill` channel row (futures); REST fills use the same fields. */
export function fillRow(account: SimAccount, accountIndex: number, f: SimFill): Record<string, unknown> {
  const fee = fixed(negate(f.fee));
  return {
    orderId: bitgetObjectId(accountIndex, 'order', f.order.seq),
    clientOid: f.order.clientId,
    tradeId: bitgetObjectId(accountIndex, 'fill', f.seq),
    symbol: bitgetInstId(f.symbol),
    side: f.side,
    orderType: f.order.type,
    posMode: 'one_way_mode',
    price: plain(f.price),
    baseVolume: plain(f.size),
    quoteVolume: fixed(mul(f.price, f.size)),
    profit: fixed(f.realizedPnl),
    tradeSide: f.liquidation
      ? f.side === 'buy'
        ? 'burst_buy_single'
        : 'burst_sell_single'
      : `${f.side}_single`,
    tradeScope: f.liquidity,
    feeDetail: [
      { feeCoin: account.settings.currency, deduction: 'no', totalDeductionFee: '0', totalFee: fee },
    ],
    cTime: String(f.time),
    uTime: String(f.time),
  };
}
