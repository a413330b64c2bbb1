/**
 * One simulated instrument: a price process, its trades and its one-minute bars.
 *
 * The log price follows a random walk whose variance is updated once a minute GARCH(1,1)-style from the minute's
 * realised return (volatility clusters), with weak mean reversion towards the symbol's anchor price. Aggregate
 * trades arrive as a Poisson process whose rate rises with volatility and randomly per minute; an arrival starts a
 * burst of quick follow-ups with some probability. Sizes are Pareto-tailed in notional; large taker orders fill
 * against several makers at one price (an aggregate trade with several individual ids). Prices sit on the tick grid
 * (buys at the upper tick, sells at the lower one: bid/ask bounce), sizes on the lot grid.
 *
 * History older than the trade window is generated minute by minute (a few sampled trades per minute, scaled to
 * the drawn count) to keep start-up fast and memory small; inside the window every aggregate trade exists and the
 * minutes are exactly their aggregation. The walk is driven by `advanceTo(time)`, so a test can move an injected
 * clock and get exactly the trades of that span.
 */
import { DAY_MS, MINUTE_MS } from '../../domain/interval.ts';
import { Rng } from '../random.ts';
import { addTradeToMinute, emptyMinute, type MinuteBar } from './bars.ts';
import type { SimSymbolSpec } from './symbol-specs.ts';

/** One aggregate trade: a taker order filled at one price against `l - f + 1` makers. */
export interface SimTrade {
  /** Aggregate trade id, strictly increasing. */
  readonly a: number;
  /** First and last individual trade id. */
  readonly f: number;
  readonly l: number;
  /** Trade time, ms UTC. */
  readonly T: number;
  readonly ticks: number;
  readonly lots: number;
  /** true when the buyer was the maker (the taker sold). */
  readonly buyerMaker: boolean;
}

export interface MarketListener {
  trade(market: SimMarket, trade: SimTrade): void;
  /** A minute ended (`bar` is final, possibly empty); called once per minute, in order. */
  minuteClosed(market: SimMarket, bar: MinuteBar): void;
}

export interface SimMarketOptions {
  readonly spec: SimSymbolSpec;
  readonly seed: number;
  /** Clock time at creation; history ends here. */
  readonly nowMs: number;
  readonly historyDays: number;
  /** Span before `nowMs` for which every aggregate trade is kept (and served over REST). */
  readonly tradeWindowMs: number;
  /** Mean aggregate trades per second in a calm regime. */
  readonly tradesPerSecond: number;
}

const GARCH_ALPHA = 0.08;
const GARCH_BETA = 0.9;
/** Mean-reversion speed per minute: a half-life of about ten days. */
const REVERSION_PER_MINUTE = Math.LN2 / (10 * 1440);
const BURST_PROBABILITY = 0.12;
const BURST_MEAN_LENGTH = 4;
const BURST_GAP_MS = 120;
const PARETO_ALPHA = 1.3;
const MAX_FILLS = 40;
const TAIL_PROBABILITY = 0.03;
const TAIL_SCALE = 3;
const TAIL_NORMALISER = Math.sqrt(1 - TAIL_PROBABILITY + TAIL_PROBABILITY * TAIL_SCALE * TAIL_SCALE);
const SAMPLES_PER_HISTORY_MINUTE = 8;

export class SimMarket {
  readonly spec: SimSymbolSpec;
  /** Every minute from the history start to the current (open) minute, which is last. */
  readonly minutes: MinuteBar[] = [];
  private readonly trades: SimTrade[] = [];
  private tradesHead = 0;
  private readonly listeners = new Set<MarketListener>();
  private readonly rng: Rng;
  private readonly tickSize: number;
  private readonly stepSize: number;
  private readonly baseRate: number;
  private readonly tradeWindowMs: number;
  private readonly anchor: number;
  private readonly calmVariance: number;
  private x: number;
  private variance: number;
  private rate = 0;
  private minuteOpenX = 0;
  private lastTradeTime: number;
  private nextArrival = 0;
  private burstLeft = 0;
  private nextAggId = 1_000_000;
  private nextTradeId = 5_000_000;
  private current!: MinuteBar;

  constructor(options: SimMarketOptions) {
    const { spec } = options;
    this.spec = spec;
    this.rng = new Rng(options.seed);
    this.tickSize = Number(spec.tick.coef) / 10 ** spec.tick.scale;
    this.stepSize = Number(spec.step.coef) / 10 ** spec.step.scale;
    this.baseRate = Math.max(0, options.tradesPerSecond) / 1000;
    this.tradeWindowMs = options.tradeWindowMs;
    this.anchor = Math.log(spec.anchorPrice);
    this.calmVariance = spec.dailyVolatility ** 2 / 1440;
    this.x = this.anchor;
    this.variance = this.calmVariance;

    const nowMinute = Math.floor(options.nowMs / MINUTE_MS) * MINUTE_MS;
    const historyStart =
      nowMinute - Math.max(0, Math.round((options.historyDays * DAY_MS) / MINUTE_MS)) * MINUTE_MS;
    const windowStart = Math.max(
      historyStart,
      nowMinute - Math.ceil(options.tradeWindowMs / MINUTE_MS) * MINUTE_MS,
    );
    const startTicks = this.priceToTicks(Math.exp(this.x), true);
    this.lastTradeTime = historyStart;
    for (let t = historyStart; t < windowStart; t += MINUTE_MS) this.historyMinute(t, startTicks);
    this.openMinute(windowStart, this.minutes.at(-1)?.c ?? startTicks);
    this.lastTradeTime = windowStart;
    this.scheduleArrival(windowStart);
    this.advanceTo(options.nowMs);
  }

  /** Listens to trades and minute closes; returns the function that stops listening. */
  subscribe(listener: MarketListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Open time of the first minute held. */
  get firstMinute(): number {
    return this.minutes[0]?.t ?? this.current.t;
  }

  /** The current, still open minute. */
  get currentMinute(): MinuteBar {
    return this.current;
  }

  /** Last traded price in ticks (the current minute's close). */
  get lastTicks(): number {
    return this.current.c;
  }

  /** Aggregate trades held, oldest first (a live view: do not keep it across `advanceTo`). */
  recentTrades(): readonly SimTrade[] {
    if (this.tradesHead > 0) {
      this.trades.splice(0, this.tradesHead);
      this.tradesHead = 0;
    }
    return this.trades;
  }

  /** Generates every trade and minute close up to clock time `nowMs`. Time never goes back. */
  advanceTo(nowMs: number): void {
    for (;;) {
      const minuteEnd = this.current.t + MINUTE_MS;
      if (this.nextArrival < minuteEnd) {
        if (this.nextArrival > nowMs) break;
        this.emitTrade(this.nextArrival);
        this.scheduleArrival(this.nextArrival);
      } else {
        if (minuteEnd > nowMs) break;
        const closed = this.current;
        this.openMinute(minuteEnd, closed.c);
        this.scheduleArrival(minuteEnd);
        for (const l of this.listeners) l.minuteClosed(this, closed);
      }
    }
    // Trim on a minute boundary so every minute that still has trades has all of them.
    this.trimTrades(Math.floor((nowMs - this.tradeWindowMs) / MINUTE_MS) * MINUTE_MS);
  }

  private priceToTicks(price: number, buy: boolean): number {
    const raw = price / this.tickSize;
    return Math.max(1, buy ? Math.ceil(raw - 1e-9) : Math.floor(raw + 1e-9));
  }

  /** A fat-tailed shock with unit variance: mostly normal, sometimes three times larger, then rescaled. */
  private shock(): number {
    const z = this.rng.normal();
    return (this.rng.next() < TAIL_PROBABILITY ? z * TAIL_SCALE : z) / TAIL_NORMALISER;
  }

  /** Minute-level regime: GARCH variance from the last minute's return, and the arrival rate that follows it. */
  private updateRegime(): void {
    const r = this.x - this.minuteOpenX;
    const v =
      this.calmVariance * (1 - GARCH_ALPHA - GARCH_BETA) + GARCH_ALPHA * r * r + GARCH_BETA * this.variance;
    this.variance = Math.min(this.calmVariance * 25, Math.max(this.calmVariance / 10, v));
    const noise = Math.exp(0.35 * this.rng.normal() - 0.06);
    this.rate = this.baseRate * Math.sqrt(this.variance / this.calmVariance) * noise;
    this.minuteOpenX = this.x;
  }

  private step(dtMs: number): number {
    const z = this.shock();
    const minutes = dtMs / MINUTE_MS;
    this.x +=
      Math.sqrt(this.variance * minutes) * z + REVERSION_PER_MINUTE * minutes * (this.anchor - this.x);
    return z;
  }

  /** One taker order: side leans with the price move; notional Pareto-tailed; bigger orders hit more makers. */
  private drawOrder(z: number): { ticks: number; lots: number; fills: number; buyerMaker: boolean } {
    const buyerMaker = this.rng.next() < 0.5 - 0.25 * Math.tanh(z);
    const price = Math.exp(this.x);
    const ticks = this.priceToTicks(price, !buyerMaker);
    const median = this.spec.medianNotional;
    const notional = Math.min(
      median * 20_000,
      (median / 2 ** (1 / PARETO_ALPHA)) * this.rng.pareto(PARETO_ALPHA),
    );
    const lots = Math.max(1, Math.round(notional / (ticks * this.tickSize) / this.stepSize));
    let fills = 1 + Math.floor(Math.log2(1 + notional / (median * 4)));
    while (this.rng.next() < 0.3) fills++;
    fills = Math.min(fills, MAX_FILLS, lots);
    return { ticks, lots, fills, buyerMaker };
  }

  private historyMinute(t: number, startTicks: number): void {
    const bar = emptyMinute(t, this.minutes.at(-1)?.c ?? startTicks);
    this.updateRegime();
    const count = this.rng.poisson(this.rate * MINUTE_MS);
    if (count === 0) {
      this.step(MINUTE_MS);
    } else {
      const samples = Math.min(count, SAMPLES_PER_HISTORY_MINUTE);
      const scale = count / samples;
      let aggLeft = count;
      for (let i = 0; i < samples; i++) {
        const z = this.step(MINUTE_MS / samples);
        const order = this.drawOrder(z);
        const lots = Math.max(1, Math.round(order.lots * scale));
        const fills = Math.min(lots, Math.max(1, Math.round(order.fills * scale)));
        const first = this.nextTradeId;
        this.nextTradeId += fills;
        addTradeToMinute(bar, order.ticks, lots, !order.buyerMaker, first, this.nextTradeId - 1);
        const aggs = i === samples - 1 ? aggLeft : Math.round(scale);
        aggLeft -= aggs;
        this.nextAggId += aggs;
      }
    }
    this.minutes.push(bar);
  }

  private openMinute(t: number, price: number): void {
    this.current = emptyMinute(t, price);
    this.minutes.push(this.current);
    this.updateRegime();
  }

  private scheduleArrival(from: number): void {
    if (this.burstLeft > 0) {
      this.burstLeft--;
      this.nextArrival = from + this.rng.exponential(BURST_GAP_MS);
      return;
    }
    this.nextArrival = this.rate > 0 ? from + this.rng.exponential(1 / this.rate) : Number.POSITIVE_INFINITY;
    if (this.rng.next() < BURST_PROBABILITY)
      this.burstLeft = 1 + Math.floor(this.rng.exponential(BURST_MEAN_LENGTH));
  }

  private emitTrade(at: number): void {
    const T = Math.max(this.lastTradeTime, Math.floor(at));
    const z = this.step(Math.max(1, at - this.lastTradeTime));
    this.lastTradeTime = T;
    const order = this.drawOrder(z);
    const trade: SimTrade = {
      a: this.nextAggId++,
      f: this.nextTradeId,
      l: this.nextTradeId + order.fills - 1,
      T,
      ticks: order.ticks,
      lots: order.lots,
      buyerMaker: order.buyerMaker,
    };
    this.nextTradeId += order.fills;
    addTradeToMinute(this.current, trade.ticks, trade.lots, !trade.buyerMaker, trade.f, trade.l);
    this.trades.push(trade);
    for (const l of this.listeners) l.trade(this, trade);
  }

  private trimTrades(before: number): void {
    const trades = this.trades;
    let head = this.tradesHead;
    while (head < trades.length && (trades[head] as SimTrade).T < before) head++;
    this.tradesHead = head;
    // Compact only now and then, so trimming stays O(1) amortised per trade.
    if (head > 4096 && head * 2 > trades.length) {
      trades.splice(0, head);
      this.tradesHead = 0;
    }
  }
}

/** Individual fill sizes of an aggregate trade: `lots` split as evenly as the lot grid allows, larger ones first. */
export function fillLots(trade: SimTrade, index: number): number {
  const count = trade.l - trade.f + 1;
  const base = Math.floor(trade.lots / count);
  return index < trade.lots - base * count ? base + 1 : base;
}
