import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from '../telemetry/metrics.ts';
import { ManualClock } from '../util/clock.ts';
import type { IngestReport } from './ingest-pipeline.ts';
import { registerSourceMetrics } from './source-metrics.ts';
import { registerVenueMetrics } from './venue-metrics.ts';

/** The parts of a venue report the metrics read. */
function report(o: {
  venue: string;
  connected: boolean;
  reconnects: number;
  mode: 'websocket' | 'polling';
  gaps: number;
  checksum: number;
  backfilledTrades: number;
  backfilledBars: number;
}): IngestReport {
  return {
    venue: o.venue,
    connected: o.connected,
    backfills: 1,
    backfilledTrades: o.backfilledTrades,
    backfilledBars: o.backfilledBars,
    instruments: { 'BTC/USDT': { gapsOpened: o.gaps } },
    books: [{ symbol: 'BTC/USDT', resyncs: { gap: 1, checksum: o.checksum } }],
    connection: { reconnect_count: o.reconnects, latency_ms: 25, mode: o.mode },
  } as unknown as IngestReport;
}

describe('venue metrics', () => {
  it('exports per venue and symbol: connection, reconnects, fallback, gaps, checksums, backfills, failovers', async () => {
    const clock = new ManualClock(1_000_000);
    const metrics = new Metrics({ role: 'ingest' });
    const state = { reconnects: 2, mode: 'websocket' as 'websocket' | 'polling', checksum: 1 };
    const venues = (): IngestReport[] => [
      report({ venue: 'okx', connected: true, gaps: 3, backfilledTrades: 40, backfilledBars: 3, ...state }),
    ];
    const { countFailover } = registerVenueMetrics(metrics, { venues, now: clock.now });
    registerSourceMetrics(
      metrics,
      () => ({
        instruments: [
          {
            symbol: 'BTC/USDT',
            activeSource: 'okx',
            primary: 'okx',
            sources: [
              {
                exchange: 'okx',
                connected: true,
                latency: 5,
                lastUpdate: clock.now() - 1500,
                messagesReceived: 10,
                errors: 0,
                healthy: true,
              },
            ],
          },
        ],
      }),
      clock.now,
    );
    countFailover({ symbol: 'BTC/USDT', from: 'okx', to: 'binance', at: 0, fromLastAlive: 0 });
    let text = await metrics.text();
    const expect = (line: string): void => assert.ok(text.split('\n').includes(line), `${line}\n${text}`);
    for (const [name, type] of [
      ['tickwire_venue_connected', 'gauge'],
      ['tickwire_venue_reconnects_total', 'counter'],
      ['tickwire_venue_latency_seconds', 'gauge'],
      ['tickwire_venue_rest_fallback', 'gauge'],
      ['tickwire_venue_rest_fallback_seconds_total', 'counter'],
      ['tickwire_venue_backfills_total', 'counter'],
      ['tickwire_venue_backfilled_trades_total', 'counter'],
      ['tickwire_venue_backfilled_bars_total', 'counter'],
      ['tickwire_venue_sequence_gaps_total', 'counter'],
      ['tickwire_venue_book_gaps_total', 'counter'],
      ['tickwire_venue_checksum_failures_total', 'counter'],
      ['tickwire_failovers_total', 'counter'],
      ['tickwire_source_last_update_age_seconds', 'gauge'],
      ['tickwire_source_messages_total', 'counter'],
      ['tickwire_source_errors_total', 'counter'],
    ]) {
      expect(`# TYPE ${name} ${type}`);
    }
    expect('tickwire_venue_connected{venue="okx",role="ingest"} 1');
    expect('tickwire_venue_reconnects_total{venue="okx",role="ingest"} 2');
    expect('tickwire_venue_latency_seconds{venue="okx",role="ingest"} 0.025');
    expect('tickwire_venue_sequence_gaps_total{venue="okx",symbol="BTC/USDT",role="ingest"} 3');
    expect('tickwire_venue_checksum_failures_total{venue="okx",symbol="BTC/USDT",role="ingest"} 1');
    expect('tickwire_venue_backfilled_trades_total{venue="okx",role="ingest"} 40');
    expect('tickwire_venue_backfilled_bars_total{venue="okx",role="ingest"} 3');
    expect('tickwire_failovers_total{symbol="BTC/USDT",role="ingest"} 1');
    expect('tickwire_source_last_update_age_seconds{venue="okx",symbol="BTC/USDT",role="ingest"} 1.5');

    // On REST polling for 30 s between two scrapes, more reconnects and a checksum failure.
    state.mode = 'polling';
    text = await metrics.text();
    clock.advance(30_000);
    state.reconnects = 5;
    state.checksum = 2;
    text = await metrics.text();
    expect('tickwire_venue_rest_fallback{venue="okx",role="ingest"} 1');
    expect('tickwire_venue_rest_fallback_seconds_total{venue="okx",role="ingest"} 30');
    expect('tickwire_venue_reconnects_total{venue="okx",role="ingest"} 5');
    expect('tickwire_venue_checksum_failures_total{venue="okx",symbol="BTC/USDT",role="ingest"} 2');
    metrics.close();
  });
});
