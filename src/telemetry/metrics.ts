import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** An event-loop turn later than this is a stall (issue budget: no stall above 50 ms under load). */
export const EVENT_LOOP_STALL_MS = 50;
/**
 * How often the stall watch checks the loop, ms: prom-client's `monitorEventLoopDelay` period (its default
 * `eventLoopMonitoringPrecision`), so that both watches' timers fall due in the same turn and wake the loop once.
 */
export const STALL_CHECK_MS = 10;
/** Delays above this, ms, are read exactly into the max since the previous scrape (see `watchEventLoop`). */
const MAX_EXACT_ABOVE_MS = 10;
/** How many of the largest recorded delays each scrape reads back (a few percentile reads each). */
const LARGEST_KEPT = 64;

/** The part of a perf_hooks histogram that `countAbove` reads. */
export interface PercentileHistogram {
  readonly count: number;
  percentile(percentile: number): number;
}

/**
 * How many of the values recorded in `histogram` are above `threshold` (in the histogram's unit, to its
 * precision: three significant digits). The value of percentile 100·k/count is the k-th smallest value recorded,
 * so a binary search over k finds how many are at most `threshold`, in about log2(count) reads.
 */
export function countAbove(histogram: PercentileHistogram, threshold: number): number {
  const n = histogram.count;
  if (n === 0) return 0;
  // The largest k (0..n) whose k-th smallest value is at most the threshold.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const k = Math.ceil((lo + hi) / 2);
    if (histogram.percentile((k / n) * 100) <= threshold) lo = k;
    else hi = k - 1;
  }
  return n - lo;
}

/**
 * The values recorded in `histogram` that are above `floor`, largest first, at most `limit` of them (to the
 * histogram's precision). The j-th largest of n values is the value of percentile 100·(n−j+1)/n.
 */
export function largestValues(histogram: PercentileHistogram, floor: number, limit: number): number[] {
  const n = histogram.count;
  const above = Math.min(countAbove(histogram, floor), limit);
  const values: number[] = [];
  for (let j = 1; j <= above; j++) values.push(histogram.percentile(((n - j + 1) / n) * 100));
  return values;
}

/**
 * The largest value that `now` holds and `before` did not, both lists of `largestValues` of one histogram read
 * at two times (a histogram only gains values, so the lists agree down to the first value recorded in between);
 * undefined when none is in the lists.
 */
export function largestRecordedSince(now: readonly number[], before: readonly number[]): number | undefined {
  for (let i = 0; i < now.length; i++) if (now[i] !== before[i]) return now[i];
  return undefined;
}

/**
 * Prometheus metrics of one process (GET /metrics): the process's own (CPU, memory, event-loop delay p50/p99/max
 * from prom-client's `monitorEventLoopDelay`, `nodejs_eventloop_lag_*`), event-loop stalls, and Tickwire's, which
 * are read from the components' own statistics at scrape time, so the hot paths keep plain counters and pay
 * nothing per message.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly stopWatch: () => void;

  constructor(labels: { readonly role: string }) {
    this.registry.setDefaultLabels({ role: labels.role });
    collectDefaultMetrics({ register: this.registry });
    this.stopWatch = this.watchEventLoop();
  }

  /** A value read at scrape time that may go up and down (a level: connections, queue size). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** A value per label set, read at scrape time (e.g. per venue). */
  labelledGauge(
    name: string,
    help: string,
    labelNames: readonly string[],
    read: () => Iterable<[Record<string, string>, number]>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }

  /**
   * A count since start (name ends in `_total`), read at scrape time and exported as a Prometheus counter: it is
   * kept in step with `read()` by adding what it grew since the last scrape. A component whose count starts
   * again from 0 (a new pipeline after a lock takeover) only adds from then on, so the counter never goes back.
   */
  counter(name: string, help: string, read: () => number): void {
    let last = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const now = read();
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  }

  /** A count since start per label set, read at scrape time (see `counter`). */
  labelledCounter(
    name: string,
    help: string,
    labelNames: readonly string[],
    read: () => Iterable<[Record<string, string>, number]>,
  ): void {
    const last = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        for (const [labels, now] of read()) {
          const key = JSON.stringify(labels);
          const before = last.get(key);
          // A label set is exported from its first reading on, at 0 too.
          if (before === undefined) this.inc(labels, Math.max(0, now));
          else if (now > before) this.inc(labels, now - before);
          last.set(key, now);
        }
      },
    });
  }

  /**
   * `read`, called at most once per scrape: metrics that read the same source (every venue's report) share one
   * reading instead of each building it again. A scrape collects every metric in one synchronous pass, so the
   * reading is kept until that pass ends.
   */
  perScrape<T>(read: () => T): () => T {
    let held: { readonly value: T } | undefined;
    return () => {
      if (held === undefined) {
        held = { value: read() };
        queueMicrotask(() => (held = undefined));
      }
      return held.value;
    };
  }

  /** A histogram observed by its owner (e.g. a write's duration); `buckets` in the metric's unit. */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return new Histogram({ name, help, buckets: [...buckets], registers: [this.registry] });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops the event-loop watch (a process that keeps running after its metrics are gone, e.g. tests). */
  close(): void {
    this.stopWatch();
  }

  /**
   * Watches the event loop with a check due every STALL_CHECK_MS: how late each check runs is the loop's delay
   * (exported as p50, p99 and max since the previous scrape), and a check more than EVENT_LOOP_STALL_MS late is a
   * stall (the loop could run nothing else meanwhile). The checks are perf_hooks' native ones
   * (`monitorEventLoopDelay`, which records the time between two checks: the period plus the delay) and run no
   * JavaScript. Two of them, due in the same turns: one kept from the start, whose recorded times give the
   * stalls, and one reset at each scrape for the delay since the previous one. A reset forgets the check under
   * way, so the scrape's own turn would be recorded by neither scrape: a stall in it (the scrape served in a long
   * turn) would never show in the max. The max therefore also takes the largest delay that the kept watch
   * recorded since the previous scrape, read from its largest values (exact above MAX_EXACT_ABOVE_MS). Started in
   * the same turn as prom-client's `nodejs_eventloop_lag_*` watch, at its period, so that all three timers stay
   * due together: one wake-up.
   */
  private watchEventLoop(): () => void {
    const periodNs = STALL_CHECK_MS * 1e6;
    const stallNs = periodNs + EVENT_LOOP_STALL_MS * 1e6;
    const sinceStart = monitorEventLoopDelay({ resolution: STALL_CHECK_MS });
    const sinceScrape = monitorEventLoopDelay({ resolution: STALL_CHECK_MS });
    sinceStart.enable();
    sinceScrape.enable();
    // The native checks record the time between two checks, so their first check (due STALL_CHECK_MS after they
    // are enabled) only starts their clock: until they have recorded a time, checks of our own stand in. The rest
    // of the turn they were enabled in is timed to its end (the loop's check phase): at start-up that turn is long
    // (the system starting: the gateway, the venues' sockets and first requests). Then a timer at the same period
    // times how late each of its checks ran, until the native checks have recorded a time. Their first check may run
    // before or after ours in a timers phase (every JavaScript timer due runs in one native callback), so a stall can
    // fall between them either way: ours go on until theirs have a clock, at worst recording a stall they record too.
    const armedAt = performance.now();
    let firstTurnEnd: number | undefined;
    /** The start-up checks' delays not yet reported, ns, and how many of them were stalls. */
    let firstLateNs = 0;
    let firstStalls = 0;
    const recordFirst = (lateNs: number): void => {
      firstLateNs = Math.max(firstLateNs, lateNs);
      if (lateNs > EVENT_LOOP_STALL_MS * 1e6) firstStalls++;
    };
    const firstTurn = setImmediate(() => {
      firstTurnEnd = performance.now();
      recordFirst((firstTurnEnd - armedAt) * 1e6);
    });
    firstTurn.unref();
    let lastOwnCheck = armedAt;
    const checkUntilNativeRecords = (): void => {
      if (sinceStart.count > 0) return;
      const now = performance.now();
      // Before the first turn has ended (it began in a check phase), its own check covers this time.
      if (firstTurnEnd !== undefined)
        recordFirst((now - Math.max(lastOwnCheck + STALL_CHECK_MS, firstTurnEnd)) * 1e6);
      lastOwnCheck = now;
      ownCheck = setTimeout(checkUntilNativeRecords, STALL_CHECK_MS);
      ownCheck.unref();
    };
    let ownCheck = setTimeout(checkUntilNativeRecords, STALL_CHECK_MS);
    ownCheck.unref();
    const lateSeconds = (betweenNs: number): number =>
      sinceScrape.count === 0 ? 0 : Math.max(0, betweenNs - periodNs) / 1e9;
    const exactAboveNs = periodNs + MAX_EXACT_ABOVE_MS * 1e6;
    const largest = (): number[] => largestValues(sinceStart, exactAboveNs, LARGEST_KEPT);
    let largestAtScrape = largest();
    /** The longest time between two checks since the previous scrape, including the check under way then. */
    const longestSinceScrapeNs = (): number => {
      const now = largest();
      const recorded = largestRecordedSince(now, largestAtScrape) ?? 0;
      largestAtScrape = now;
      return Math.max(recorded, sinceScrape.count === 0 ? 0 : sinceScrape.max);
    };
    new Counter({
      name: 'tickwire_event_loop_stalls_total',
      help: `Event-loop stalls: turns delayed more than ${EVENT_LOOP_STALL_MS} ms`,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(countAbove(sinceStart, stallNs) + firstStalls);
      },
    });
    new Gauge({
      name: 'tickwire_event_loop_delay_seconds',
      help: 'Event-loop delay since the previous scrape: p50 (quantile 0.5), p99 (0.99) and max',
      labelNames: ['quantile'],
      registers: [this.registry],
      collect() {
        this.set({ quantile: '0.5' }, lateSeconds(sinceScrape.percentile(50)));
        this.set({ quantile: '0.99' }, lateSeconds(sinceScrape.percentile(99)));
        const firstLate = firstLateNs / 1e9;
        firstLateNs = 0;
        const longestLate = Math.max(0, longestSinceScrapeNs() - periodNs) / 1e9;
        this.set({ quantile: 'max' }, Math.max(longestLate, firstLate));
        sinceScrape.reset();
      },
    });
    return () => {
      clearImmediate(firstTurn);
      clearTimeout(ownCheck);
      sinceStart.disable();
      sinceScrape.disable();
    };
  }
}
