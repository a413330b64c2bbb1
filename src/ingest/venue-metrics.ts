import type { Metrics } from '../telemetry/metrics.ts';
import type { IngestReport } from './ingest-pipeline.ts';
import type { SourceSwitch } from './source-monitor.ts';

type Labelled = [Record<string, string>, number][];

/** What the venue metrics read at scrape time; undefined while no pipeline runs here (a standby ingest). */
export interface VenueReadings {
  /** Each venue's report (`IngestPipeline.aggregatorStats().venues`). */
  readonly venues: () => readonly IngestReport[] | undefined;
  readonly now: () => number;
}

/**
 * Per venue (and per venue and symbol), the ingest's own counts as Prometheus metrics, read at scrape time:
 * connection, reconnects, REST fallback, trade-sequence gaps, book checksum failures and resyncs, backfills.
 * Returns `countFailover`, to be given every active-source switch (`SourceMonitor.onSwitch`).
 */
export function registerVenueMetrics(
  metrics: Metrics,
  read: VenueReadings,
): { countFailover: (change: SourceSwitch) => void } {
  const venues = metrics.perScrape((): readonly IngestReport[] => read.venues() ?? []);
  const perVenue = (value: (v: IngestReport) => number | null) => (): Labelled => {
    const out: Labelled = [];
    for (const v of venues()) {
      const n = value(v);
      if (n !== null) out.push([{ venue: v.venue }, n]);
    }
    return out;
  };
  metrics.labelledGauge(
    'tickwire_venue_connected',
    '1 while the venue stream is connected',
    ['venue'],
    perVenue((v) => (v.connected ? 1 : 0)),
  );
  metrics.labelledCounter(
    'tickwire_venue_reconnects_total',
    'Reconnections of the venue stream',
    ['venue'],
    perVenue((v) => v.connection?.reconnect_count ?? null),
  );
  metrics.labelledGauge(
    'tickwire_venue_latency_seconds',
    'Last ping round trip of the venue stream, s',
    ['venue'],
    perVenue((v) => (v.connection?.latency_ms == null ? null : v.connection.latency_ms / 1000)),
  );
  metrics.labelledGauge(
    'tickwire_venue_rest_fallback',
    '1 while the venue is served by REST polling (its stream failed repeatedly)',
    ['venue'],
    perVenue((v) => (v.connection?.mode === 'polling' ? 1 : 0)),
  );
  // Time on the REST fallback, added up at each scrape from the mode seen at the previous one.
  const pollingSince = new Map<string, number>();
  const fallbackSeconds = new Map<string, number>();
  metrics.labelledCounter(
    'tickwire_venue_rest_fallback_seconds_total',
    'Time the venue spent on REST polling, s (measured between scrapes)',
    ['venue'],
    () => {
      const now = read.now();
      const out: Labelled = [];
      for (const v of venues()) {
        const since = pollingSince.get(v.venue);
        let total = fallbackSeconds.get(v.venue) ?? 0;
        if (since !== undefined) total += (now - since) / 1000;
        fallbackSeconds.set(v.venue, total);
        if (v.connection?.mode === 'polling') pollingSince.set(v.venue, now);
        else pollingSince.delete(v.venue);
        out.push([{ venue: v.venue }, total]);
      }
      return out;
    },
  );
  metrics.labelledCounter(
    'tickwire_venue_backfills_total',
    'Backfills of missed trades over REST',
    ['venue'],
    perVenue((v) => v.backfills),
  );
  metrics.labelledCounter(
    'tickwire_venue_backfilled_trades_total',
    'Trades fetched over REST by backfills and merged into the bars (the bars they revise are re-published)',
    ['venue'],
    perVenue((v) => v.backfilledTrades),
  );
  metrics.labelledCounter(
    'tickwire_venue_backfilled_bars_total',
    '1m bars revised by backfilled trades (each re-published with the longer bars holding it)',
    ['venue'],
    perVenue((v) => v.backfilledBars),
  );
  const perSymbol = (value: (v: IngestReport, symbol: string) => number) => (): Labelled => {
    const out: Labelled = [];
    for (const v of venues()) {
      const symbols = new Set([...Object.keys(v.instruments), ...v.books.map((b) => b.symbol)]);
      for (const symbol of symbols) out.push([{ venue: v.venue, symbol }, value(v, symbol)]);
    }
    return out;
  };
  metrics.labelledCounter(
    'tickwire_venue_sequence_gaps_total',
    'Holes found in the trade sequence (then backfilled)',
    ['venue', 'symbol'],
    perSymbol((v, symbol) => v.instruments[symbol]?.gapsOpened ?? 0),
  );
  const bookResyncs = (v: IngestReport, symbol: string, reasons: readonly string[]): number => {
    const book = v.books.find((b) => b.symbol === symbol);
    if (book === undefined) return 0;
    return Object.entries(book.resyncs).reduce(
      (n, [reason, count]) => n + (reasons.includes(reason) ? count : 0),
      0,
    );
  };
  metrics.labelledCounter(
    'tickwire_venue_book_gaps_total',
    'Order-book sequence gaps (the book was resynced)',
    ['venue', 'symbol'],
    perSymbol((v, symbol) => bookResyncs(v, symbol, ['gap', 'adapter-gap'])),
  );
  metrics.labelledCounter(
    'tickwire_venue_checksum_failures_total',
    'Order-book checksum failures (the book was resynced)',
    ['venue', 'symbol'],
    perSymbol((v, symbol) => bookResyncs(v, symbol, ['checksum'])),
  );
  const failovers = new Map<string, number>();
  metrics.labelledCounter(
    'tickwire_failovers_total',
    'Changes of the active source of a symbol (failover, or back to the primary)',
    ['symbol'],
    () => [...failovers].map(([symbol, n]): [Record<string, string>, number] => [{ symbol }, n]),
  );
  return {
    countFailover: (change) => failovers.set(change.symbol, (failovers.get(change.symbol) ?? 0) + 1),
  };
}
