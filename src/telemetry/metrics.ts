import { createHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** An event-loop turn later than this is a stall (issue budget: no stall above 50 ms under load). */
export const EVENT_LOOP_STALL_MS = 50;
/** How often the stall watch checks the loop, ms. */
const STALL_CHECK_MS = 20;

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
   * stall (the loop could run nothing else meanwhile). prom-client's `nodejs_eventloop_lag_*` (perf_hooks
   * `monitorEventLoopDelay`) stay beside it.
   */
  private watchEventLoop(): () => void {
    const stalls = new Counter({
      name: 'tickwire_event_loop_stalls_total',
      help: `Event-loop stalls: turns delayed more than ${EVENT_LOOP_STALL_MS} ms`,
      registers: [this.registry],
    });
    /** Lateness of each check, µs (a histogram records integers from 1). */
    const late = createHistogram();
    new Gauge({
      name: 'tickwire_event_loop_delay_seconds',
      help: 'Event-loop delay since the previous scrape: p50 (quantile 0.5), p99 (0.99) and max',
      labelNames: ['quantile'],
      registers: [this.registry],
      collect() {
        const seconds = (micros: number): number => (late.count === 0 ? 0 : micros / 1e6);
        this.set({ quantile: '0.5' }, seconds(late.percentile(50)));
        this.set({ quantile: '0.99' }, seconds(late.percentile(99)));
        this.set({ quantile: 'max' }, seconds(late.max));
        late.reset();
      },
    });
    let expected = performance.now() + STALL_CHECK_MS;
    const timer = setInterval(() => {
      const now = performance.now();
      const lateMs = Math.max(0, now - expected);
      late.record(Math.max(1, Math.round(lateMs * 1000)));
      if (lateMs > EVENT_LOOP_STALL_MS) stalls.inc();
      expected = now + STALL_CHECK_MS;
    }, STALL_CHECK_MS);
    timer.unref();
    return () => clearInterval(timer);
  }
}
