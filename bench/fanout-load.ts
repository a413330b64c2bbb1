/**
 * The fan-out benchmark's load, shared by every process of it: the symbols and interval rooms, the publish
 * schedule, and the bar each update carries.
 *
 * Schedule: second n of the run publishes one update to every room. The seven interval rooms of a symbol change
 * together (one trade updates every interval of its symbol, as in the ingest), so they are published together;
 * the symbols are spread evenly over the second (symbol k at k × 1000 / symbols ms), as trades of different
 * instruments arrive at different times. The schedule does not drift: a publisher that falls behind publishes
 * the late seconds as soon as it can, each exactly once.
 *
 * Each bar carries its room's sequence number in `trades` (n, the second of the schedule), so a client can count
 * missed and repeated deliveries, and the publish time in `volume` (ms since the epoch, µs in the decimals), so
 * it can measure publish-to-receive latency.
 */

export const BENCH_SYMBOLS = [
  'BTC/USDT',
  'ETH/USDT',
  'SOL/USDT',
  'XRP/USDT',
  'ADA/USDT',
  'DOGE/USDT',
  'AVAX/USDT',
  'LINK/USDT',
  'DOT/USDT',
  'LTC/USDT',
] as const;

export const BENCH_INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1D', '1W'] as const;

export const PERIOD_MS = 1000;

/** The channel (behind the run's prefix) on which fanout-publisher.ts feeds a baseline server: `{symbol, bar}`. */
export const PLAIN_CHANNEL = 'bench';

/** A Monday, 00:00 UTC: the start of a bar of every interval, 1W included. */
export const BAR_TIME = Date.UTC(2026, 0, 5);

export function symbolCount(): number {
  const n = Number(process.env['BENCH_SYMBOLS'] ?? BENCH_SYMBOLS.length);
  if (!Number.isInteger(n) || n < 1 || n > BENCH_SYMBOLS.length)
    throw new RangeError(`BENCH_SYMBOLS must be 1..${BENCH_SYMBOLS.length}, got ${String(n)}`);
  return n;
}

export function benchSymbols(): string[] {
  return BENCH_SYMBOLS.slice(0, symbolCount());
}

/** Wall-clock time in ms with µs decimals. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The plain values of the bar published in second `n` at `stamp` (what every server turns into its message). */
export interface BenchBar {
  readonly time: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  /** The publish time, ms with µs decimals. */
  readonly volume: string;
  readonly quoteVolume: string;
  readonly takerBuyVolume: string;
  readonly takerBuyQuoteVolume: string;
  /** The room's sequence number: the second of the schedule. */
  readonly trades: number;
}

export function benchBar(n: number, stamp: number): BenchBar {
  const close = (67000 + (n % 1000) / 100).toFixed(2);
  return {
    time: BAR_TIME,
    open: '67000.00',
    high: close,
    low: '66900.00',
    close,
    volume: stamp.toFixed(3),
    quoteVolume: '1234567.89',
    takerBuyVolume: '1',
    takerBuyQuoteVolume: '67000',
    trades: n,
  };
}

export interface PublishSchedule {
  /** When second 0 started (ms since the epoch). */
  readonly t0: number;
  /** The last second whose first symbol has been published (-1 before). */
  current(): number;
  stop(): void;
}

/**
 * Runs `publish(n, symbolIndex)` for every second n and symbol, on the schedule described above, until stopped.
 * The first second starts one period from now.
 */
export function startSchedule(
  symbols: number,
  publish: (n: number, symbolIndex: number) => void,
): PublishSchedule {
  const t0 = Math.ceil(Date.now() / PERIOD_MS) * PERIOD_MS + PERIOD_MS;
  let step = 0; // n × symbols + k
  let current = -1;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const dueAt = (s: number): number =>
    t0 + Math.floor(s / symbols) * PERIOD_MS + ((s % symbols) * PERIOD_MS) / symbols;
  const run = (): void => {
    if (stopped) return;
    const now = Date.now();
    while (dueAt(step) <= now) {
      const n = Math.floor(step / symbols);
      const k = step % symbols;
      publish(n, k);
      if (k === 0) current = n;
      step++;
    }
    timer = setTimeout(run, Math.max(0, dueAt(step) - Date.now()));
  };
  timer = setTimeout(run, Math.max(0, t0 - Date.now()));
  return {
    t0,
    current: () => current,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
