import type {
  AccountSummary,
  Balance,
  Fill,
  MarginMode,
  MarketKind,
  Order,
  OrderSide,
  OrderStatus,
  OrderType,
  Position,
  PositionSide,
} from '../../domain/account.ts';
import { add, divide, normalize, parseDecimal, sub, ZERO, type Decimal } from '../../domain/decimal.ts';
import type { AccountEvent } from '../../account/contract.ts';
import {
  array,
  decimal,
  isJsonObject,
  nonEmptyString,
  nonNegativeDecimal,
  optionalDecimal,
  timeMs,
  type JsonObject,
} from '../json-fields.ts';
import { readBitgetObject } from './parse.ts';
import type { BitgetArg } from './wire.ts';

/**
 * Pure mapping of Bitget v2 private frames and private REST rows to the normalized account types
 * (src/domain/account.ts), exact decimals throughout. `parseBitgetPrivateFrame` never throws: what it cannot read
 * becomes `unknown`, so one odd frame never stops an account stream. The REST readers throw on a malformed row;
 * the REST client turns that into a rejected answer.
 *
 * Bitget's conventions made explicit here: paid fees are negative on the wire and positive in a Fill; `crossed`
 * is `cross`; `leverage` is a number on the socket and a string on REST; every `positions` push is the complete
 * list of the product; order `status` live | partially_filled | filled | canceled (| cancelled).
 */

/** Login refusal codes (EXCHANGES.md §6): a wrong key, passphrase, timestamp or signature. */
export const BITGET_LOGIN_ERROR_CODES: ReadonlySet<string> = new Set([
  '30005',
  '30011',
  '30012',
  '30013',
  '30014',
  '30015',
]);

/**
 * Bitget refused the login of a private socket. `code` is Bitget's ("30015"); the message never contains a
 * credential (it is built from the code and Bitget's own text).
 */
export class BitgetLoginError extends Error {
  constructor(
    readonly code: string,
    venueMessage: string,
  ) {
    super(`Bitget refused the login: ${code} ${venueMessage}`.trim());
    this.name = 'BitgetLoginError';
  }
}

/** What one frame of the private socket means. */
export type BitgetPrivateFrame =
  | { readonly kind: 'pong' }
  | { readonly kind: 'loggedIn' }
  | { readonly kind: 'loginRefused'; readonly error: BitgetLoginError }
  | { readonly kind: 'ack'; readonly arg: BitgetArg }
  /** An error that is not a login refusal (a refused subscription names its `arg`). */
  | { readonly kind: 'error'; readonly code: string; readonly message: string; readonly arg?: BitgetArg }
  | { readonly kind: 'events'; readonly channel: string; readonly events: readonly AccountEvent[] }
  | { readonly kind: 'ignored'; readonly key: string; readonly reason: string }
  | { readonly kind: 'unknown'; readonly key: string; readonly reason: string };

export function parseBitgetPrivateFrame(raw: string): BitgetPrivateFrame {
  if (raw === 'pong') return { kind: 'pong' };
  const read = readBitgetObject(raw);
  if (!('object' in read)) return read;
  const value = read.object;
  const key = `${String(value['event'] ?? value['action'] ?? '?')}:${channelOf(value)}`;
  try {
    const event = value['event'];
    if (typeof event === 'string') return parseEvent(event, value);
    const arg = readArg(value['arg']);
    if (typeof value['action'] === 'string' && arg !== undefined) return parsePush(arg, value);
    return { kind: 'unknown', key: 'no-event-or-action', reason: 'frame has neither event nor action' };
  } catch (err) {
    return { kind: 'unknown', key, reason: `${key}: ${(err as Error).message}` };
  }
}

function channelOf(value: JsonObject): string {
  const arg = value['arg'];
  return isJsonObject(arg) ? String(arg['channel'] ?? '?') : '?';
}

function readArg(value: unknown): BitgetArg | undefined {
  if (!isJsonObject(value)) return undefined;
  const { instType, channel, instId, coin } = value;
  if (typeof instType !== 'string' || typeof channel !== 'string') return undefined;
  return {
    instType,
    channel,
    ...(typeof instId === 'string' ? { instId } : {}),
    ...(typeof coin === 'string' ? { coin } : {}),
  };
}

/** Bitget prints codes as numbers (30015) or strings ("0", "30015"). */
function codeText(value: unknown): string {
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return value;
  throw new Error('field code must be an integer or a string of digits');
}

function parseEvent(event: string, value: JsonObject): BitgetPrivateFrame {
  const msg = typeof value['msg'] === 'string' ? value['msg'] : '';
  if (event === 'login') {
    const code = codeText(value['code']);
    if (code === '0') return { kind: 'loggedIn' };
    return { kind: 'loginRefused', error: new BitgetLoginError(code, msg) };
  }
  if (event === 'error') {
    const code = codeText(value['code']);
    const arg = readArg(value['arg']);
    if (BITGET_LOGIN_ERROR_CODES.has(code) || value['op'] === 'login')
      return { kind: 'loginRefused', error: new BitgetLoginError(code, msg) };
    return { kind: 'error', code, message: msg, ...(arg ? { arg } : {}) };
  }
  if (event === 'subscribe' || event === 'unsubscribe') {
    const arg = readArg(value['arg']);
    if (arg === undefined) throw new Error('ack without a valid arg');
    return { kind: 'ack', arg };
  }
  return { kind: 'ignored', key: `event:${event}`, reason: `event ${event} is not used` };
}

function parsePush(arg: BitgetArg, value: JsonObject): BitgetPrivateFrame {
  const rows = array(value['data'], 'data', 'rows').map((row, i) => {
    if (!isJsonObject(row)) throw new Error(`data[${i}] must be an object`);
    return row;
  });
  const ts = timeMs(value['ts'], 'ts');
  const market = marketOf(arg.instType);
  const channel = arg.channel;
  if (market === undefined)
    return {
      kind: 'ignored',
      key: `instType:${arg.instType}`,
      reason: `instType ${arg.instType} is not read`,
    };
  switch (channel) {
    case 'account':
      if (market === 'spot') return events(channel, [{ kind: 'balances', balances: rows.map(spotBalance) }]);
      return events(channel, futuresSummary(rows, ts));
    case 'positions':
      return events(channel, [
        { kind: 'positions', positions: rows.map((r) => position(r, 'instId')), complete: true, time: ts },
      ]);
    case 'orders':
      return events(
        channel,
        rows.map((r) => ({ kind: 'order', order: order(r, market, 'instId') })),
      );
    case 'fill':
      return events(channel, [
        {
          kind: 'fills',
          fills: rows.map((r) => (market === 'spot' ? spotFill(r) : futuresFill(r))),
          source: 'stream',
        },
      ]);
    default:
      return { kind: 'ignored', key: `channel:${channel}`, reason: `channel ${channel} is not read` };
  }
}

function events(channel: string, list: AccountEvent[]): BitgetPrivateFrame {
  return { kind: 'events', channel, events: list };
}

/** SPOT → spot; USDT-FUTURES (and its demo SUSDT-FUTURES) → perpetual; other families are not read. */
function marketOf(instType: string): MarketKind | undefined {
  if (instType === 'SPOT') return 'spot';
  if (instType === 'USDT-FUTURES' || instType === 'SUSDT-FUTURES') return 'perpetual';
  return undefined;
}

/** Quote currencies recognised at the end of a Bitget instId, longest first. */
const QUOTES = ['USDT', 'USDC', 'USDE', 'FDUSD', 'EUR', 'BRL', 'BTC', 'ETH', 'BGB', 'USD'].sort(
  (a, b) => b.length - a.length,
);

/**
 * "BTCUSDT" → "BTC/USDT" (spot and USDT perpetual alike: the order's or fill's `market` says which). An instId
 * with no known quote suffix is kept as Bitget prints it.
 */
export function bitgetAccountSymbol(instId: string): string {
  const upper = instId.toUpperCase();
  for (const quote of QUOTES)
    if (upper.length > quote.length && upper.endsWith(quote))
      return `${upper.slice(0, -quote.length)}/${quote}`;
  return upper;
}

function quoteOf(symbol: string): string {
  const slash = symbol.indexOf('/');
  return slash < 0 ? '' : symbol.slice(slash + 1);
}

// ---- rows ----

/** Spot balance: total = available + frozen + locked (frozen: in open orders; locked: e.g. in savings). */
export function spotBalance(row: JsonObject): Balance {
  const available = nonNegativeDecimal(row['available'], 'available');
  const locked = add(
    nonNegativeDecimal(row['frozen'], 'frozen'),
    optionalNonNegative(row['locked'], 'locked'),
  );
  return {
    currency: nonEmptyString(row['coin'], 'coin').toUpperCase(),
    total: add(available, locked),
    available,
    locked,
    time: timeMs(row['uTime'], 'uTime'),
  };
}

function optionalNonNegative(value: unknown, field: string): Decimal {
  const d = optionalDecimal(value, field);
  if (d === undefined) return ZERO;
  if (d.coef < 0n) throw new Error(`field ${field} must be a decimal not below zero`);
  return d;
}

/**
 * The futures account as the summary: equity = `usdtEquity`, available = `available`, unrealized = `unrealizedPL`
 * (absent or "" → 0). The USDT margin coin's row when there are several. Spot coins are balances, not in equity.
 */
function futuresSummary(rows: readonly JsonObject[], ts: number): AccountEvent[] {
  const row = rows.find((r) => r['marginCoin'] === 'USDT') ?? rows[0];
  if (row === undefined) return [];
  return [{ kind: 'summary', summary: summaryOf(row, 'usdtEquity', ts) }];
}

function summaryOf(row: JsonObject, equityField: string, time: number): AccountSummary {
  return {
    equity: decimal(row[equityField], equityField),
    currency: nonEmptyString(row['marginCoin'], 'marginCoin').toUpperCase(),
    available: decimal(row['available'], 'available'),
    unrealizedPnl: optionalDecimal(row['unrealizedPL'], 'unrealizedPL') ?? ZERO,
    time,
  };
}

/** `leverage`: a JSON number on the socket (20), a string on REST ("20"). */
function leverageOf(value: unknown): Decimal | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw new Error('field leverage must be above zero');
    return parseDecimal(String(value));
  }
  const d = optionalDecimal(value, 'leverage');
  if (d !== undefined && d.coef <= 0n) throw new Error('field leverage must be above zero');
  return d;
}

function marginModeOf(value: unknown): MarginMode {
  if (value === 'crossed' || value === 'cross') return 'cross';
  if (value === 'isolated') return 'isolated';
  throw new Error('field marginMode must be crossed or isolated');
}

function positionSideOf(value: unknown): PositionSide {
  if (value === 'long' || value === 'short') return value;
  throw new Error('field holdSide must be long or short');
}

/** Places of a mark price worked out from the unrealized PnL (see `impliedMark`). */
export const IMPLIED_MARK_PLACES = 8;

/**
 * The mark price a position's unrealized PnL implies: Bitget values positions at the mark, so
 * unrealizedPL = size × (mark − entry) for a long and size × (entry − mark) for a short, and
 * mark = entry ± unrealizedPL / size (to `IMPLIED_MARK_PLACES`, trailing zeros dropped). Undefined for a size of 0
 * or a result not above 0.
 */
export function impliedMark(
  side: PositionSide,
  size: Decimal,
  entry: Decimal,
  unrealized: Decimal,
): Decimal | undefined {
  if (size.coef <= 0n || entry.coef <= 0n) return undefined;
  const move = divide(unrealized, size, IMPLIED_MARK_PLACES);
  const mark = normalize(side === 'long' ? add(entry, move) : sub(entry, move));
  return mark.coef > 0n ? mark : undefined;
}

/**
 * A position row of the socket (`instId`) or of REST (`symbol`). REST rows carry `markPrice`; the socket's
 * `positions` rows do not (EXCHANGES.md §6, the captured push), so there the mark is the one the row's unrealized
 * PnL implies (`impliedMark`), current with every push.
 */
export function position(row: JsonObject, symbolField: 'instId' | 'symbol'): Position {
  const leverage = leverageOf(row['leverage']);
  const liquidation = optionalDecimal(row['liquidationPrice'], 'liquidationPrice');
  const realized = optionalDecimal(row['achievedProfits'], 'achievedProfits');
  const side = positionSideOf(row['holdSide']);
  const size = nonNegativeDecimal(row['total'], 'total');
  const entryPrice = nonNegativeDecimal(row['openPriceAvg'], 'openPriceAvg');
  const unrealizedPnl = decimal(row['unrealizedPL'], 'unrealizedPL');
  const given = optionalDecimal(row['markPrice'], 'markPrice');
  const mark =
    given !== undefined && given.coef > 0n ? given : impliedMark(side, size, entryPrice, unrealizedPnl);
  return {
    symbol: bitgetAccountSymbol(nonEmptyString(row[symbolField], symbolField)),
    side,
    size,
    entryPrice,
    ...(mark !== undefined ? { markPrice: mark } : {}),
    ...(leverage !== undefined ? { leverage } : {}),
    marginMode: marginModeOf(row['marginMode']),
    unrealizedPnl,
    ...(realized !== undefined ? { realizedPnl: realized } : {}),
    // Bitget: "If the value <= 0, ... there is no liquidation price at this time".
    ...(liquidation !== undefined && liquidation.coef > 0n ? { liquidationPrice: liquidation } : {}),
    margin: nonNegativeDecimal(row['marginSize'], 'marginSize'),
    timestamp: timeMs(row['uTime'], 'uTime'),
  };
}

const ORDER_STATUS: Readonly<Record<string, OrderStatus>> = {
  live: 'open',
  new: 'open',
  init: 'open',
  partially_filled: 'partially_filled',
  partial_fill: 'partially_filled',
  filled: 'filled',
  full_fill: 'filled',
  canceled: 'canceled',
  cancelled: 'canceled',
};

export function orderStatusOf(value: unknown): OrderStatus {
  const status = typeof value === 'string' ? ORDER_STATUS[value] : undefined;
  if (status === undefined)
    throw new Error(`field status must be live, partially_filled, filled or canceled`);
  return status;
}

function orderSideOf(value: unknown, field = 'side'): OrderSide {
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (lower === 'buy' || lower === 'sell') return lower;
  throw new Error(`field ${field} must be buy or sell`);
}

function orderTypeOf(value: unknown): OrderType {
  if (value === 'limit' || value === 'market') return value;
  return 'other';
}

/** Decimal above zero, else undefined: Bitget prints "0" / "0.00" for "no price" and "no average yet". */
function positiveOrNone(value: unknown, field: string): Decimal | undefined {
  const d = optionalDecimal(value, field);
  return d !== undefined && d.coef > 0n ? d : undefined;
}

/**
 * An order row: socket `orders` (`instId`, filled = `accBaseVolume`) or REST pending lists (`symbol`, filled =
 * `baseVolume`).
 */
export function order(row: JsonObject, market: MarketKind, symbolField: 'instId' | 'symbol'): Order {
  const filledRaw = row['accBaseVolume'] ?? row['baseVolume'];
  const type = orderTypeOf(row['orderType']);
  const price = type === 'market' ? undefined : positiveOrNone(row['price'], 'price');
  const average = positiveOrNone(row['priceAvg'], 'priceAvg');
  const clientOid = row['clientOid'] ?? row['clientOId'];
  const reduceOnly = row['reduceOnly'];
  return {
    orderId: nonEmptyString(row['orderId'], 'orderId'),
    ...(typeof clientOid === 'string' && clientOid !== '' ? { clientOrderId: clientOid } : {}),
    symbol: bitgetAccountSymbol(nonEmptyString(row[symbolField], symbolField)),
    market,
    side: orderSideOf(row['side']),
    type,
    ...(price !== undefined ? { price } : {}),
    size: nonNegativeDecimal(row['size'], 'size'),
    filledSize:
      filledRaw === undefined || filledRaw === '' ? ZERO : nonNegativeDecimal(filledRaw, 'accBaseVolume'),
    ...(average !== undefined ? { averagePrice: average } : {}),
    status: orderStatusOf(row['status']),
    ...(typeof reduceOnly === 'string' && reduceOnly !== ''
      ? { reduceOnly: reduceOnly.toLowerCase() === 'yes' }
      : {}),
    createdAt: timeMs(row['cTime'], 'cTime'),
    updatedAt: timeMs(row['uTime'] ?? row['cTime'], 'uTime'),
  };
}

/**
 * Fee paid (positive) and its currency from `feeDetail` (a list on the socket and futures REST, one object on spot
 * REST). Bitget prints paid fees as negative `totalFee` (orders: `fee`); each entry's amount is negated and those in
 * the first entry's coin are summed. No entry: no fee, in `fallbackCurrency`.
 */
export function feeOf(value: unknown, fallbackCurrency: string): { fee: Decimal; currency: string } {
  const entries = Array.isArray(value) ? value : isJsonObject(value) ? [value] : [];
  let fee = ZERO;
  let currency: string | undefined;
  entries.forEach((entry, i) => {
    if (!isJsonObject(entry)) throw new Error(`feeDetail[${i}] must be an object`);
    const coin = nonEmptyString(entry['feeCoin'], `feeDetail[${i}].feeCoin`).toUpperCase();
    currency ??= coin;
    if (coin !== currency) return;
    const amount = optionalDecimal(entry['totalFee'] ?? entry['fee'], `feeDetail[${i}].totalFee`) ?? ZERO;
    fee = sub(fee, amount);
  });
  return { fee, currency: currency ?? fallbackCurrency };
}

function liquidityOf(value: unknown): 'maker' | 'taker' {
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (lower === 'maker' || lower === 'm') return 'maker';
  if (lower === 'taker' || lower === 't') return 'taker';
  throw new Error('field tradeScope must be taker or maker');
}

/** A futures fill (socket `fill` and REST `mix/order/fills`). `burst_*` trade sides are liquidations. */
export function futuresFill(row: JsonObject): Fill {
  const symbol = bitgetAccountSymbol(nonEmptyString(row['symbol'], 'symbol'));
  const { fee, currency } = feeOf(row['feeDetail'], quoteOf(symbol));
  const profit = optionalDecimal(row['profit'], 'profit');
  const tradeSide = typeof row['tradeSide'] === 'string' ? row['tradeSide'] : '';
  return {
    fillId: nonEmptyString(row['tradeId'], 'tradeId'),
    orderId: nonEmptyString(row['orderId'], 'orderId'),
    symbol,
    market: 'perpetual',
    side: orderSideOf(row['side']),
    price: nonNegativeDecimal(row['price'], 'price'),
    size: nonNegativeDecimal(row['baseVolume'], 'baseVolume'),
    fee,
    feeCurrency: currency,
    liquidity: liquidityOf(row['tradeScope']),
    ...(profit !== undefined ? { realizedPnl: profit } : {}),
    ...(tradeSide.startsWith('burst_') ? { liquidation: true } : {}),
    time: timeMs(row['cTime'], 'cTime'),
  };
}

/** A spot fill (socket `fill` SPOT and REST `spot/trade/fills`): price `priceAvg`, size `size`. */
export function spotFill(row: JsonObject): Fill {
  const symbol = bitgetAccountSymbol(nonEmptyString(row['symbol'], 'symbol'));
  const { fee, currency } = feeOf(row['feeDetail'], quoteOf(symbol));
  return {
    fillId: nonEmptyString(row['tradeId'], 'tradeId'),
    orderId: nonEmptyString(row['orderId'], 'orderId'),
    symbol,
    market: 'spot',
    side: orderSideOf(row['side']),
    price: nonNegativeDecimal(row['priceAvg'], 'priceAvg'),
    size: nonNegativeDecimal(row['size'], 'size'),
    fee,
    feeCurrency: currency,
    liquidity: liquidityOf(row['tradeScope']),
    time: timeMs(row['cTime'], 'cTime'),
  };
}

// ---- REST answers (the `data` of an envelope) ----

function rowsOf(data: unknown, what: string): JsonObject[] {
  if (data === null) return [];
  return array(data, what, 'objects').map((row, i) => {
    if (!isJsonObject(row)) throw new Error(`${what}[${i}] must be an object`);
    return row;
  });
}

/** `GET /api/v2/mix/account/accounts`: the summary (USDT margin coin's row; equity `usdtEquity`). */
export function parseRestFuturesAccounts(data: unknown, time: number): AccountSummary | undefined {
  const rows = rowsOf(data, 'accounts');
  const row = rows.find((r) => r['marginCoin'] === 'USDT') ?? rows[0];
  return row === undefined ? undefined : summaryOf(row, 'usdtEquity', time);
}

/** `GET /api/v2/spot/account/assets`. */
export function parseRestSpotAssets(data: unknown): Balance[] {
  return rowsOf(data, 'assets').map(spotBalance);
}

/** `GET /api/v2/mix/position/all-position`. */
export function parseRestPositions(data: unknown): Position[] {
  return rowsOf(data, 'positions').map((r) => position(r, 'symbol'));
}

/** `GET /api/v2/mix/order/orders-pending` (`{entrustedList, endId}`) or spot `unfilled-orders` (a list). */
export function parseRestOrders(data: unknown, market: MarketKind): Order[] {
  const list = isJsonObject(data) ? (data['entrustedList'] ?? null) : data;
  return rowsOf(list, 'entrustedList').map((r) => order(r, market, 'symbol'));
}

/** `GET /api/v2/mix/order/fills` (`{fillList, endId}`) or spot `trade/fills` (a list). */
export function parseRestFills(data: unknown, market: MarketKind): Fill[] {
  const list = isJsonObject(data) ? (data['fillList'] ?? null) : data;
  return rowsOf(list, 'fillList').map((r) => (market === 'spot' ? spotFill(r) : futuresFill(r)));
}
