/**
 * A small seeded pseudo-random generator (mulberry32) for the fuzzers: the same seed gives the same cases, so a
 * failure found once can be replayed with FUZZ_SEED. Not for anything that needs real randomness.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A random string of `length` characters drawn from `alphabet`. */
  string(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  /** A child generator with its own sequence, derived from this one (for a part that must not shift the others). */
  fork(): Random {
    return new Random(Math.floor(this.next() * 4294967296));
  }
}

/** The seed of a run: FUZZ_SEED when set (decimal), otherwise one picked from the time. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env['FUZZ_SEED'];
  if (text !== undefined && text !== '') {
    if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) {
      throw new Error(`FUZZ_SEED must be an integer from 0 to 4294967295, got ${JSON.stringify(text)}`);
    }
    return Number(text);
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}
