import type { ErrorCode } from '../domain/errors.ts';

/**
 * The private account channels (docs/PROTOCOL.md, "Account channels"): what a client authenticated for one
 * account receives about it. Every message has seed 001's shape `{type, data, timestamp}` plus the channel, the
 * account, a per-channel `seq` and whether it is a `snapshot`. The first message of a channel after a subscribe
 * (or a `resync`) is a snapshot of the whole state; each later one carries only what changed: an object channel's
 * `data` is a JSON Merge Patch (RFC 7386) of its object, a list channel's `data` is `{upsert, remove}` by key.
 * Amounts are exact decimal strings ("67234.5"), never floats. A value the account does not have is left out,
 * never `null` (in a merge patch `null` means "removed").
 */

/** The account channels. `trades` is also a public market channel: the account one is asked for without symbol. */
export const ACCOUNT_CHANNELS = [
  'dashboard',
  'account',
  'positions',
  'orders',
  'trades',
  'performance',
] as const;
export type AccountChannel = (typeof ACCOUNT_CHANNELS)[number];

export function isAccountChannel(value: unknown): value is AccountChannel {
  return typeof value === 'string' && (ACCOUNT_CHANNELS as readonly string[]).includes(value);
}

/** Channels whose state is one object (patched with JSON Merge Patch); the others are keyed lists. */
export const OBJECT_CHANNELS: ReadonlySet<AccountChannel> = new Set(['dashboard', 'account', 'performance']);

/** The message `type` of each channel: seed 001's `dashboard_update`, seed 003's `account_update`, … */
export const ACCOUNT_MESSAGE_TYPES = {
  dashboard: 'dashboard_update',
  account: 'account_update',
  positions: 'positions_update',
  orders: 'order_update',
  trades: 'trade_update',
  performance: 'performance_update',
} as const satisfies Record<AccountChannel, string>;
export type AccountMessageType = (typeof ACCOUNT_MESSAGE_TYPES)[AccountChannel];

/** An exact decimal as text ("0.00002894", "-12.5"). */
export type DecimalText = string;

/** `dashboard`: seed 001's four figures first, then more of the account's headline. */
export interface DashboardJson {
  /** Equity, in `currency`. */
  readonly total_value: DecimalText;
  /** Today's (UTC) PnL, fees included. */
  readonly daily_pnl: DecimalText;
  readonly open_positions: number;
  /** wins / (wins + losses) as a fraction ("0.583"); absent before the first closed round trip. */
  readonly win_rate?: DecimalText;
  readonly currency?: string;
  readonly unrealized_pnl: DecimalText;
  readonly realized_pnl: DecimalText;
  readonly fees_paid: DecimalText;
  readonly exposure?: DecimalText;
  readonly max_drawdown: DecimalText;
}

export interface BalanceJson {
  readonly total: DecimalText;
  readonly available: DecimalText;
  readonly locked: DecimalText;
  readonly time: number;
}

/** `account` (seed 003's `account_update`): the venue's summary and the balances by currency. */
export interface AccountJson {
  readonly account: string;
  readonly venue: string;
  readonly equity?: DecimalText;
  readonly currency?: string;
  readonly available?: DecimalText;
  readonly unrealizedPnl?: DecimalText;
  readonly balances: Readonly<Record<string, BalanceJson>>;
  readonly time?: number;
}

/** `performance`: every derived figure of docs/ACCOUNTS.md. */
export interface PerformanceJson {
  readonly totalValue: DecimalText;
  readonly unrealizedPnl: DecimalText;
  readonly realizedPnl: DecimalText;
  readonly dailyPnl: DecimalText;
  readonly openPositions: number;
  readonly winRate?: DecimalText;
  readonly wins: number;
  readonly losses: number;
  readonly exposure?: DecimalText;
  readonly maxDrawdown: DecimalText;
  readonly feesPaid: DecimalText;
}

/** An open position, seed 000's fields; keyed `symbol:side` ("BTC/USDT:long"). */
export interface PositionJson {
  readonly key: string;
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly size: DecimalText;
  readonly entryPrice: DecimalText;
  readonly markPrice?: DecimalText;
  readonly leverage?: DecimalText;
  readonly marginMode: 'cross' | 'isolated';
  readonly unrealizedPnl: DecimalText;
  readonly realizedPnl?: DecimalText;
  readonly liquidationPrice?: DecimalText;
  readonly margin: DecimalText;
  readonly timestamp: number;
}

/** An open order; keyed by `orderId`. A filled, canceled or rejected order is removed. */
export interface OrderJson {
  readonly key: string;
  readonly orderId: string;
  readonly clientOrderId?: string;
  readonly symbol: string;
  readonly market: 'spot' | 'perpetual';
  readonly side: 'buy' | 'sell';
  readonly type: string;
  readonly price?: DecimalText;
  readonly size: DecimalText;
  readonly filledSize: DecimalText;
  readonly averagePrice?: DecimalText;
  readonly status: string;
  readonly reduceOnly: boolean;
  readonly reason?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One of the account's fills; keyed by `fillId`. `fee` is positive when paid. */
export interface FillJson {
  readonly key: string;
  readonly fillId: string;
  readonly orderId: string;
  readonly symbol: string;
  readonly market: 'spot' | 'perpetual';
  readonly side: 'buy' | 'sell';
  readonly price: DecimalText;
  readonly size: DecimalText;
  readonly fee: DecimalText;
  readonly feeCurrency: string;
  readonly liquidity: 'maker' | 'taker';
  readonly realizedPnl?: DecimalText;
  readonly liquidation: boolean;
  readonly time: number;
}

/** A list channel's change: items to insert or replace (by `key`), keys to remove. */
export interface ListDelta<T> {
  readonly upsert: readonly T[];
  readonly remove: readonly string[];
}

interface Envelope<C extends AccountChannel, D> {
  readonly type: (typeof ACCOUNT_MESSAGE_TYPES)[C];
  readonly channel: C;
  readonly account: string;
  /** Per account and channel: a snapshot carries the current number, each change the next one. */
  readonly seq: number;
  /** True: `data` is the whole state (replace); false: a change to apply. */
  readonly snapshot: boolean;
  readonly data: D;
  /** ISO 8601 UTC time the gateway sent it. */
  readonly timestamp: string;
}

/** A JSON Merge Patch: only the fields that changed; `null` deletes a field. */
export type MergePatch<T> = { readonly [K in keyof T]?: unknown };

export type AccountMessage =
  | Envelope<'dashboard', DashboardJson | MergePatch<DashboardJson>>
  | Envelope<'account', AccountJson | MergePatch<AccountJson>>
  | Envelope<'performance', PerformanceJson | MergePatch<PerformanceJson>>
  | Envelope<'positions', ListDelta<PositionJson>>
  | Envelope<'orders', ListDelta<OrderJson>>
  | Envelope<'trades', ListDelta<FillJson>>;

/** Answer to an accepted token (an `auth` message, or `?token=` on the upgrade). */
export interface AuthenticatedMessage {
  readonly type: 'authenticated';
  readonly account: string;
  readonly venue: string;
  /** When the token expires, ms UTC (the connection is closed then with 4440); null: never (a static token). */
  readonly expiresAt: number | null;
}

/** Answer to an account-channel subscribe. */
export interface AccountSubscribedMessage {
  readonly type: 'subscribed';
  readonly channel: AccountChannel;
  readonly account: string;
}

/** `error` about an account channel (or the `auth` message: `channel` absent). */
export interface AccountErrorMessage {
  readonly type: 'error';
  readonly message: string;
  readonly code: ErrorCode;
  readonly channel?: AccountChannel;
}

export function encodeAccountMessage(
  channel: AccountChannel,
  account: string,
  seq: number,
  snapshot: boolean,
  data: unknown,
  time: number,
): string {
  return JSON.stringify({
    type: ACCOUNT_MESSAGE_TYPES[channel],
    channel,
    account,
    seq,
    snapshot,
    data,
    timestamp: new Date(time).toISOString(),
  });
}

export function encodeAuthenticated(account: string, venue: string, expiresAt: number | undefined): string {
  const msg: AuthenticatedMessage = { type: 'authenticated', account, venue, expiresAt: expiresAt ?? null };
  return JSON.stringify(msg);
}

export function encodeAccountSubscribed(channel: AccountChannel, account: string): string {
  const msg: AccountSubscribedMessage = { type: 'subscribed', channel, account };
  return JSON.stringify(msg);
}

export function encodeAccountError(code: ErrorCode, message: string, channel?: AccountChannel): string {
  const msg: AccountErrorMessage = { type: 'error', message, code, ...(channel ? { channel } : {}) };
  return JSON.stringify(msg);
}
