import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * Prometheus metrics of one process (GET /metrics): the process's own (CPU, memory, event-loop lag) and
 * Tickwire's, which are read from the components' own statistics at scrape time, so the hot paths keep plain
 * counters and pay nothing per message.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(labels: { readonly role: string }) {
    this.registry.setDefaultLabels({ role: labels.role });
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * A value read at scrape time. Names end in `_total` for values that only grow (counts since start); every
   * Tickwire metric starts with `tickwire_`.
   */
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

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
