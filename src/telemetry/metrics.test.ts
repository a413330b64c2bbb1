import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from './metrics.ts';

describe('Metrics', () => {
  it('reads values at scrape time and labels them with the role', async () => {
    const metrics = new Metrics({ role: 'gateway' });
    let pending = 3;
    metrics.gauge('tickwire_store_pending_bars', 'Bars waiting for the database', () => pending);
    metrics.labelledGauge('tickwire_venue_messages_total', 'Messages per venue', ['venue'], () => [
      [{ venue: 'okx' }, 7],
      [{ venue: 'binance' }, 9],
    ]);
    let text = await metrics.text();
    assert.match(text, /^tickwire_store_pending_bars\{role="gateway"\} 3$/m);
    assert.match(text, /^tickwire_venue_messages_total\{venue="okx",role="gateway"\} 7$/m);
    assert.match(text, /^process_cpu_user_seconds_total\{role="gateway"\} /m, 'process metrics too');
    pending = 0;
    text = await metrics.text();
    assert.match(text, /^tickwire_store_pending_bars\{role="gateway"\} 0$/m);
    assert.match(metrics.contentType, /^text\/plain/);
  });

  it('exports counts as counters that follow the count and never go back', async () => {
    const metrics = new Metrics({ role: 'ingest' });
    let sent = 5;
    const perVenue = new Map([['okx', 2]]);
    metrics.counter('tickwire_test_sent_total', 'Sent', () => sent);
    metrics.labelledCounter('tickwire_test_gaps_total', 'Gaps', ['venue'], () =>
      [...perVenue].map(([venue, n]) => [{ venue }, n] as [Record<string, string>, number]),
    );
    let text = await metrics.text();
    assert.match(text, /^# TYPE tickwire_test_sent_total counter$/m);
    assert.match(text, /^# TYPE tickwire_test_gaps_total counter$/m);
    assert.match(text, /^tickwire_test_sent_total\{role="ingest"\} 5$/m);
    assert.match(text, /^tickwire_test_gaps_total\{venue="okx",role="ingest"\} 2$/m);
    sent = 8;
    perVenue.set('okx', 3);
    text = await metrics.text();
    assert.match(text, /^tickwire_test_sent_total\{role="ingest"\} 8$/m);
    assert.match(text, /^tickwire_test_gaps_total\{venue="okx",role="ingest"\} 3$/m);
    // The component restarted (a new pipeline) and counts from 0 again: the counter keeps its total and adds on.
    sent = 2;
    text = await metrics.text();
    assert.match(text, /^tickwire_test_sent_total\{role="ingest"\} 8$/m);
    sent = 4;
    text = await metrics.text();
    assert.match(text, /^tickwire_test_sent_total\{role="ingest"\} 10$/m);
    metrics.close();
  });

  it('exports the event-loop delay and counts stalls over 50 ms', async () => {
    const metrics = new Metrics({ role: 'all' });
    let text = await metrics.text();
    assert.match(text, /^# TYPE tickwire_event_loop_stalls_total counter$/m);
    assert.match(text, /^# TYPE tickwire_event_loop_delay_seconds gauge$/m);
    assert.match(text, /^tickwire_event_loop_delay_seconds\{quantile="0.99",role="all"\} /m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds\{role="all"\} /m);
    const stallsIn = (t: string): number =>
      Number(/^tickwire_event_loop_stalls_total\{role="all"\} (\d+)$/m.exec(t)?.[1] ?? NaN);
    const before = stallsIn(text);
    // Block the loop well past the threshold, then let the watch run.
    const until = performance.now() + 200;
    while (performance.now() < until) {
      // busy on purpose: this is the stall being measured
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
    text = await metrics.text();
    assert.ok(stallsIn(text) >= before + 1, `stalls ${stallsIn(text)} after ${before}`);
    assert.ok(
      Number(/^tickwire_event_loop_delay_seconds\{quantile="max",role="all"\} (\S+)$/m.exec(text)?.[1]) >=
        0.1,
      'the max delay shows the stall',
    );
    metrics.close();
  });
});
