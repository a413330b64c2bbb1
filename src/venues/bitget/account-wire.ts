/**
 * Bitget API v2 private wire formats: the private socket (`/v2/ws/private`: login, `account`, `positions`,
 * `orders`, `fill`) and the signed REST endpoints an account is reconciled from. As on the public side, amounts and
 * times inside `data` are strings (times are ms as text) and the push envelope's `ts` is a number; the exceptions
 * are noted where they are. Frames carry keys not listed here; readers ignore them. See docs/venues/BITGET.md,
 * "Private account stream", and EXCHANGES.md §3 (login) and §6.
 */
import type { BitgetArg } from './wire.ts';

/** `{"op":"login","args":[{apiKey, passphrase, timestamp, sign}]}`; `timestamp` is unix SECONDS as text. */
export interface BitgetLoginRequest {
  op: 'login';
  args: [{ apiKey: string; passphrase: string; timestamp: string; sign: string }];
}

/** Login accepted: `{"event":"login","code":0}`; some servers print the code as the string "0". */
export interface BitgetLoginReply {
  event: 'login';
  code: number | string;
  msg?: string;
}

/**
 * A refusal: `{"event":"error","code":30015,"msg":"Invalid sign"}`; after a login refusal the server closes the
 * socket. Codes of the login: 30005 login failed, 30011 invalid ACCESS_KEY, 30012 invalid ACCESS_PASSPHRASE,
 * 30013 invalid ACCESS_TIMESTAMP, 30014 timestamp expired, 30015 invalid signature (30004: login required).
 */
export interface BitgetPrivateErrorFrame {
  event: 'error';
  code: number | string;
  msg?: string;
  arg?: BitgetArg;
  op?: string;
}

/** `account`, instType SPOT (`coin: "default"`): one row per coin. */
export interface BitgetSpotAccountRow {
  coin: string;
  available: string;
  frozen: string;
  locked: string;
  limitAvailable?: string;
  uTime: string;
}

/** `account`, instType USDT-FUTURES: one row per margin coin. No time field: the push `ts` is the time. */
export interface BitgetFuturesAccountRow {
  marginCoin: string;
  frozen: string;
  available: string;
  maxOpenPosAvailable?: string;
  maxTransferOut?: string;
  equity: string;
  usdtEquity: string;
  crossedRiskRate?: string;
  unrealizedPL?: string;
}

/** `positions` (instId "default"): the full list of open positions of the product on every push. */
export interface BitgetPositionRow {
  posId?: string;
  instId: string;
  marginCoin: string;
  marginSize: string;
  /** `crossed` | `isolated`. */
  marginMode: string;
  /** `long` | `short` (one-way mode also reports the side of the net position). */
  holdSide: string;
  posMode?: string;
  total: string;
  available?: string;
  frozen?: string;
  openPriceAvg: string;
  /** A NUMBER on the socket (20), a string on REST ("20"). */
  leverage: number | string;
  achievedProfits?: string;
  unrealizedPL: string;
  unrealizedPLR?: string;
  /** "0" or below when there is none (low risk). */
  liquidationPrice?: string;
  markPrice?: string;
  keepMarginRate?: string;
  marginRate?: string;
  breakEvenPrice?: string;
  totalFee?: string;
  deductedFee?: string;
  cTime: string;
  uTime: string;
}

/** REST `all-position` rows: the socket row's fields with `symbol` instead of `instId`. */
export type BitgetRestPositionRow = Omit<BitgetPositionRow, 'instId'> & { symbol: string };

/** One fee of an order or fill; paid fees are NEGATIVE. Order pushes use `fee`, fills `totalFee`. */
export interface BitgetFeeDetail {
  feeCoin: string;
  fee?: string;
  totalFee?: string;
  deduction?: string;
  totalDeductionFee?: string;
}

/**
 * `orders` (spot and futures; instId "default" or a symbol). Futures pushes also carry the latest fill
 * (`fillPrice`, `baseVolume`, `fillFee`, `fillFeeCoin`, `fillTime`, `tradeId`) when one happened.
 */
export interface BitgetOrderRow {
  orderId: string;
  clientOid?: string;
  instId: string;
  side: string;
  orderType: string;
  /** "0" or absent for market orders. */
  price?: string;
  size: string;
  /** Spot market buys: the quote amount. */
  notional?: string;
  accBaseVolume: string;
  priceAvg?: string;
  /** `live` | `partially_filled` | `filled` | `canceled` (`cancelled` in `orders-algo`). */
  status: string;
  reduceOnly?: string;
  posSide?: string;
  tradeSide?: string;
  marginMode?: string;
  leverage?: string;
  feeDetail?: BitgetFeeDetail[];
  fillPrice?: string;
  baseVolume?: string;
  fillFee?: string;
  fillFeeCoin?: string;
  fillTime?: string;
  tradeId?: string;
  pnl?: string;
  cTime: string;
  uTime: string;
}

/** REST `orders-pending` (futures) / `unfilled-orders` (spot) rows: `symbol` names the instrument. */
export interface BitgetRestOrderRow {
  orderId: string;
  clientOid?: string;
  symbol: string;
  side: string;
  orderType: string;
  price?: string;
  size: string;
  /** Futures: filled base amount. */
  baseVolume?: string;
  priceAvg?: string;
  status: string;
  reduceOnly?: string;
  cTime: string;
  uTime: string;
}

/** `fill` futures push and REST `mix/order/fills` row. */
export interface BitgetFuturesFillRow {
  tradeId: string;
  orderId: string;
  symbol: string;
  side: string;
  orderType?: string;
  price: string;
  baseVolume: string;
  quoteVolume?: string;
  profit?: string;
  tradeSide?: string;
  /** `taker` | `maker`. */
  tradeScope: string;
  feeDetail: BitgetFeeDetail[];
  cTime: string;
  uTime?: string;
}

/** `fill` spot push and REST `spot/trade/fills` row; REST prints `feeDetail` as one object, the socket a list. */
export interface BitgetSpotFillRow {
  tradeId: string;
  orderId: string;
  symbol: string;
  side: string;
  orderType?: string;
  priceAvg: string;
  size: string;
  amount?: string;
  tradeScope: string;
  feeDetail: BitgetFeeDetail[] | BitgetFeeDetail;
  cTime: string;
  uTime?: string;
}

/** REST `spot/account/assets` row. */
export type BitgetRestSpotAsset = BitgetSpotAccountRow;

/** REST `mix/account/accounts` row. */
export interface BitgetRestFuturesAccount {
  marginCoin: string;
  locked: string;
  available: string;
  accountEquity: string;
  usdtEquity: string;
  unrealizedPL?: string;
  crossedMaxAvailable?: string;
  isolatedMaxAvailable?: string;
}

/** REST `mix/order/orders-pending` data: `entrustedList` is null when nothing is pending. */
export interface BitgetRestPendingOrders {
  entrustedList: BitgetRestOrderRow[] | null;
  endId?: string | null;
}

/** REST `mix/order/fills` data. */
export interface BitgetRestFuturesFills {
  fillList: BitgetFuturesFillRow[] | null;
  endId?: string | null;
}
