/**
 * The one underlying market of a base asset that every simulated venue quotes: BTC/USDT on Binance, OKX and
 * Bitget and BTC/USD on dYdX all follow the same BTC price, each with its own small basis, lag and trade flow
 * (see market.ts). Without it each venue would walk on its own and drift percents apart within a day, which no
 * real set of venues does.
 *
 * The log price moves minute by minute: the variance is updated once a minute GARCH(1,1)-style from the minute's
 * return (volatility clusters), shocks are fat-tailed, and a weak mean reversion keeps the price near the anchor.
 * Each minute is generated once, as four numbers (open, high, low, close: the extremes drawn from the exact
 * distribution of a Brownian bridge's maximum and minimum) plus its variance, so a month of history costs a few
 * milliseconds and a few megabytes however many venues quote it. Inside a minute, where live trades need a price
 * at any millisecond, a Brownian bridge from the minute's open to its close on a one-second grid is drawn on
 * demand from a seed of its own (`hash(seed, key, minute)`), so every venue that asks sees the same path.
 */
import { MINUTE_MS } from '../../domain/interval.ts';
import { hashSeed, Rng } from '../random.ts';
import type { SimSymbolSpec } from './symbol-specs.ts';

const GARCH_ALPHA = 0.08;
const GARCH_BETA = 0.9;
/** Mean-reversion speed per minute: a half-life of about ten days. */
const REVERSION_PER_MINUTE = Math.LN2 / (10 * 1440);
const TAIL_PROBABILITY = 0.03;
const TAIL_SCALE = 3;
const TAIL_NORMALISER = Math.sqrt(1 - TAIL_PROBABILITY + TAIL_PROBABILITY * TAIL_SCALE * TAIL_SCALE);
/** Points of the intra-minute path: one a second. */
const BRIDGE_STEPS = 60;
const BRIDGE_STEP_MS = MINUTE_MS / BRIDGE_STEPS;
/** Intra-minute paths kept: venues ask around the same moment, each a little behind (their lag). */
const BRIDGE_CACHE = 8;

/** Quote currencies treated as the same dollar: BTC/USDT and BTC/USD follow one BTC underlying. */
const DOLLARS = new Set(['USD', 'USDT', 'USDC']);

/** The key of the underlying a symbol follows: its base for dollar quotes ("BTC"), else the pair itself. */
export function underlyingKey(spec: Pick<SimSymbolSpec, 'base' | 'quote' | 'symbol'>): string {
  return DOLLARS.has(spec.quote) ? spec.base : spec.symbol;
}

export interface SimUnderlyingOptions {
  /** Underlying key (see `underlyingKey`). */
  readonly key: string;
  /** Price the walk is anchored to. */
  readonly anchorPrice: number;
  /** Standard deviation of the daily log return in calm regimes. */
  readonly dailyVolatility: number;
  readonly seed: number;
  /** Open time of the first minute (rounded down to a minute). */
  readonly startMs: number;
}

export class SimUnderlying {
  readonly key: string;
  /** Open time of the first minute generated. */
  readonly startMs: number;
  /** Variance of a calm minute's log return. */
  readonly calmVariance: number;
  private readonly seed: number;
  private readonly rng: Rng;
  private readonly anchor: number;
  // Per minute, index = (open time − startMs) / MINUTE_MS: log prices and the variance of the minute's return.
  private readonly opens: number[] = [];
  private readonly highs: number[] = [];
  private readonly lows: number[] = [];
  private readonly closes: number[] = [];
  private readonly variances: number[] = [];
  private readonly bridges = new Map<number, Float64Array>();
  /** The last path asked for: consecutive trades nearly always fall in the same minute. */
  private lastBridgeIndex = -1;
  private lastBridge: Float64Array | undefined;

  constructor(options: SimUnderlyingOptions) {
    this.key = options.key;
    this.startMs = Math.floor(options.startMs / MINUTE_MS) * MINUTE_MS;
    this.seed = options.seed;
    this.rng = new Rng(hashSeed(options.seed, 'underlying', options.key));
    this.anchor = Math.log(options.anchorPrice);
    this.calmVariance = options.dailyVolatility ** 2 / 1440;
  }

  /** Index of the minute holding time `t` (negative before the start). */
  minuteIndex(t: number): number {
    return Math.floor((t - this.startMs) / MINUTE_MS);
  }

  /** Open, high, low and close log price of minute `i`, and the variance of its return. */
  open(i: number): number {
    this.ensure(i);
    return this.opens[i] as number;
  }

  high(i: number): number {
    this.ensure(i);
    return this.highs[i] as number;
  }

  low(i: number): number {
    this.ensure(i);
    return this.lows[i] as number;
  }

  close(i: number): number {
    this.ensure(i);
    return this.closes[i] as number;
  }

  variance(i: number): number {
    this.ensure(Math.max(0, i));
    return this.variances[Math.max(0, i)] as number;
  }

  /** Log price at time `t` (ms UTC): on the minute's bridge, linear between its one-second points. */
  logPriceAt(t: number): number {
    const i = this.minuteIndex(t);
    if (i < 0) return this.open(0);
    let path = this.lastBridge;
    if (i !== this.lastBridgeIndex || path === undefined) {
      path = this.bridge(i);
      this.lastBridgeIndex = i;
      this.lastBridge = path;
    }
    const pos = (t - this.startMs - i * MINUTE_MS) / BRIDGE_STEP_MS;
    const k = Math.min(BRIDGE_STEPS - 1, Math.floor(pos));
    const a = path[k] as number;
    return a + ((path[k + 1] as number) - a) * (pos - k);
  }

  /** Generates every minute up to index `i`. */
  private ensure(i: number): void {
    if (i < 0) throw new RangeError(`underlying ${this.key}: minute ${i} is before its start`);
    while (this.closes.length <= i) this.nextMinute();
  }

  private nextMinute(): void {
    const n = this.closes.length;
    const o = n === 0 ? this.anchor : (this.closes[n - 1] as number);
    let variance = this.calmVariance;
    if (n > 0) {
      const r = (this.closes[n - 1] as number) - (this.opens[n - 1] as number);
      const v =
        this.calmVariance * (1 - GARCH_ALPHA - GARCH_BETA) +
        GARCH_ALPHA * r * r +
        GARCH_BETA * (this.variances[n - 1] as number);
      variance = Math.min(this.calmVariance * 25, Math.max(this.calmVariance / 10, v));
    }
    const rng = this.rng;
    const z = rng.normal();
    const shock = (rng.next() < TAIL_PROBABILITY ? z * TAIL_SCALE : z) / TAIL_NORMALISER;
    const r = Math.sqrt(variance) * shock + REVERSION_PER_MINUTE * (this.anchor - o);
    // Extremes of a Brownian bridge from 0 to r with this variance: (r ± sqrt(r² − 2σ² ln U)) / 2.
    const up = Math.sqrt(r * r - 2 * variance * Math.log(1 - rng.next()));
    const down = Math.sqrt(r * r - 2 * variance * Math.log(1 - rng.next()));
    this.opens.push(o);
    this.closes.push(o + r);
    this.highs.push(o + (r + up) / 2);
    this.lows.push(o + (r - down) / 2);
    this.variances.push(variance);
  }

  /** The one-second path of minute `i`: a Brownian bridge from its open to its close, seeded by the minute. */
  private bridge(i: number): Float64Array {
    const cached = this.bridges.get(i);
    if (cached !== undefined) return cached;
    const o = this.open(i);
    const c = this.close(i);
    const sd = Math.sqrt(this.variance(i) / BRIDGE_STEPS);
    const rng = new Rng(hashSeed(this.seed, 'bridge', this.key, i));
    const path = new Float64Array(BRIDGE_STEPS + 1);
    let w = 0;
    for (let k = 1; k <= BRIDGE_STEPS; k++) {
      w += sd * rng.normal();
      path[k] = w;
    }
    const pull = c - o - w;
    for (let k = 0; k <= BRIDGE_STEPS; k++) path[k] = o + (path[k] as number) + (pull * k) / BRIDGE_STEPS;
    path[BRIDGE_STEPS] = c;
    if (this.bridges.size >= BRIDGE_CACHE) {
      const oldest = Math.min(...this.bridges.keys());
      this.bridges.delete(oldest);
    }
    this.bridges.set(i, path);
    return path;
  }
}

/** The underlyings of one simulator run, one per key, created on first use from the symbol's spec. */
export class SimUnderlyings {
  private readonly byKey = new Map<string, SimUnderlying>();

  constructor(
    private readonly seed: number,
    /** Open time of the first minute any venue holds. */
    private readonly startMs: number,
  ) {}

  of(spec: SimSymbolSpec): SimUnderlying {
    const key = underlyingKey(spec);
    let u = this.byKey.get(key);
    if (u === undefined) {
      u = new SimUnderlying({
        key,
        anchorPrice: spec.anchorPrice,
        dailyVolatility: spec.dailyVolatility,
        seed: this.seed,
        startMs: this.startMs,
      });
      this.byKey.set(key, u);
    }
    return u;
  }
}
