/** Builders of account events for the account tests: readable hand-computed cases. */
import type { AccountSummary, Fill, Order, Position } from '../domain/account.ts';
import { parseDecimal, toPlainString, type Decimal } from '../domain/decimal.ts';
import type { AccountEvent, Performance } from './contract.ts';

const d = parseDecimal;

export function summary(equity: string, time: number): AccountSummary {
  return { equity: d(equity), currency: 'USDT', available: d(equity), unrealizedPnl: d('0'), time };
}

export interface PositionFields {
  readonly side?: Position['side'];
  readonly size?: string;
  readonly entry?: string;
  readonly mark?: string;
  readonly unrealized?: string;
  readonly liquidation?: string;
  readonly time?: number;
}

export function position(symbol: string, f: PositionFields = {}): Position {
  return {
    symbol,
    side: f.side ?? 'long',
    size: d(f.size ?? '1'),
    entryPrice: d(f.entry ?? '100'),
    ...(f.mark === undefined ? {} : { markPrice: d(f.mark) }),
    marginMode: 'cross',
    unrealizedPnl: d(f.unrealized ?? '0'),
    ...(f.liquidation === undefined ? {} : { liquidationPrice: d(f.liquidation) }),
    margin: d('10'),
    timestamp: f.time ?? 0,
  };
}

export interface FillSpec {
  readonly side: Fill['side'];
  readonly price: string;
  readonly size: string;
  readonly fee?: string;
  readonly realizedPnl?: string;
  readonly symbol?: string;
  readonly time?: number;
}

export function fill(fillId: string, f: FillSpec): Fill {
  return {
    fillId,
    orderId: `o-${fillId}`,
    symbol: f.symbol ?? 'BTC/USDT',
    market: 'perpetual',
    side: f.side,
    price: d(f.price),
    size: d(f.size),
    fee: d(f.fee ?? '0'),
    feeCurrency: 'USDT',
    liquidity: 'taker',
    ...(f.realizedPnl === undefined ? {} : { realizedPnl: d(f.realizedPnl) }),
    time: f.time ?? 0,
  };
}

export function order(orderId: string, status: Order['status'], time = 0, reason?: string): Order {
  return {
    orderId,
    symbol: 'BTC/USDT',
    market: 'perpetual',
    side: 'buy',
    type: 'limit',
    price: d('100'),
    size: d('1'),
    filledSize: d(status === 'filled' ? '1' : '0'),
    status,
    ...(reason === undefined ? {} : { reason }),
    createdAt: time,
    updatedAt: time,
  };
}

export function fillsEvent(fills: readonly Fill[], source: 'stream' | 'rest' = 'stream'): AccountEvent {
  return { kind: 'fills', fills, source };
}

export function snapshotEvent(
  equity: string,
  positions: readonly Position[],
  time: number,
  openOrders: readonly Order[] = [],
): AccountEvent {
  return {
    kind: 'snapshot',
    source: 'stream',
    snapshot: { summary: summary(equity, time), balances: [], positions, openOrders, time },
  };
}

/** The figures as plain strings, for deepEqual against hand-computed values. */
export function plainPerformance(p: Performance): Record<string, string | number | undefined> {
  const s = (x: Decimal | undefined): string | undefined => (x === undefined ? undefined : toPlainString(x));
  return {
    totalValue: s(p.totalValue),
    unrealizedPnl: s(p.unrealizedPnl),
    realizedPnl: s(p.realizedPnl),
    dailyPnl: s(p.dailyPnl),
    openPositions: p.openPositions,
    winRate: s(p.winRate),
    wins: p.wins,
    losses: p.losses,
    exposure: s(p.exposure),
    maxDrawdown: s(p.maxDrawdown),
    feesPaid: s(p.feesPaid),
  };
}
