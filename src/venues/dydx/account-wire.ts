/**
 * dYdX v4 Indexer wire formats of one trader's subaccount: the `v4_subaccounts` channel (id `address/number`) and
 * the account REST endpoints. Public by address: no authentication. Every amount is a human decimal string (USDC,
 * base units, USD per base unit); chain quantums appear nowhere here. Frames may carry keys not listed; readers
 * ignore them. Sources: EXCHANGES.md §6, the indexer's socks `subscription.ts` and comlink controllers, and the
 * captures in test/fixtures/dydx/indexer_*_captures_2024/.
 */

export type DydxPositionSide = 'LONG' | 'SHORT';
export type DydxPositionStatus = 'OPEN' | 'CLOSED' | 'LIQUIDATED';
export type DydxOrderSide = 'BUY' | 'SELL';

/** Order status as the indexer prints it (REST and stream). */
export type DydxOrderStatus =
  'OPEN' | 'FILLED' | 'CANCELED' | 'BEST_EFFORT_CANCELED' | 'BEST_EFFORT_OPENED' | 'UNTRIGGERED';

export type DydxOrderType =
  'LIMIT' | 'MARKET' | 'STOP_LIMIT' | 'STOP_MARKET' | 'TAKE_PROFIT' | 'TAKE_PROFIT_MARKET' | 'TRAILING_STOP';

/** Fill type: LIQUIDATED is this subaccount being liquidated, LIQUIDATION the liquidator's side. */
export type DydxFillType = 'LIMIT' | 'MARKET' | 'LIQUIDATED' | 'LIQUIDATION' | 'DELEVERAGED' | 'OFFSETTING';

/** A perpetual position (subaccount `openPerpetualPositions[market]`, stream `perpetualPositions[]`, REST). */
export interface DydxPerpetualPosition {
  market: string;
  status: DydxPositionStatus;
  side: DydxPositionSide;
  /** Signed: negative for SHORT. */
  size: string;
  maxSize: string;
  entryPrice: string;
  exitPrice: string | null;
  realizedPnl: string;
  unrealizedPnl: string;
  netFunding: string;
  sumOpen: string;
  sumClose: string;
  subaccountNumber?: number;
  /** Stream updates only. */
  positionId?: string;
  address?: string;
  /** Subaccount and REST only (absent on stream updates). */
  createdAt?: string;
  createdAtHeight?: string;
  closedAt?: string | null;
}

/** A balance (`assetPositions[symbol]`, stream `assetPositions[]`); `size` is unsigned, `side` gives the sign. */
export interface DydxAssetPosition {
  symbol: string;
  side: DydxPositionSide;
  size: string;
  assetId: string;
  subaccountNumber?: number;
  address?: string;
}

/** The subaccount (GET /v4/addresses/{a}/subaccountNumber/{n} `subaccount`, v4_subaccounts `subscribed`). */
export interface DydxSubaccount {
  address: string;
  subaccountNumber: number;
  /** USDC + Σ signed size × oracle price. */
  equity: string;
  /** equity − Σ initial margin requirement. */
  freeCollateral: string;
  openPerpetualPositions: Record<string, DydxPerpetualPosition>;
  assetPositions: Record<string, DydxAssetPosition>;
  marginEnabled?: boolean;
  updatedAtHeight?: string;
  latestProcessedBlockHeight?: string;
}

/**
 * An order. Stream updates may carry only part of it: an expired order arrives as `{id, status, ticker,
 * removalReason, ...}` without side, size or price; a best-effort cancel carries `totalOptimisticFilled` instead of
 * `totalFilled`.
 */
export interface DydxOrder {
  id: string;
  subaccountId?: string;
  clientId?: string;
  clobPairId?: string;
  side?: DydxOrderSide;
  size?: string;
  totalFilled?: string;
  totalOptimisticFilled?: string;
  price?: string;
  type?: DydxOrderType;
  status: DydxOrderStatus;
  timeInForce?: string;
  reduceOnly?: boolean;
  postOnly?: boolean;
  /** "0" short-term, "32" conditional, "64" long-term. */
  orderFlags?: string;
  goodTilBlock?: string | null;
  goodTilBlockTime?: string | null;
  createdAtHeight?: string;
  clientMetadata?: string;
  triggerPrice?: string | null;
  updatedAt?: string;
  updatedAtHeight?: string;
  removalReason?: string;
  ticker: string;
  subaccountNumber?: number;
}

/** A fill: `ticker` on the stream, `market` (+ `marketType`) on REST. `fee` positive = paid, negative = rebate. */
export interface DydxFill {
  id: string;
  side: DydxOrderSide;
  liquidity: 'MAKER' | 'TAKER';
  type: DydxFillType;
  size: string;
  price: string;
  /** Absent in the 2023 docs example; present in every 2024 capture. */
  fee?: string;
  quoteAmount?: string;
  orderId?: string;
  ticker?: string;
  market?: string;
  marketType?: 'PERPETUAL' | 'SPOT';
  createdAt: string;
  createdAtHeight: string;
  clobPairId?: string;
  eventId?: unknown;
  transactionHash?: string;
  subaccountId?: string;
  subaccountNumber?: number;
  clientMetadata?: string;
  affiliateRevShare?: string;
}

/** A deposit, withdrawal or transfer between subaccounts (stream `transfers`: one object, not an array). */
export interface DydxTransfer {
  sender: { address: string; subaccountNumber?: number };
  recipient: { address: string; subaccountNumber?: number };
  size: string;
  symbol: string;
  type: 'DEPOSIT' | 'WITHDRAWAL' | 'TRANSFER_IN' | 'TRANSFER_OUT';
  createdAt: string;
  createdAtHeight: string;
  transactionHash?: string;
}

export interface DydxTradingReward {
  tradingReward: string;
  createdAt: string;
  createdAtHeight: string;
}

/**
 * `subscribed` contents: the subaccount answer merged with the open orders (status OPEN, UNTRIGGERED,
 * BEST_EFFORT_OPENED, BEST_EFFORT_CANCELED). `{}` when the indexer has not indexed the subaccount yet (its REST
 * answered 404); updates still follow once it is. Newer indexers add `blockHeight`.
 */
export type DydxSubaccountSubscribedContents =
  { subaccount: DydxSubaccount; orders: DydxOrder[]; blockHeight?: string } | Record<string, never>;

/** One `channel_data` update (a `channel_batch_data` frame carries an array of them). Every key optional. */
export interface DydxSubaccountUpdateContents {
  perpetualPositions?: DydxPerpetualPosition[];
  assetPositions?: DydxAssetPosition[];
  orders?: DydxOrder[];
  fills?: DydxFill[];
  transfers?: DydxTransfer;
  tradingReward?: DydxTradingReward;
  blockHeight?: string;
}

/** GET /v4/addresses/{address}/subaccountNumber/{n}. 404 `{errors:[{msg}]}` before it is indexed; 403 blocked. */
export interface DydxSubaccountResponse {
  subaccount: DydxSubaccount;
}

/** GET /v4/orders?address&subaccountNumber[&status=A,B][&limit]: a bare array, newest first. */
export type DydxOrdersResponse = DydxOrder[];

/** GET /v4/fills?address&subaccountNumber[&limit][&createdBeforeOrAtHeight][&createdBeforeOrAt]: newest first. */
export interface DydxFillsResponse {
  fills: DydxFill[];
  pageSize?: number;
  totalResults?: number;
  offset?: number;
}

/** GET /v4/perpetualPositions?address&subaccountNumber[&status][&limit]. */
export interface DydxPerpetualPositionsResponse {
  positions: DydxPerpetualPosition[];
}

/** One point of GET /v4/historical-pnl (hourly/daily snapshots of the subaccount). */
export interface DydxHistoricalPnl {
  equity: string;
  totalPnl: string;
  netTransfers: string;
  createdAt: string;
  blockHeight: string;
  blockTime?: string;
}

/** GET /v4/historical-pnl?address&subaccountNumber[&createdOnOrAfter][&createdBeforeOrAt][&limit]: newest first. */
export interface DydxHistoricalPnlResponse {
  historicalPnl: DydxHistoricalPnl[];
}
