/**
 * One simulated instrument on one venue: its trades and its one-minute bars, quoting the base asset's underlying
 * market (underlying.ts) as a real venue does: at the underlying price times its own basis (a few basis points that
 * drift slowly and stay bounded), a little behind it (its lag), on its own tick and lot grid, with its own trade
 * flow. Aggregate trades arrive as a Poisson process whose rate rises with the underlying's volatility and randomly
 * per minute; an arrival starts a burst of quick follow-ups with some probability. Sizes are Pareto-tailed in
 * notional; large taker orders fill against several makers at one price (an aggregate trade with several
 * individual ids). Prices sit on the tick grid (buys at the upper tick, sells at the lower one: bid/ask bounce),
 * sizes on the lot grid.
 *
 * History older than the trade window is generated minute by minute from the underlying's minute (open, extremes,
 * close: a few sampled trades per minute, volumes scaled to the drawn count) to keep start-up fast and memory
 * small; inside the window every aggregate trade exists and the minutes are exactly their aggregation. The market
 * is driven by `advanceTo(time)`, so a test can move an injected clock and get exactly the trades of that span.
 */
import { DAY_MS, MINUTE_MS } from '../../domain/interval.ts';
import { hashSeed, Rng } from '../random.ts';
import { MinuteBars, type MinuteBar } from './bars.ts';
import type { SimSymbolSpec } from './symbol-specs.ts';
import { SimUnderlying, underlyingKey } from './underlying.ts';

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
  /** A minute ended (`bar`, a copy, is final, possibly empty); called once per minute, in order. */
  minuteClosed(market: SimMarket, bar: MinuteBar): void;
}

/** How a venue quotes the underlying: its mean basis and its lag. */
export interface SimQuoting {
  /** Mean of the basis in basis points (a perpetual trades at a small premium, a spot venue near zero). */
  readonly basisBps: number;
  /** The venue prices the underlying as it was this many ms ago (how far it lags price discovery). */
  readonly lagMs: number;
}

/** A venue that leads price discovery at no premium. */
export const NEUTRAL_QUOTING: SimQuoting = { basisBps: 0, lagMs: 0 };

export interface SimMarketOptions {
  readonly spec: SimSymbolSpec;
  /**
   * The base asset's underlying market, shared with the other venues; it must start no later than this market's
   * history. Default: one of the market's own, seeded from `seed` (a market that no other venue quotes).
   */
  readonly underlying?: SimUnderlying;
  /** Seed of the venue's own draws: basis drift, arrivals, sizes, sides. */
  readonly seed: number;
  /** Clock time at creation; history ends here. */
  readonly nowMs: number;
  readonly historyDays: number;
  /** Span before `nowMs` for which every aggregate trade is kept (and served over REST). */
  readonly tradeWindowMs: number;
  /** Mean aggregate trades per second in a calm regime. */
  readonly tradesPerSecond: number;
  /** Default NEUTRAL_QUOTING. */
  readonly quoting?: SimQuoting;
}

/** Open time of the first minute of a market created at `nowMs` with `historyDays` of history. */
export function historyStartOf(nowMs: number, historyDays: number): number {
  const nowMinute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  return nowMinute - Math.max(0, Math.round((historyDays * DAY_MS) / MINUTE_MS)) * MINUTE_MS;
}

/** The basis drifts around its mean with this standard deviation (bps) and half-life, and never leaves the bound. */
export const BASIS_DRIFT_BPS = 1.5;
const BASIS_HALF_LIFE_MINUTES = 45;
/** Bound of a venue's basis in basis points: two venues never quote further apart than twice this (plus a tick). */
export const BASIS_LIMIT_BPS = 5;
const BASIS_PERSISTENCE = Math.exp(-Math.LN2 / BASIS_HALF_LIFE_MINUTES);
const BASIS_STEP_BPS = BASIS_DRIFT_BPS * Math.sqrt(1 - BASIS_PERSISTENCE ** 2);
const BURST_PROBABILITY = 0.12;
const BURST_MEAN_LENGTH = 4;
const BURST_GAP_MS = 120;
const PARETO_ALPHA = 1.3;
const MAX_FILLS = 40;

/** Where a venue's live aggregate and individual trade ids start; history ids end just below. */
const LIVE_AGG_ID = 1_000_000_000;
const LIVE_TRADE_ID = 3_000_000_000;

/**
 * One stream of a venue's own draws (per-minute activity, basis drift, order sides and sizes) and the regime they
 * follow. The live market and its history each have their own, so that history can be generated later, on first
 * use, without changing a single live trade.
 */
class TradeFlow {
  readonly rng: Rng;
  // Every number field starts as a number: one declared without an initialiser starts as `undefined`, and V8 then
  // boxes each number stored in it (a heap number per minute of history).
  /** Basis drift around the mean, bps. */
  drift = 0;
  /** Current basis as a log-price offset. */
  basis = 0;
  variance = 0;
  /** Aggregate trades per ms in the current minute. */
  rate = 0;
  /**
   * The last order drawn (`order`), in fields rather than an object: the history draws up to four orders for each
   * of its 43,000 minutes per market, and an object each was much of the garbage its warm-up made (with the
   * simulator's small old generation, every second scavenge or so starts a full collection).
   */
  ticks = 0;
  lots = 0;
  fills = 0;
  /** true when the buyer was the maker (the taker sold). */
  buyerMaker = false;

  constructor(
    seed: number,
    private readonly market: SimMarket,
    private readonly settings: FlowSettings,
  ) {
    this.rng = new Rng(seed);
    this.drift = BASIS_DRIFT_BPS * this.rng.normal();
    this.variance = market.underlying.calmVariance;
  }

  /**
   * Regime at the open of the minute at `t`: the underlying's variance, the arrival rate that follows it (times
   * the venue's own per-minute activity) and the basis, after one step of its drift (or at `drift` when given).
   */
  openMinute(t: number, drift?: number): void {
    const { underlying } = this.market;
    const { quoting } = this.settings;
    this.variance = underlying.variance(underlying.minuteIndex(t - quoting.lagMs));
    const noise = Math.exp(0.35 * this.rng.normal() - 0.06);
    this.rate = this.settings.baseRate * Math.sqrt(this.variance / underlying.calmVariance) * noise;
    this.drift = drift ?? this.drift * BASIS_PERSISTENCE + BASIS_STEP_BPS * this.rng.normal();
    const bps = Math.max(-BASIS_LIMIT_BPS, Math.min(BASIS_LIMIT_BPS, quoting.basisBps + this.drift));
    this.basis = bps / 10_000;
  }

  /**
   * Draws one taker order at the venue's `logPrice` into `ticks`, `lots`, `fills` and `buyerMaker`: side leans with
   * the move `z` unless given; notional Pareto-tailed.
   */
  order(logPrice: number, z: number, side: boolean | undefined): void {
    const { tickSize, stepSize } = this.settings;
    const buyerMaker = side ?? this.rng.next() < 0.5 - 0.25 * Math.tanh(z);
    const ticks = priceToTicks(logPrice, tickSize, !buyerMaker);
    const median = this.market.spec.medianNotional;
    const notional = Math.min(
      median * 20_000,
      (median / 2 ** (1 / PARETO_ALPHA)) * this.rng.pareto(PARETO_ALPHA),
    );
    const lots = Math.max(1, Math.round(notional / (ticks * tickSize) / stepSize));
    let fills = 1 + Math.floor(Math.log2(1 + notional / (median * 4)));
    while (this.rng.next() < 0.3) fills++;
    this.ticks = ticks;
    this.lots = lots;
    this.fills = Math.min(fills, MAX_FILLS, lots);
    this.buyerMaker = buyerMaker;
  }
}

interface FlowSettings {
  readonly quoting: SimQuoting;
  readonly tickSize: number;
  readonly stepSize: number;
  readonly baseRate: number;
}

function priceToTicks(logPrice: number, tickSize: number, buy: boolean): number {
  const raw = Math.exp(logPrice) / tickSize;
  return Math.max(1, buy ? Math.ceil(raw - 1e-9) : Math.floor(raw + 1e-9));
}

/** Where the generation of a market's history before its trade window stands (SimMarket.generateHistory). */
interface PendingHistory {
  /** Minutes before the trade window. */
  readonly count: number;
  /** The next minute to write. */
  next: number;
  /** The history's own flow of draws and its basis drift per minute, made by the first slice. */
  flow?: TradeFlow;
  drifts?: Float64Array;
  /** Trade ids counted so far, and the close of the last minute written. */
  ids: number;
  prevClose?: number;
}

export class SimMarket {
  readonly spec: SimSymbolSpec;
  readonly underlying: SimUnderlying;
  /** Open time of the first minute held (history included, whether generated yet or not). */
  readonly firstMinute: number;
  /** From `firstMinute` on; the history before the trade window is written only on first use. */
  private readonly bars: MinuteBars;
  private readonly trades: SimTrade[] = [];
  private tradesHead = 0;
  private readonly listeners = new Set<MarketListener>();
  private readonly settings: FlowSettings;
  private readonly seed: number;
  private readonly flow: TradeFlow;
  private readonly windowStart: number;
  private readonly tradeWindowMs: number;
  /** Basis drift at the window's start, where the history's drift (generated backwards in time) ends. */
  private readonly windowDrift: number;
  /** The history before the trade window while it is still being generated (undefined once it is complete). */
  private pendingHistory: PendingHistory | undefined;
  private lastTradeTime: number;
  private lastLogPrice = 0;
  private lastPriceTime = 0;
  private nextArrival = 0;
  private burstLeft = 0;
  private nextAggId = LIVE_AGG_ID;
  private nextTradeId = LIVE_TRADE_ID;
  /** Index of the current, open minute in `bars` (the last one). */
  private current = 0;

  constructor(options: SimMarketOptions) {
    const { spec } = options;
    this.spec = spec;
    const quoting = options.quoting ?? NEUTRAL_QUOTING;
    this.settings = {
      quoting,
      tickSize: Number(spec.tick.coef) / 10 ** spec.tick.scale,
      stepSize: Number(spec.step.coef) / 10 ** spec.step.scale,
      baseRate: Math.max(0, options.tradesPerSecond) / 1000,
    };
    this.seed = options.seed;
    this.tradeWindowMs = options.tradeWindowMs;
    const nowMinute = Math.floor(options.nowMs / MINUTE_MS) * MINUTE_MS;
    const historyStart = historyStartOf(options.nowMs, options.historyDays);
    this.underlying =
      options.underlying ??
      new SimUnderlying({
        key: underlyingKey(spec),
        anchorPrice: spec.anchorPrice,
        dailyVolatility: spec.dailyVolatility,
        seed: options.seed,
        startMs: historyStart - quoting.lagMs,
      });
    if (historyStart - quoting.lagMs < this.underlying.startMs) {
      throw new RangeError(
        `sim market ${spec.symbol}: history starts before its underlying ${this.underlying.key}`,
      );
    }
    this.firstMinute = historyStart;
    this.bars = new MinuteBars(historyStart);
    this.windowStart = Math.max(
      historyStart,
      nowMinute - Math.ceil(options.tradeWindowMs / MINUTE_MS) * MINUTE_MS,
    );
    this.pendingHistory =
      this.windowStart > historyStart
        ? { count: Math.round((this.windowStart - historyStart) / MINUTE_MS), next: 0, ids: 0 }
        : undefined;
    this.flow = new TradeFlow(options.seed, this, this.settings);
    this.windowDrift = this.flow.drift;
    this.lastTradeTime = this.windowStart;
    this.openMinute(this.windowStart, undefined);
    this.lastPriceTime = this.windowStart;
    this.lastLogPrice = this.logPriceAt(this.windowStart);
    this.scheduleArrival(this.windowStart);
    this.advanceTo(options.nowMs);
  }

  /** Whether the history before the trade window is complete (generated, or there is none). */
  get historyComplete(): boolean {
    return this.pendingHistory === undefined;
  }

  /**
   * Generates up to `maxMinutes` more minutes of the history before the trade window, oldest first; true once it
   * is complete. The same minutes come out however it is sliced: one flow of draws runs through them in order. A
   * month of minutes takes some 50 ms, so the simulator's warm-up generates it in slices and keeps answering
   * meanwhile (Simulator.warmHistory).
   */
  generateHistory(maxMinutes: number): boolean {
    const pending = this.pendingHistory;
    if (pending === undefined) return true;
    const end = Math.min(pending.count, pending.next + Math.max(1, maxMinutes));
    this.generateHistoryMinutes(pending, end);
    if (end < pending.count) return false;
    this.pendingHistory = undefined;
    const bars = this.bars;
    bars.shiftIds(0, pending.count, LIVE_TRADE_ID - pending.ids);
    // Minutes of the window that had no trade yet are flat at the previous close, which only now is known.
    const close = bars.close(pending.count - 1);
    for (let i = pending.count; i < bars.length && bars.trades(i) === 0; i++) bars.setFlat(i, close);
    return true;
  }

  /**
   * Every minute from the history start to the current (open) minute, which is last (a live view: it goes on
   * changing as the market advances). The minutes before the trade window are generated on first use (what the
   * simulator's warm-up has not generated yet): a simulator starts in milliseconds, and pays for a month of history
   * per venue and symbol only when a client asks for it.
   */
  get minutes(): MinuteBars {
    if (this.pendingHistory !== undefined) this.generateHistory(Number.POSITIVE_INFINITY);
    return this.bars;
  }

  /** Listens to trades and minute closes; returns the function that stops listening. */
  subscribe(listener: MarketListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The current, still open minute (a copy). */
  get currentMinute(): MinuteBar {
    return this.bars.bar(this.current) as MinuteBar;
  }

  /** Open time of the current, still open minute. */
  get currentMinuteTime(): number {
    return this.bars.time(this.current);
  }

  /** Last traded price in ticks (the current minute's close). */
  get lastTicks(): number {
    return this.bars.close(this.current);
  }

  /** The venue's current basis to the underlying, in basis points. */
  get basisBps(): number {
    return this.flow.basis * 10_000;
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
      const minuteEnd = this.bars.time(this.current) + MINUTE_MS;
      if (this.nextArrival < minuteEnd) {
        if (this.nextArrival > nowMs) break;
        this.emitTrade(this.nextArrival);
        this.scheduleArrival(this.nextArrival);
      } else {
        if (minuteEnd > nowMs) break;
        const closed = this.current;
        this.openMinute(minuteEnd, this.bars.close(closed));
        this.scheduleArrival(minuteEnd);
        if (this.listeners.size > 0) {
          const bar = this.bars.bar(closed) as MinuteBar;
          for (const l of this.listeners) l.minuteClosed(this, bar);
        }
      }
    }
    // Trim on a minute boundary so every minute that still has trades has all of them.
    this.trimTrades(Math.floor((nowMs - this.tradeWindowMs) / MINUTE_MS) * MINUTE_MS);
  }

  /** The venue's log price at `t`: the underlying as of its lag, plus its basis. */
  private logPriceAt(t: number, flow: TradeFlow = this.flow): number {
    return this.underlying.logPriceAt(t - this.settings.quoting.lagMs) + flow.basis;
  }

  /**
   * The minutes before the trade window, each from the underlying's minute: up to four sampled trades (open, the
   * two extremes in the order the move suggests, close) carry the prices, their sizes scaled to the drawn count.
   * A flow of its own draws them; its basis drift is drawn backwards from the window's start (the drift is
   * time-reversible), so the basis runs on without a step into the window. Ids are counted forwards from zero and
   * shifted, once every minute is written, to end just below the window's first ids. Writes minutes
   * [pending.next, end) of `bars` and carries the flow, the ids and the last close in `pending` to the next call.
   */
  private generateHistoryMinutes(pending: PendingHistory, end: number): void {
    const u = this.underlying;
    const lag = this.settings.quoting.lagMs;
    const count = pending.count;
    if (pending.flow === undefined || pending.drifts === undefined) {
      const flow = new TradeFlow(hashSeed(this.seed, 'history'), this, this.settings);
      const drifts = new Float64Array(count);
      let drift = this.windowDrift;
      for (let k = count - 1; k >= 0; k--) {
        drift = drift * BASIS_PERSISTENCE + BASIS_STEP_BPS * flow.rng.normal();
        drifts[k] = drift;
      }
      pending.flow = flow;
      pending.drifts = drifts;
    }
    const { flow, drifts } = pending;
    const bars = this.bars;
    let ids = pending.ids;
    let prevClose = pending.prevClose;
    for (let k = pending.next; k < end; k++) {
      const t = this.firstMinute + k * MINUTE_MS;
      const i = u.minuteIndex(t - lag);
      flow.openMinute(t, drifts[k]);
      bars.setEmpty(k, prevClose ?? priceToTicks(u.open(i) + flow.basis, this.settings.tickSize, true));
      const n = flow.rng.poisson(flow.rate * MINUTE_MS);
      if (n > 0) {
        const o = u.open(i);
        const c = u.close(i);
        const z = (c - o) / Math.sqrt(flow.variance);
        const samples = Math.min(n, 4);
        const scale = n / samples;
        // A rising minute more often visits its low first; the extremes print on their side of the book.
        if (samples >= 2) ids = historySample(bars, k, flow, o, z, undefined, scale, ids);
        if (samples === 4)
          ids = historySample(bars, k, flow, c >= o ? u.low(i) : u.high(i), z, c >= o, scale, ids);
        if (samples >= 3)
          ids = historySample(bars, k, flow, c < o ? u.low(i) : u.high(i), z, c < o, scale, ids);
        ids = historySample(bars, k, flow, c, z, undefined, scale, ids);
      }
      prevClose = bars.close(k);
    }
    pending.next = end;
    pending.ids = ids;
    pending.prevClose = prevClose;
  }

  private openMinute(t: number, price: number | undefined): void {
    this.flow.openMinute(t);
    this.current = this.bars.indexOf(t);
    this.bars.setEmpty(this.current, price ?? priceToTicks(this.logPriceAt(t), this.settings.tickSize, true));
  }

  private scheduleArrival(from: number): void {
    const rng = this.flow.rng;
    if (this.burstLeft > 0) {
      this.burstLeft--;
      this.nextArrival = from + rng.exponential(BURST_GAP_MS);
      return;
    }
    const rate = this.flow.rate;
    this.nextArrival = rate > 0 ? from + rng.exponential(1 / rate) : Number.POSITIVE_INFINITY;
    if (rng.next() < BURST_PROBABILITY) this.burstLeft = 1 + Math.floor(rng.exponential(BURST_MEAN_LENGTH));
  }

  private emitTrade(at: number): void {
    const T = Math.max(this.lastTradeTime, Math.floor(at));
    const logPrice = this.logPriceAt(at);
    // The move since the last trade in standard deviations: takers lean with it.
    const dt = Math.max(1, at - this.lastPriceTime);
    const z = (logPrice - this.lastLogPrice) / Math.sqrt((this.flow.variance * dt) / MINUTE_MS);
    this.lastLogPrice = logPrice;
    this.lastPriceTime = at;
    this.lastTradeTime = T;
    const flow = this.flow;
    flow.order(logPrice, z, undefined);
    const trade: SimTrade = {
      a: this.nextAggId++,
      f: this.nextTradeId,
      l: this.nextTradeId + flow.fills - 1,
      T,
      ticks: flow.ticks,
      lots: flow.lots,
      buyerMaker: flow.buyerMaker,
    };
    this.nextTradeId += flow.fills;
    this.bars.addTrade(this.current, trade.ticks, trade.lots, !trade.buyerMaker, trade.f, trade.l);
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

/**
 * One sampled trade of history minute `index` of `bars` at the underlying's `logPrice` (plus the flow's basis), its
 * size scaled by `scale`; individual ids count on from `ids`, and the next free id is returned.
 */
function historySample(
  bars: MinuteBars,
  index: number,
  flow: TradeFlow,
  logPrice: number,
  z: number,
  side: boolean | undefined,
  scale: number,
  ids: number,
): number {
  flow.order(logPrice + flow.basis, z, side);
  const lots = Math.max(1, Math.round(flow.lots * scale));
  const fills = Math.min(lots, Math.max(1, Math.round(flow.fills * scale)));
  bars.addTrade(index, flow.ticks, lots, !flow.buyerMaker, ids, ids + fills - 1);
  return ids + fills;
}

/** Individual fill sizes of an aggregate trade: `lots` split as evenly as the lot grid allows, larger ones first. */
export function fillLots(trade: SimTrade, index: number): number {
  const count = trade.l - trade.f + 1;
  const base = Math.floor(trade.lots / count);
  return index < trade.lots - base * count ? base + 1 : base;
}
