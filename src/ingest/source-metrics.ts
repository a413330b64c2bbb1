import type { SourceStatusView, SourcesView } from '../protocol/source-status.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/**
 * Per source (venue and symbol), the feed's status as Prometheus metrics, read from `view` at scrape time; `view`
 * gives undefined while no feed runs here (a standby ingest), and the metrics are then empty.
 */
export function registerSourceMetrics(
  metrics: Metrics,
  view: () => SourcesView | undefined,
  now: () => number = Date.now,
): void {
  const current = metrics.perScrape(view);
  const per = (read: (s: SourceStatusView, active: boolean) => number | null) => () => {
    const out: [Record<string, string>, number][] = [];
    for (const instrument of current()?.instruments ?? []) {
      for (const s of instrument.sources) {
        const value = read(s, instrument.activeSource === s.exchange);
        if (value !== null) out.push([{ venue: s.exchange, symbol: instrument.symbol }, value]);
      }
    }
    return out;
  };
  const labels = ['venue', 'symbol'];
  metrics.labelledGauge(
    'tickwire_source_connected',
    '1 while the venue streams the symbol',
    labels,
    per((s) => (s.connected ? 1 : 0)),
  );
  metrics.labelledGauge(
    'tickwire_source_healthy',
    '1 while the source passes the health checks',
    labels,
    per((s) => (s.healthy ? 1 : 0)),
  );
  metrics.labelledGauge(
    'tickwire_source_active',
    '1 for the source the composite stream follows',
    labels,
    per((_, active) => (active ? 1 : 0)),
  );
  metrics.labelledGauge(
    'tickwire_source_latency_seconds',
    'Measured latency of the source, s',
    labels,
    per((s) => (s.latency === null ? null : s.latency / 1000)),
  );
  // The same in ms, as first published: kept for the dashboards and alerts built on it (docs/OPERATIONS.md).
  metrics.labelledGauge(
    'tickwire_source_latency_ms',
    'Measured latency of the source, ms (deprecated: tickwire_source_latency_seconds)',
    labels,
    per((s) => s.latency),
  );
  metrics.labelledGauge(
    'tickwire_source_last_update_age_seconds',
    'Time since the last update of the symbol from the venue, s',
    labels,
    per((s) => (s.lastUpdate === null ? null : Math.max(0, now() - s.lastUpdate) / 1000)),
  );
  metrics.labelledCounter(
    'tickwire_source_messages_total',
    'Messages received from the source',
    labels,
    per((s) => s.messagesReceived),
  );
  metrics.labelledCounter(
    'tickwire_source_errors_total',
    'Errors counted against the source',
    labels,
    per((s) => s.errors),
  );
}
