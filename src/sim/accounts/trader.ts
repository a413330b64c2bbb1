/**
 * A seeded simulated trader that gives a demo account some life: now and then (exponential gaps, mean
 * `meanIntervalMs`) it opens a position (market or limit), adds to it, reduces or closes it, cancels limit orders
 * left unfilled for 10 minutes, and sometimes sends an order far too large for its margin, which the account
 * rejects. It acts inside the account's time line (SimScheduled), so the same seed and clock give the same story.
 */
import { add, mul, parseDecimal, sub, type Decimal } from '../../domain/decimal.ts';
import { Rng } from '../random.ts';
import type { SimAccount, SimScheduled, SimSide } from './engine.ts';
import { abs, divide, floorTo, isPositive, roundTo, sign } from './numbers.ts';

export interface SimTraderOptions {
  readonly seed: number;
  /** Mean time between two actions; default 45 s. */
  readonly meanIntervalMs?: number;
}

const STALE_ORDER_MS = 10 * 60_000;
/** Share of actions that try an order larger than the margin allows. */
const REJECTED_SHARE = 0.06;

export class SimTrader implements SimScheduled {
  private readonly rng: Rng;
  private readonly meanMs: number;
  private at: number;

  constructor(
    private readonly account: SimAccount,
    options: SimTraderOptions,
  ) {
    this.rng = new Rng(options.seed);
    this.meanMs = options.meanIntervalMs ?? 45_000;
    // The first action comes soon after start, so a fresh demo shows a position within seconds.
    this.at = account.now + 2_000 + Math.round(this.rng.exponential(Math.min(this.meanMs, 10_000)));
  }

  next(): number {
    return this.at;
  }

  run(time: number): void {
    this.at = time + 1_000 + Math.round(this.rng.exponential(this.meanMs));
    const account = this.account;
    for (const order of account.openOrders()) {
      if (time - order.createdAt >= STALE_ORDER_MS) account.cancelOrder(order.seq);
    }
    const symbols = account.symbols;
    const symbol = symbols[this.rng.int(symbols.length)];
    if (symbol === undefined) return;
    const market = account.marketOf(symbol);
    if (market === undefined) return;
    const mark = account.mark(symbol);
    const { tick, step } = market.spec;
    const position = account.position(symbol);
    const roll = this.rng.next();
    if (roll < REJECTED_SHARE) {
      // Twenty times what the margin allows: the account rejects it (insufficient margin).
      const size = this.sizeFor(mark, step, 20);
      if (isPositive(size)) account.placeOrder({ symbol, side: this.side(), type: 'market', size });
      return;
    }
    const r = this.rng.next();
    if (position === undefined) {
      const side = this.side();
      const size = this.sizeFor(mark, step, 0.05 + 0.2 * this.rng.next());
      if (!isPositive(size)) return;
      if (r < 0.5) account.placeOrder({ symbol, side, type: 'market', size });
      else account.placeOrder({ symbol, side, type: 'limit', size, price: this.passive(side, mark, tick) });
      return;
    }
    const long = sign(position.size) > 0;
    const close: SimSide = long ? 'sell' : 'buy';
    if (r < 0.35) {
      const side: SimSide = long ? 'buy' : 'sell';
      const size = this.sizeFor(mark, step, 0.05 + 0.1 * this.rng.next());
      if (isPositive(size))
        account.placeOrder({ symbol, side, type: 'limit', size, price: this.passive(side, mark, tick) });
    } else if (r < 0.65) {
      const half = floorTo(divide(abs(position.size), parseDecimal('2')), step);
      if (isPositive(half))
        account.placeOrder({ symbol, side: close, type: 'market', size: half, reduceOnly: true });
    } else if (r < 0.85) {
      account.placeOrder({ symbol, side: close, type: 'market', size: abs(position.size), reduceOnly: true });
    }
    // Otherwise it waits.
  }

  private side(): SimSide {
    return this.rng.next() < 0.5 ? 'buy' : 'sell';
  }

  /** A size worth `share` of the account's buying power (available × leverage), on the lot grid. */
  private sizeFor(mark: Decimal, step: Decimal, share: number): Decimal {
    const account = this.account;
    const power = mul(account.available(), {
      coef: BigInt(account.settings.defaultLeverage),
      scale: 0,
    });
    if (!isPositive(power) || !isPositive(mark)) return { coef: 0n, scale: 0 };
    const notional = mul(power, parseDecimal(share.toFixed(4)));
    return floorTo(divide(notional, mark), step);
  }

  /** A limit price a few basis points on the passive side of the mark, on the tick grid. */
  private passive(side: SimSide, mark: Decimal, tick: Decimal): Decimal {
    const bps = parseDecimal((1 + 4 * this.rng.next()).toFixed(2));
    const offset = divide(mul(mark, bps), parseDecimal('10000'));
    return roundTo(side === 'buy' ? sub(mark, offset) : add(mark, offset), tick);
  }
}
