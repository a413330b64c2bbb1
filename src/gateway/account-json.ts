import type { AccountView } from '../account/contract.ts';
import type { Balance, Fill, Order, Position } from '../domain/account.ts';
import { toPlainString, type Decimal } from '../domain/decimal.ts';
import type {
  AccountJson,
  BalanceJson,
  DashboardJson,
  FillJson,
  OrderJson,
  PerformanceJson,
  PositionJson,
} from '../protocol/account-messages.ts';

/**
 * An account's state as the account channels show it (src/protocol/account-messages.ts): exact decimals as
 * strings, values the account lacks left out (never null), fields in a fixed order.
 */

const text = (d: Decimal): string => toPlainString(d);
/** `{ [name]: text }` when `d` is defined, else `{}`: spread into an object to leave absent values out. */
function opt<K extends string>(name: K, d: Decimal | undefined): Partial<Record<K, string>> {
  return (d === undefined ? {} : { [name]: toPlainString(d) }) as Partial<Record<K, string>>;
}

export function dashboardJson(view: AccountView): DashboardJson {
  const p = view.performance;
  return {
    total_value: text(p.totalValue),
    daily_pnl: text(p.dailyPnl),
    open_positions: p.openPositions,
    ...opt('win_rate', p.winRate),
    ...(view.summary ? { currency: view.summary.currency } : {}),
    unrealized_pnl: text(p.unrealizedPnl),
    realized_pnl: text(p.realizedPnl),
    fees_paid: text(p.feesPaid),
    ...opt('exposure', p.exposure),
    max_drawdown: text(p.maxDrawdown),
  };
}

export function performanceJson(view: AccountView): PerformanceJson {
  const p = view.performance;
  return {
    totalValue: text(p.totalValue),
    unrealizedPnl: text(p.unrealizedPnl),
    realizedPnl: text(p.realizedPnl),
    dailyPnl: text(p.dailyPnl),
    openPositions: p.openPositions,
    ...opt('winRate', p.winRate),
    wins: p.wins,
    losses: p.losses,
    ...opt('exposure', p.exposure),
    maxDrawdown: text(p.maxDrawdown),
    feesPaid: text(p.feesPaid),
  };
}

function balanceJson(b: Balance): BalanceJson {
  return { total: text(b.total), available: text(b.available), locked: text(b.locked), time: b.time };
}

export function accountJson(view: AccountView): AccountJson {
  const s = view.summary;
  const balances: Record<string, BalanceJson> = {};
  for (const b of [...view.balances].sort((x, y) => (x.currency < y.currency ? -1 : 1)))
    balances[b.currency] = balanceJson(b);
  return {
    account: view.account.id,
    venue: view.account.venue,
    ...(s
      ? {
          equity: text(s.equity),
          currency: s.currency,
          available: text(s.available),
          unrealizedPnl: text(s.unrealizedPnl),
          time: s.time,
        }
      : {}),
    balances,
  };
}

export function positionKey(p: Pick<Position, 'symbol' | 'side'>): string {
  return `${p.symbol}:${p.side}`;
}

export function positionJson(p: Position): PositionJson {
  return {
    key: positionKey(p),
    symbol: p.symbol,
    side: p.side,
    size: text(p.size),
    entryPrice: text(p.entryPrice),
    ...opt('markPrice', p.markPrice),
    ...opt('leverage', p.leverage),
    marginMode: p.marginMode,
    unrealizedPnl: text(p.unrealizedPnl),
    ...opt('realizedPnl', p.realizedPnl),
    ...opt('liquidationPrice', p.liquidationPrice),
    margin: text(p.margin),
    timestamp: p.timestamp,
  };
}

export function orderJson(o: Order): OrderJson {
  return {
    key: o.orderId,
    orderId: o.orderId,
    ...(o.clientOrderId === undefined ? {} : { clientOrderId: o.clientOrderId }),
    symbol: o.symbol,
    market: o.market,
    side: o.side,
    type: o.type,
    ...opt('price', o.price),
    size: text(o.size),
    filledSize: text(o.filledSize),
    ...opt('averagePrice', o.averagePrice),
    status: o.status,
    reduceOnly: o.reduceOnly ?? false,
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

export function fillJson(f: Fill): FillJson {
  return {
    key: f.fillId,
    fillId: f.fillId,
    orderId: f.orderId,
    symbol: f.symbol,
    market: f.market,
    side: f.side,
    price: text(f.price),
    size: text(f.size),
    fee: text(f.fee),
    feeCurrency: f.feeCurrency,
    liquidity: f.liquidity,
    ...opt('realizedPnl', f.realizedPnl),
    liquidation: f.liquidation ?? false,
    time: f.time,
  };
}
