/**
 * Seeded pseudo-random numbers for the simulator: xoshiro128** seeded through splitmix32. The same seed gives the
 * same sequence on every machine, which is what makes simulator runs and their tests reproducible; Math.random is
 * never used.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the parts joined by '|': derives independent seeds (per venue, per symbol) from one user seed. */
export function hashSeed(...parts: readonly (string | number)[]): number {
  let h = FNV_OFFSET;
  const text = parts.join('|');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Largest magnitude `hashSeedIntegers` digests itself: far from where a double's division could round a digit. */
const SMALL_INTEGER = 2 ** 31;

/** Feeds the decimal text of an integer (magnitude at most SMALL_INTEGER) into an FNV-1a state, digit by digit. */
function fnvInteger(state: number, n: number): number {
  let h = state;
  let rest = n;
  if (rest < 0) {
    h = Math.imul(h ^ 45 /* - */, FNV_PRIME);
    rest = -rest;
  }
  let unit = 1;
  while (unit * 10 <= rest) unit *= 10;
  for (; unit >= 1; unit /= 10) {
    const digit = Math.floor(rest / unit) % 10;
    h = Math.imul(h ^ (48 + digit), FNV_PRIME);
  }
  return h;
}

function isSmallInteger(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) <= SMALL_INTEGER;
}

/**
 * `hashSeed(a, b, c)` of three integers, the same value, without joining them into a string: the dYdX book draws
 * one per level at every rebuild (after each trade), where the joined strings took 7 % of an idle simulator's busy
 * time and fed its garbage collector.
 */

export function hashSeedIntegers(a: number, b: number, c: number): number {
  if (!isSmallInteger(a) || !isSmallInteger(b) || !isSmallInteger(c)) return hashSeed(a, b, c);
  let h = fnvInteger(FNV_OFFSET, a);
  h = fnvInteger(Math.imul(h ^ 124 /* | */, FNV_PRIME), b);
  h = fnvInteger(Math.imul(h ^ 124, FNV_PRIME), c);
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  // Initialised to numbers: a class field declared without one starts as `undefined`, and V8 then boxes every
  // number stored in it (a heap number per draw, millions while the simulator writes its history).
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** The second value of the last Box-Muller pair, valid while `hasSpare` (a number, never `undefined`: above). */
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    // splitmix32 spreads a small integer seed over the 128-bit state so nearby seeds give unrelated streams.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in (0, 1]: safe to take the logarithm of. */
  private positive(): number {
    return (this.nextU32() + 1) / 4294967296;
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.positive()));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(this.positive()) * mean;
  }

  /** Pareto with minimum 1 and tail index `alpha` (smaller alpha, heavier tail). */
  pareto(alpha: number): number {
    return Math.pow(this.positive(), -1 / alpha);
  }

  /** Poisson count with the given mean (normal approximation above 40, where the difference does not matter here). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
