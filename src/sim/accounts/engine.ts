/**
 * A simulated trading account, the same for every venue: one balance in the margin currency, one net perpetual
 * position per symbol (long or short, cross or isolated, with leverage), limit and market orders that fill against
 * the venue's simulated trades, maker/taker fees, funding, realized PnL on closes, and liquidation when the mark
 * crosses the liquidation price. Venue folders turn its state and events into their own wire formats.
 *
 * Time is the market's: `advanceTo(now)` replays the venues' new trades in time order, with the account's own
 * scheduled events (funding, the trader's actions, hourly PnL points) in between, so the same clock steps and seed
 * give the same story however the clock is stepped.
 *
 * Figures (all exact decimals):
 * - mark price of a symbol: its venue's last trade price (the simulated venues publish that as mark/oracle);
 * - unrealized PnL = size × (mark − entry), size signed (long > 0);
 * - margin of a position = |size| × entry / leverage;
 * - equity = balance + Σ unrealized PnL; available = equity − Σ margin − margin reserved by open orders;
 * - maintenance margin = mmr × |size| × mark;
 * - liquidation price P solves collateral + size × (P − entry) = mmr × |size| × P, i.e.
 *   P = (size × entry − collateral) / (size − mmr × |size|), where collateral is the position's margin (isolated)
 *   or the balance plus the other positions' unrealized PnL minus their maintenance margin (cross); none when
 *   P ≤ 0. A position is liquidated at the first trade whose price reaches P: closed at that price as a taker.
 * - funding at every multiple of `fundingPeriodMs` (UTC): each position pays size × mark × rate (longs pay when
 *   the rate is positive, shorts receive).
 */
import { add, compare, isZero, mul, sub, toPlainString, type Decimal } from '../../domain/decimal.ts';
import type { SimMarket, SimTrade } from '../market/market.ts';
import { abs, divide, isPositive, negate, sign, units, ZERO } from './numbers.ts';

export type SimSide = 'buy' | 'sell';
export type SimMarginMode = 'cross' | 'isolated';
export type SimOrderStatus = 'open' | 'partially_filled' | 'filled' | 'canceled' | 'rejected';

export interface SimAccountSettings {
  /** Margin currency ("USDT", "USDC"). */
  readonly currency: string;
  readonly initialBalance: Decimal;
  readonly makerFeeRate: Decimal;
  readonly takerFeeRate: Decimal;
  /** Maintenance margin rate (Bitget keepMarginRate, dYdX maintenanceMarginFraction). */
  readonly maintenanceMarginRate: Decimal;
  /** Funding rate per period. */
  readonly fundingRate: Decimal;
  readonly fundingPeriodMs: number;
  readonly defaultLeverage: number;
  readonly defaultMarginMode: SimMarginMode;
  /** How much history the account keeps; default SIM_ACCOUNT_RETENTION. */
  readonly retention?: Partial<SimAccountRetention>;
}

/**
 * The history a simulated account keeps, so that a simulator left running (the seeded trader places ~80 orders an
 * hour) stays bounded: the newest finished orders (filled, canceled, rejected), fills and closed positions, and the
 * PnL points of a time window. Open orders and open positions are always kept.
 */
export interface SimAccountRetention {
  readonly finishedOrders: number;
  readonly fills: number;
  readonly closedPositions: number;
  /** PnL points older than this before the newest one are dropped. */
  readonly pnlWindowMs: number;
}

/** About a day of the seeded trader's orders and fills, a month of hourly PnL points. */
export const SIM_ACCOUNT_RETENTION: SimAccountRetention = {
  finishedOrders: 2_000,
  fills: 2_000,
  closedPositions: 500,
  pnlWindowMs: 30 * 24 * 3_600_000,
};

export interface SimOrder {
  /** Sequence number within the account, from 1. */
  readonly seq: number;
  readonly clientId: string;
  readonly symbol: string;
  readonly side: SimSide;
  readonly type: 'limit' | 'market';
  readonly price: Decimal | undefined;
  readonly size: Decimal;
  readonly reduceOnly: boolean;
  readonly leverage: number;
  readonly marginMode: SimMarginMode;
  filled: Decimal;
  /** Σ price × size of its fills (the average price is this / filled). */
  filledQuote: Decimal;
  fees: Decimal;
  status: SimOrderStatus;
  /** Why it was rejected or canceled. */
  reason: 'insufficient_margin' | 'no_price' | 'canceled_by_user' | 'liquidation' | 'reduce_only' | undefined;
  readonly createdAt: number;
  updatedAt: number;
}

export interface SimFill {
  readonly seq: number;
  readonly order: SimOrder;
  readonly symbol: string;
  readonly side: SimSide;
  readonly price: Decimal;
  readonly size: Decimal;
  /** Fee paid, positive. */
  readonly fee: Decimal;
  readonly liquidity: 'maker' | 'taker';
  /** PnL realized by the closing part, fees excluded. */
  readonly realizedPnl: Decimal;
  readonly liquidation: boolean;
  readonly time: number;
}

export interface SimPosition {
  /** Sequence number within the account: a position reopened after a close is a new one. */
  readonly seq: number;
  readonly symbol: string;
  /** Signed: long > 0. */
  size: Decimal;
  entryPrice: Decimal;
  leverage: number;
  marginMode: SimMarginMode;
  realizedPnl: Decimal;
  /** Funding received (negative when paid). */
  netFunding: Decimal;
  fees: Decimal;
  sumOpen: Decimal;
  sumClose: Decimal;
  /** Average price of the closing fills. */
  exitPrice: Decimal | undefined;
  /** Largest |size| reached, signed like the position. */
  maxSize: Decimal;
  status: 'open' | 'closed' | 'liquidated';
  readonly openedAt: number;
  updatedAt: number;
  closedAt: number | undefined;
}

/** An hourly point of the account's PnL history. */
export interface SimPnlPoint {
  readonly time: number;
  readonly equity: Decimal;
  /** equity − initial balance. */
  readonly totalPnl: Decimal;
}

export type SimAccountEvent =
  | { readonly kind: 'order'; readonly order: SimOrder }
  | {
      readonly kind: 'fill';
      readonly fill: SimFill;
      readonly position: SimPosition;
    }
  | {
      readonly kind: 'funding';
      readonly position: SimPosition;
      readonly amount: Decimal;
      readonly time: number;
    }
  | { readonly kind: 'liquidation'; readonly position: SimPosition; readonly time: number };

/** A perpetual market the account trades, by canonical symbol. */
export interface SimAccountMarket {
  readonly symbol: string;
  readonly market: SimMarket;
}

export interface PlaceOrder {
  readonly symbol: string;
  readonly side: SimSide;
  readonly type: 'limit' | 'market';
  readonly size: Decimal;
  /** Required for limit orders. */
  readonly price?: Decimal;
  readonly reduceOnly?: boolean;
  readonly leverage?: number;
  readonly marginMode?: SimMarginMode;
  readonly clientId?: string;
}

/** Something scheduled inside the account's time line (the trader); called with the event's time. */
export interface SimScheduled {
  /** Time of the next call, or undefined when nothing is scheduled. */
  next(): number | undefined;
  run(time: number): void;
}

const HOUR_MS = 3_600_000;

interface MarketState {
  readonly symbol: string;
  readonly market: SimMarket;
  /** Aggregate id of the last trade replayed. */
  lastId: number;
  mark: Decimal;
}

export class SimAccount {
  private readonly markets = new Map<string, MarketState>();
  private balanceValue: Decimal;
  private readonly openPositions = new Map<string, SimPosition>();
  readonly closedPositions: SimPosition[] = [];
  private readonly orderList: SimOrder[] = [];
  /** Every order of orderList before this index is finished (openOrders). */
  private finishedBefore = 0;
  readonly fills: SimFill[] = [];
  readonly pnlHistory: SimPnlPoint[] = [];
  private readonly listeners = new Set<(event: SimAccountEvent) => void>();
  private readonly scheduled: SimScheduled[] = [];
  private readonly retention: SimAccountRetention;
  private orderSeq = 0;
  private fillSeq = 0;
  private positionSeq = 0;
  private nextFunding: number;
  private nextPnlPoint: number;
  private clock: number;
  /** Time of the last change of the balance (fills, funding). */
  balanceTime: number;

  constructor(
    readonly id: string,
    readonly settings: SimAccountSettings,
    markets: readonly SimAccountMarket[],
    startMs: number,
  ) {
    if (!(settings.fundingPeriodMs >= 60_000))
      throw new RangeError('sim account: fundingPeriodMs must be ≥ 1 min');
    this.retention = { ...SIM_ACCOUNT_RETENTION, ...settings.retention };
    for (const [name, value] of Object.entries(this.retention))
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`sim account: retention.${name} must be a positive integer`);
    for (const { symbol, market } of markets) {
      const trades = market.recentTrades();
      this.markets.set(symbol, {
        symbol,
        market,
        lastId: trades[trades.length - 1]?.a ?? -1,
        mark: units(market.lastTicks, market.spec.tick),
      });
    }
    this.balanceValue = settings.initialBalance;
    this.clock = startMs;
    this.balanceTime = startMs;
    this.nextFunding = (Math.floor(startMs / settings.fundingPeriodMs) + 1) * settings.fundingPeriodMs;
    this.nextPnlPoint = (Math.floor(startMs / HOUR_MS) + 1) * HOUR_MS;
    this.pnlHistory.push({ time: startMs, equity: settings.initialBalance, totalPnl: ZERO });
  }

  /** The account's current time: the clock time of the last advance. */
  get now(): number {
    return this.clock;
  }

  get symbols(): string[] {
    return [...this.markets.keys()];
  }

  /** The market of a symbol (for its tick and step). */
  marketOf(symbol: string): SimMarket | undefined {
    return this.markets.get(symbol)?.market;
  }

  /** Registers a listener of every order, fill, funding and liquidation event; returns its remover. */
  subscribe(listener: (event: SimAccountEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds something that acts inside the time line (the trader). */
  schedule(item: SimScheduled): void {
    this.scheduled.push(item);
  }

  // ---- figures -------------------------------------------------------------------------------------------------

  get balance(): Decimal {
    return this.balanceValue;
  }

  mark(symbol: string): Decimal {
    const state = this.markets.get(symbol);
    if (state === undefined) throw new RangeError(`sim account: no market ${symbol}`);
    return state.mark;
  }

  positions(): SimPosition[] {
    return [...this.openPositions.values()];
  }

  position(symbol: string): SimPosition | undefined {
    return this.openPositions.get(symbol);
  }

  orders(): readonly SimOrder[] {
    return this.orderList;
  }

  /**
   * Working orders, oldest first. Every trade asks for them, and the list keeps up to a day of finished orders:
   * the scan starts at the oldest order still working, since an order never works again once finished and new
   * orders are appended.
   */
  openOrders(): SimOrder[] {
    const list = this.orderList;
    while (this.finishedBefore < list.length && !isWorking(list[this.finishedBefore] as SimOrder)) {
      this.finishedBefore++;
    }
    const out: SimOrder[] = [];
    for (let i = this.finishedBefore; i < list.length; i++) {
      const order = list[i] as SimOrder;
      if (isWorking(order)) out.push(order);
    }
    return out;
  }

  unrealizedPnl(position: SimPosition): Decimal {
    return mul(position.size, sub(this.mark(position.symbol), position.entryPrice));
  }

  margin(position: SimPosition): Decimal {
    return divide(mul(abs(position.size), position.entryPrice), int(position.leverage));
  }

  maintenanceMargin(position: SimPosition): Decimal {
    return mul(this.settings.maintenanceMarginRate, mul(abs(position.size), this.mark(position.symbol)));
  }

  totalUnrealizedPnl(): Decimal {
    return this.positions().reduce((sum, p) => add(sum, this.unrealizedPnl(p)), ZERO);
  }

  equity(): Decimal {
    return add(this.balanceValue, this.totalUnrealizedPnl());
  }

  /** Margin held by open orders: the opening part of each at its price (or the mark) over its leverage. */
  orderMargin(): Decimal {
    let sum = ZERO;
    for (const o of this.openOrders()) {
      if (o.reduceOnly) continue;
      const price = o.price ?? this.mark(o.symbol);
      sum = add(sum, divide(mul(sub(o.size, o.filled), price), int(o.leverage)));
    }
    return sum;
  }

  positionMargin(): Decimal {
    return this.positions().reduce((sum, p) => add(sum, this.margin(p)), ZERO);
  }

  /** Free to open new positions: equity − position margin − order margin (may be negative near liquidation). */
  available(): Decimal {
    return sub(sub(this.equity(), this.positionMargin()), this.orderMargin());
  }

  /** The liquidation price of an open position (see the header), or undefined when there is none. */
  liquidationPrice(position: SimPosition): Decimal | undefined {
    const mmr = this.settings.maintenanceMarginRate;
    let collateral: Decimal;
    if (position.marginMode === 'isolated') collateral = this.margin(position);
    else {
      collateral = this.balanceValue;
      for (const other of this.positions()) {
        if (other === position) continue;
        collateral = sub(add(collateral, this.unrealizedPnl(other)), this.maintenanceMargin(other));
      }
    }
    const numerator = sub(mul(position.size, position.entryPrice), collateral);
    const denominator = sub(position.size, mul(mmr, abs(position.size)));
    if (isZero(denominator)) return undefined;
    const price = divide(
      numerator,
      denominator,
      this.markets.get(position.symbol)?.market.spec.tick.scale ?? 8,
    );
    return isPositive(price) ? price : undefined;
  }

  // ---- orders --------------------------------------------------------------------------------------------------

  /**
   * Places an order at the account's current time. A market order, or a limit order that crosses the mark, fills
   * at once as a taker at the mark; a limit order otherwise rests and fills (maker) when trades reach its price.
   * An order whose opening part needs more margin than is available is rejected (`reason` insufficient_margin).
   */
  placeOrder(request: PlaceOrder): SimOrder {
    const state = this.markets.get(request.symbol);
    if (state === undefined) throw new RangeError(`sim account: no market ${request.symbol}`);
    if (!isPositive(request.size)) throw new RangeError('sim account: size must be positive');
    if (request.type === 'limit' && (request.price === undefined || !isPositive(request.price)))
      throw new RangeError('sim account: a limit order needs a positive price');
    const position = this.openPositions.get(request.symbol);
    const order: SimOrder = {
      seq: ++this.orderSeq,
      clientId: request.clientId ?? `sim-${this.orderSeq}`,
      symbol: request.symbol,
      side: request.side,
      type: request.type,
      price: request.type === 'limit' ? request.price : undefined,
      size: request.size,
      reduceOnly: request.reduceOnly ?? false,
      leverage: position?.leverage ?? request.leverage ?? this.settings.defaultLeverage,
      marginMode: position?.marginMode ?? request.marginMode ?? this.settings.defaultMarginMode,
      filled: ZERO,
      filledQuote: ZERO,
      fees: ZERO,
      status: 'open',
      reason: undefined,
      createdAt: this.clock,
      updatedAt: this.clock,
    };
    this.orderList.push(order);
    const delta = request.side === 'buy' ? request.size : negate(request.size);
    const opening = this.openingPart(position, delta);
    if (order.reduceOnly && isPositive(opening)) return this.reject(order, 'reduce_only');
    const price = order.price ?? state.mark;
    const needed = add(
      divide(mul(opening, price), int(order.leverage)),
      mul(mul(opening, price), this.settings.takerFeeRate),
    );
    if (isPositive(opening) && compare(needed, this.available()) > 0)
      return this.reject(order, 'insufficient_margin');
    const crosses =
      order.price === undefined ||
      (order.side === 'buy' ? compare(order.price, state.mark) >= 0 : compare(order.price, state.mark) <= 0);
    this.emit({ kind: 'order', order });
    if (crosses) this.execute(order, state.mark, order.size, 'taker', false);
    return order;
  }

  /** Cancels an open order; false when it is not open. */
  cancelOrder(seq: number): boolean {
    const order = this.orderList.find((o) => o.seq === seq);
    if (order === undefined || (order.status !== 'open' && order.status !== 'partially_filled')) return false;
    order.status = 'canceled';
    order.reason = 'canceled_by_user';
    order.updatedAt = this.clock;
    this.emit({ kind: 'order', order });
    return true;
  }

  /** |part of delta that increases the position| (0 when it only reduces). */
  private openingPart(position: SimPosition | undefined, delta: Decimal): Decimal {
    const size = position?.size ?? ZERO;
    if (sign(size) === 0 || sign(size) === sign(delta)) return abs(delta);
    const excess = sub(abs(delta), abs(size));
    return isPositive(excess) ? excess : ZERO;
  }

  private reject(order: SimOrder, reason: SimOrder['reason']): SimOrder {
    order.status = 'rejected';
    order.reason = reason;
    this.emit({ kind: 'order', order });
    return order;
  }

  // ---- time ----------------------------------------------------------------------------------------------------

  /** Replays the markets' trades up to `nowMs` with funding, PnL points and scheduled actions in between. */
  advanceTo(nowMs: number): void {
    if (nowMs < this.clock) return;
    const trades: { trade: SimTrade; state: MarketState; order: number }[] = [];
    let index = 0;
    for (const state of this.markets.values()) {
      const recent = state.market.recentTrades();
      let lo = 0;
      let hi = recent.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((recent[mid] as SimTrade).a <= state.lastId) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < recent.length; i++) {
        const trade = recent[i] as SimTrade;
        if (trade.T > nowMs) break;
        trades.push({ trade, state, order: index++ });
      }
    }
    trades.sort((a, b) => a.trade.T - b.trade.T || a.order - b.order);
    for (const { trade, state } of trades) {
      this.runScheduled(trade.T - 1);
      this.clock = Math.max(this.clock, trade.T);
      state.lastId = trade.a;
      this.onTrade(state, trade);
    }
    this.runScheduled(nowMs);
    this.clock = nowMs;
  }

  /** Runs every scheduled event at or before `until`, in time order. */
  private runScheduled(until: number): void {
    for (;;) {
      let time = Math.min(this.nextFunding, this.nextPnlPoint);
      let item: SimScheduled | undefined;
      for (const s of this.scheduled) {
        const t = s.next();
        if (t !== undefined && t < time) {
          time = t;
          item = s;
        }
      }
      if (time > until) return;
      this.clock = Math.max(this.clock, time);
      if (item !== undefined) item.run(time);
      else if (time === this.nextFunding) {
        this.nextFunding += this.settings.fundingPeriodMs;
        this.fund(time);
      } else {
        this.nextPnlPoint += HOUR_MS;
        const equity = this.equity();
        this.pnlHistory.push({ time, equity, totalPnl: sub(equity, this.settings.initialBalance) });
        const oldest = time - this.retention.pnlWindowMs;
        let drop = 0;
        while ((this.pnlHistory[drop]?.time ?? Infinity) < oldest) drop++;
        if (drop > 0) this.pnlHistory.splice(0, drop);
      }
    }
  }

  private onTrade(state: MarketState, trade: SimTrade): void {
    const price = units(trade.ticks, state.market.spec.tick);
    state.mark = price;
    let size = units(trade.lots, state.market.spec.step);
    // Resting limit orders the trade reaches fill at their own price, oldest first, up to the trade's size.
    for (const order of this.openOrders()) {
      if (!isPositive(size)) break;
      if (order.symbol !== state.symbol || order.price === undefined) continue;
      const reached =
        order.side === 'buy' ? compare(price, order.price) <= 0 : compare(price, order.price) >= 0;
      if (!reached) continue;
      const remaining = sub(order.size, order.filled);
      const qty = compare(remaining, size) <= 0 ? remaining : size;
      size = sub(size, qty);
      this.execute(order, order.price, qty, 'maker', false);
    }
    this.checkLiquidation(state.symbol, price);
  }

  private checkLiquidation(symbol: string, price: Decimal): void {
    const position = this.openPositions.get(symbol);
    if (position === undefined) return;
    const liq = this.liquidationPrice(position);
    if (liq === undefined) return;
    const hit = sign(position.size) > 0 ? compare(price, liq) <= 0 : compare(price, liq) >= 0;
    if (!hit) return;
    for (const o of this.openOrders()) {
      if (o.symbol !== symbol) continue;
      o.status = 'canceled';
      o.reason = 'liquidation';
      o.updatedAt = this.clock;
      this.emit({ kind: 'order', order: o });
    }
    const order: SimOrder = {
      seq: ++this.orderSeq,
      clientId: `liquidation-${this.orderSeq}`,
      symbol,
      side: sign(position.size) > 0 ? 'sell' : 'buy',
      type: 'market',
      price: undefined,
      size: abs(position.size),
      reduceOnly: true,
      leverage: position.leverage,
      marginMode: position.marginMode,
      filled: ZERO,
      filledQuote: ZERO,
      fees: ZERO,
      status: 'open',
      reason: 'liquidation',
      createdAt: this.clock,
      updatedAt: this.clock,
    };
    this.orderList.push(order);
    this.execute(order, price, order.size, 'taker', true);
  }

  /** Fills `qty` of `order` at `price`, updating the position, balance and order, and emits the events. */
  private execute(
    order: SimOrder,
    price: Decimal,
    qty: Decimal,
    liquidity: 'maker' | 'taker',
    liquidation: boolean,
  ): void {
    const rate = liquidity === 'maker' ? this.settings.makerFeeRate : this.settings.takerFeeRate;
    const notional = mul(price, qty);
    const fee = mul(notional, rate);
    const delta = order.side === 'buy' ? qty : negate(qty);
    const position = this.openPositions.get(order.symbol) ?? this.openPosition(order);
    const size = position.size;
    let realized = ZERO;
    if (sign(size) === 0 || sign(size) === sign(delta)) {
      const total = add(abs(size), qty);
      position.entryPrice = divide(add(mul(abs(size), position.entryPrice), notional), total);
      position.sumOpen = add(position.sumOpen, qty);
      position.size = add(size, delta);
    } else {
      const closing = compare(qty, abs(size)) <= 0 ? qty : abs(size);
      realized = mul(mul(closing, sub(price, position.entryPrice)), int(sign(size)));
      const closedBefore = position.sumClose;
      position.sumClose = add(closedBefore, closing);
      position.exitPrice = divide(
        add(mul(closedBefore, position.exitPrice ?? ZERO), mul(closing, price)),
        position.sumClose,
      );
      position.realizedPnl = add(position.realizedPnl, realized);
      position.size = add(size, delta);
      const opened = sub(qty, closing);
      if (isPositive(opened)) {
        // The order turned the position round: the rest opens the other way at this price.
        position.entryPrice = price;
        position.sumOpen = add(position.sumOpen, opened);
      }
    }
    if (compare(abs(position.size), abs(position.maxSize)) > 0) position.maxSize = position.size;
    position.fees = add(position.fees, fee);
    position.realizedPnl = sub(position.realizedPnl, fee);
    position.updatedAt = this.clock;
    this.balanceValue = sub(add(this.balanceValue, realized), fee);
    this.balanceTime = this.clock;
    order.filled = add(order.filled, qty);
    order.filledQuote = add(order.filledQuote, notional);
    order.fees = add(order.fees, fee);
    order.status = compare(order.filled, order.size) >= 0 ? 'filled' : 'partially_filled';
    order.updatedAt = this.clock;
    const fill: SimFill = {
      seq: ++this.fillSeq,
      order,
      symbol: order.symbol,
      side: order.side,
      price,
      size: qty,
      fee,
      liquidity,
      realizedPnl: realized,
      liquidation,
      time: this.clock,
    };
    this.fills.push(fill);
    if (isZero(position.size)) {
      position.status = liquidation ? 'liquidated' : 'closed';
      position.closedAt = this.clock;
      this.openPositions.delete(position.symbol);
      this.closedPositions.push(position);
    }
    this.emit({ kind: 'order', order });
    this.emit({ kind: 'fill', fill, position });
    if (liquidation) this.emit({ kind: 'liquidation', position, time: this.clock });
  }

  private openPosition(order: SimOrder): SimPosition {
    const position: SimPosition = {
      seq: ++this.positionSeq,
      symbol: order.symbol,
      size: ZERO,
      entryPrice: ZERO,
      leverage: order.leverage,
      marginMode: order.marginMode,
      realizedPnl: ZERO,
      netFunding: ZERO,
      fees: ZERO,
      sumOpen: ZERO,
      sumClose: ZERO,
      exitPrice: undefined,
      maxSize: ZERO,
      status: 'open',
      openedAt: this.clock,
      updatedAt: this.clock,
      closedAt: undefined,
    };
    this.openPositions.set(order.symbol, position);
    return position;
  }

  private fund(time: number): void {
    for (const position of this.positions()) {
      const payment = mul(mul(position.size, this.mark(position.symbol)), this.settings.fundingRate);
      const amount = negate(payment);
      this.balanceValue = add(this.balanceValue, amount);
      this.balanceTime = time;
      position.netFunding = add(position.netFunding, amount);
      position.realizedPnl = add(position.realizedPnl, amount);
      position.updatedAt = time;
      this.emit({ kind: 'funding', position, amount, time });
    }
  }

  /** Tells the listeners first (they may look at the newest fill), then trims the history to its bounds. */
  private emit(event: SimAccountEvent): void {
    for (const l of this.listeners) l(event);
    this.trimHistory();
  }

  /** Drops the oldest finished orders, fills and closed positions beyond the retention (in place, oldest first). */
  private trimHistory(): void {
    const keep = this.retention;
    if (this.fills.length > keep.fills) this.fills.splice(0, this.fills.length - keep.fills);
    if (this.closedPositions.length > keep.closedPositions)
      this.closedPositions.splice(0, this.closedPositions.length - keep.closedPositions);
    if (this.orderList.length <= keep.finishedOrders) return;
    let excess = this.orderList.filter((o) => !isWorking(o)).length - keep.finishedOrders;
    if (excess <= 0) return;
    const kept = this.orderList.filter((o) => isWorking(o) || excess-- <= 0);
    this.orderList.splice(0, this.orderList.length, ...kept);
    this.finishedBefore = 0;
  }
}

/** Open or partially filled: still working, never trimmed. */
function isWorking(order: SimOrder): boolean {
  return order.status === 'open' || order.status === 'partially_filled';
}

function int(n: number): Decimal {
  return { coef: BigInt(n), scale: 0 };
}

/** A decimal as plain text (for logs and tests). */
export function plain(d: Decimal): string {
  return toPlainString(d);
}
