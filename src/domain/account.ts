import type { Decimal } from './decimal.ts';
import type { VenueId } from './instrument.ts';

/**
 * A trader's own account in Tickwire's normalized form, the same for every venue: balances, positions, open
 * orders and fills. Venue adapters (src/venues/<venue>/account-*.ts) turn their private frames and REST answers
 * into these; src/account/ keeps the state and derives the figures (docs/ACCOUNTS.md). Every amount is an exact
 * Decimal: PnL and fees are summed.
 */

/** An account as the configuration names it (`accounts[].id`), and the venue it lives on. */
export interface AccountRef {
  readonly id: string;
  readonly venue: VenueId;
}

/** What kind of market an order, fill or position belongs to: positions exist on perpetual markets only. */
export type MarketKind = 'spot' | 'perpetual';

/** Balance of one currency (Bitget spot coin, Bitget futures margin coin, dYdX asset position). */
export interface Balance {
  readonly currency: string;
  /** Everything the account holds in this currency, including what orders and positions lock. */
  readonly total: Decimal;
  /** Free to trade or withdraw. */
  readonly available: Decimal;
  /** Locked by open orders or margin: total − available. */
  readonly locked: Decimal;
  /** Exchange time of the last change, ms UTC. */
  readonly time: number;
}

/** The account's headline figures as the venue reports them. */
export interface AccountSummary {
  /** Total value in `currency`: balances plus unrealized PnL (Bitget `usdtEquity`, dYdX `equity`). */
  readonly equity: Decimal;
  /** Usually USDT (Bitget) or USDC (dYdX). */
  readonly currency: string;
  /** Free to open new positions (Bitget futures `available`, dYdX `freeCollateral`). */
  readonly available: Decimal;
  /** Σ unrealized PnL of open positions. */
  readonly unrealizedPnl: Decimal;
  readonly time: number;
}

export type PositionSide = 'long' | 'short';
export type MarginMode = 'cross' | 'isolated';

/** An open position, in seed 000's shape. `size` is positive; `side` says the direction. */
export interface Position {
  /** Canonical BASE/QUOTE of the perpetual ("BTC/USDT" for Bitget USDT-FUTURES, "BTC/USD" for dYdX). */
  readonly symbol: string;
  readonly side: PositionSide;
  /** Absolute size in base units. */
  readonly size: Decimal;
  readonly entryPrice: Decimal;
  /** The price the venue values the position at (mark or oracle), when it says. */
  readonly markPrice?: Decimal;
  /** Leverage; absent where the venue has none per position (dYdX cross margin). */
  readonly leverage?: Decimal;
  readonly marginMode: MarginMode;
  readonly unrealizedPnl: Decimal;
  /** Realized PnL of this position so far (partial closes, funding), when the venue reports it. */
  readonly realizedPnl?: Decimal;
  /** Absent when the venue reports none (no liquidation risk, or not computable). */
  readonly liquidationPrice?: Decimal;
  /** Margin allocated to the position. */
  readonly margin: Decimal;
  /** Exchange time of the last change, ms UTC. */
  readonly timestamp: number;
}

/** A position that left the account, and how. */
export type PositionEnd = 'closed' | 'liquidated';

export type OrderSide = 'buy' | 'sell';
export type OrderStatus = 'open' | 'partially_filled' | 'filled' | 'canceled' | 'rejected';
export type OrderType = 'limit' | 'market' | 'stop_limit' | 'stop_market' | 'other';

export interface Order {
  readonly orderId: string;
  readonly clientOrderId?: string;
  readonly symbol: string;
  readonly market: MarketKind;
  readonly side: OrderSide;
  readonly type: OrderType;
  /** Limit price; absent for market orders. */
  readonly price?: Decimal;
  readonly size: Decimal;
  readonly filledSize: Decimal;
  /** Average fill price, when something filled. */
  readonly averagePrice?: Decimal;
  readonly status: OrderStatus;
  readonly reduceOnly?: boolean;
  /** Why the venue rejected or canceled it, when it says. */
  readonly reason?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One execution. Fills are identified by `fillId` within an account: the state counts each once. */
export interface Fill {
  readonly fillId: string;
  readonly orderId: string;
  readonly symbol: string;
  readonly market: MarketKind;
  readonly side: OrderSide;
  readonly price: Decimal;
  readonly size: Decimal;
  /**
   * Fee **paid**, positive (a rebate is negative). Bitget reports paid fees as negative numbers: its adapter
   * negates them; dYdX reports them positive.
   */
  readonly fee: Decimal;
  readonly feeCurrency: string;
  readonly liquidity: 'maker' | 'taker';
  /** Profit realized by this fill (closing part of a position), fees excluded, when the venue reports it. */
  readonly realizedPnl?: Decimal;
  /** Whether this fill was a liquidation. */
  readonly liquidation?: boolean;
  /** Exchange time, ms UTC. */
  readonly time: number;
}

/** Everything the account holds at one moment, as a REST reconcile or a stream's first message gives it. */
export interface AccountSnapshot {
  readonly summary: AccountSummary;
  readonly balances: readonly Balance[];
  readonly positions: readonly Position[];
  readonly openOrders: readonly Order[];
  readonly time: number;
}
