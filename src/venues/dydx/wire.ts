/**
 * dYdX v4 Indexer wire formats (WebSocket `/v4/ws` and REST `/v4/...`), as the indexer sends them. Prices and
 * sizes are human decimal strings (USD per base unit, base units); the chain's quantums and subticks appear only
 * in the market parameters (see units.ts). Frames may carry keys not listed here; readers ignore them.
 */

/** The channels of the public indexer socket. */
export type DydxChannel =
  | 'v4_trades'
  | 'v4_orderbook'
  | 'v4_candles'
  | 'v4_markets'
  | 'v4_subaccounts'
  | 'v4_parent_subaccounts'
  | 'v4_block_height';

/** Sent once on connect; `message_id` is 0. */
export interface DydxConnectedFrame {
  type: 'connected';
  connection_id: string;
  message_id: number;
}

/** Client → server. `batched` asks for `channel_batch_data` (updates flushed together, default every 250 ms). */
export interface DydxSubscribeRequest {
  type: 'subscribe';
  channel: DydxChannel;
  /** Market ticker ("BTC-USD"), "TICKER/RESOLUTION" for candles, absent for v4_markets. */
  id?: string;
  batched?: boolean;
}

export interface DydxUnsubscribeRequest {
  type: 'unsubscribe';
  channel: DydxChannel;
  id?: string;
}

/** Application-level ping; the server answers `{type:"pong", id}`. */
export interface DydxPingRequest {
  type: 'ping';
  id?: number;
}

/** `subscribed`: the initial state of the channel in `contents`. */
export interface DydxSubscribedFrame<C = unknown> {
  type: 'subscribed';
  connection_id: string;
  message_id: number;
  channel: DydxChannel;
  id?: string;
  contents: C;
}

/** `channel_data`: one update; `version` is the schema version of the channel's contents ("2.1.0"). */
export interface DydxChannelDataFrame<C = unknown> {
  type: 'channel_data';
  connection_id: string;
  message_id: number;
  channel: DydxChannel;
  id?: string;
  version: string;
  contents: C;
}

/** `channel_batch_data`: several updates in one message (`contents` is an array); one message_id for all. */
export interface DydxChannelBatchDataFrame<C = unknown> {
  type: 'channel_batch_data';
  connection_id: string;
  message_id: number;
  channel: DydxChannel;
  id?: string;
  version: string;
  contents: C[];
}

export interface DydxUnsubscribedFrame {
  type: 'unsubscribed';
  connection_id: string;
  message_id: number;
  channel: DydxChannel;
  id?: string;
}

export interface DydxErrorFrame {
  type: 'error';
  message: string;
  connection_id: string;
  message_id: number;
}

export interface DydxPongFrame {
  type: 'pong';
  connection_id?: string;
  message_id?: number;
  id?: number;
}

export type DydxTradeType = 'LIMIT' | 'LIQUIDATED' | 'DELEVERAGED' | 'MARKET';

/** One trade (taker fill). `id` is hex and not ordered; trades of one block share `createdAt`. */
export interface DydxTrade {
  id: string;
  side: 'BUY' | 'SELL';
  size: string;
  price: string;
  type: DydxTradeType;
  /** ISO time of the block. */
  createdAt: string;
  /** Block height as a decimal string (REST; absent in the WS captures). */
  createdAtHeight?: string;
}

/** v4_trades contents (subscribed and channel_data); REST GET /v4/trades/perpetualMarket/{ticker}. */
export interface DydxTradesContents {
  trades: DydxTrade[];
}

/** Snapshot level (subscribed, REST GET /v4/orderbooks/perpetualMarket/{ticker}). */
export interface DydxBookLevelObject {
  price: string;
  size: string;
}

/** Update level: [price, size]; size "0" removes the level. */
export type DydxBookLevelTuple = [string, string];

export interface DydxBookSnapshotContents {
  bids: DydxBookLevelObject[];
  asks: DydxBookLevelObject[];
}

/** Either side may be missing. */
export interface DydxBookUpdateContents {
  bids?: DydxBookLevelTuple[];
  asks?: DydxBookLevelTuple[];
}

export type DydxResolution = '1MIN' | '5MINS' | '15MINS' | '30MINS' | '1HOUR' | '4HOURS' | '1DAY';

/** One candle; `startedAt` is the bar's start. Volumes: base units and USD. */
export interface DydxCandle {
  startedAt: string;
  ticker: string;
  resolution: DydxResolution;
  low: string;
  high: string;
  open: string;
  close: string;
  baseTokenVolume: string;
  usdVolume: string;
  trades: number;
  startingOpenInterest: string;
  orderbookMidPriceOpen?: string | null;
  orderbookMidPriceClose?: string | null;
  id?: string;
}

/** v4_candles subscribed contents and REST GET /v4/candles/perpetualMarkets/{ticker}: newest first. */
export interface DydxCandlesContents {
  candles: DydxCandle[];
}

/** One perpetual market's parameters (v4_markets subscribed, REST GET /v4/perpetualMarkets). */
export interface DydxPerpetualMarket {
  clobPairId: string;
  ticker: string;
  status: string;
  oraclePrice?: string | null;
  priceChange24H?: string;
  /** 24 h traded notional, USD. */
  volume24H?: string;
  trades24H?: number;
  nextFundingRate?: string;
  initialMarginFraction?: string;
  maintenanceMarginFraction?: string;
  openInterest?: string;
  atomicResolution: number;
  quantumConversionExponent: number;
  tickSize: string;
  stepSize: string;
  stepBaseQuantums: number;
  subticksPerTick: number;
  marketType?: 'CROSS' | 'ISOLATED';
  baseOpenInterest?: string;
}

export interface DydxMarketsContents {
  markets: Record<string, DydxPerpetualMarket>;
}

export interface DydxOraclePrice {
  oraclePrice: string;
  effectiveAt: string;
  effectiveAtHeight: string;
  marketId: number;
}

/** v4_markets channel_data: partial market objects keyed by ticker and/or oracle prices. */
export interface DydxMarketsUpdateContents {
  trading?: Record<string, Partial<DydxPerpetualMarket> & { id?: string }>;
  oraclePrices?: Record<string, DydxOraclePrice>;
}
