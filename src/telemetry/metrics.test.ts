import assert from 'node:assert/strict';
import { createHistogram } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { countAbove, largestRecordedSince, largestValues, Metrics } from './metrics.ts';

/** Keeps the event loop busy for `ms`: the stall being measured. */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

const stallsIn = (text: string): number =>
  Number(/^tickwire_event_loop_stalls_total\{role="all"\} (\d+)$/m.exec(text)?.[1] ?? NaN);
const maxDelayIn = (text: string): number =>
  Number(/^tickwire_event_loop_delay_seconds\{quantile="max",role="all"\} (\S+)$/m.exec(text)?.[1]);

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

  it('reads a shared source once per scrape', async () => {
    const metrics = new Metrics({ role: 'all' });
    let reads = 0;
    const report = metrics.perScrape(() => ({ reading: ++reads }));
    metrics.gauge('tickwire_test_a', 'A', () => report().reading);
    metrics.gauge('tickwire_test_b', 'B', () => report().reading * 10);
    metrics.labelledGauge('tickwire_test_c', 'C', ['venue'], () => [[{ venue: 'okx' }, report().reading]]);
    let text = await metrics.text();
    assert.equal(reads, 1);
    assert.match(text, /^tickwire_test_a\{role="all"\} 1$/m);
    assert.match(text, /^tickwire_test_b\{role="all"\} 10$/m);
    text = await metrics.text();
    assert.equal(reads, 2, 'a new reading at the next scrape');
    assert.match(text, /^tickwire_test_b\{role="all"\} 20$/m);
    assert.match(text, /^tickwire_test_c\{venue="okx",role="all"\} 2$/m);
    metrics.close();
  });

  it('exports the event-loop delay and counts stalls over 50 ms', async () => {
    const metrics = new Metrics({ role: 'all' });
    let text = await metrics.text();
    assert.match(text, /^# TYPE tickwire_event_loop_stalls_total counter$/m);
    assert.match(text, /^# TYPE tickwire_event_loop_delay_seconds gauge$/m);
    assert.match(text, /^tickwire_event_loop_delay_seconds\{quantile="0.99",role="all"\} /m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds\{role="all"\} /m);
    const before = stallsIn(text);
    // The watch's first check only starts its clock: let it run before stalling the loop.
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Block the loop well past the threshold, then let the watch run.
    blockLoop(200);
    await new Promise((resolve) => setTimeout(resolve, 60));
    text = await metrics.text();
    assert.ok(stallsIn(text) >= before + 1, `stalls ${stallsIn(text)} after ${before}`);
    assert.ok(maxDelayIn(text) >= 0.1, 'the max delay shows the stall');
    metrics.close();
  });

  it('counts the turn the watch starts in, which the native checks do not record', async () => {
    const metrics = new Metrics({ role: 'all' });
    // Still the turn that made the metrics (a process starting up): block the loop well past the threshold.
    blockLoop(200);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const text = await metrics.text();
    // At least this one: a loaded machine may hold the test process back long enough for another.
    assert.ok(stallsIn(text) >= 1, `stalls: ${stallsIn(text)}`);
    const max = maxDelayIn(text);
    assert.ok(max >= 0.18, `the max delay shows the stall: ${max}`);
    // Reported once: the next scrape's max is the loop's since then.
    const next = await metrics.text();
    assert.ok(maxDelayIn(next) < 0.18);
    metrics.close();
  });

  it('counts a stall that comes before the native checks have started their clock', async () => {
    const metrics = new Metrics({ role: 'all' });
    // The turn that made the metrics has ended (its check phase has run), and the native checks' first one, which
    // only starts their clock, is not due yet (10 ms after the start): block the loop now.
    await new Promise((resolve) => setImmediate(resolve));
    blockLoop(200);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const text = await metrics.text();
    // At least this one: a loaded machine may hold the test process back long enough for another.
    assert.ok(stallsIn(text) >= 1, `stalls: ${stallsIn(text)}`);
    const max = maxDelayIn(text);
    // The check is due 10 ms after the start, so up to that much of the stall is before it.
    assert.ok(max >= 0.17, `the max delay shows the stall: ${max}`);
    metrics.close();
  });

  it("shows a stall in the turn that serves a scrape in the next scrape's max", async () => {
    const metrics = new Metrics({ role: 'all' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await metrics.text();
    await new Promise((resolve) => setTimeout(resolve, 30));
    // The scrape is collected at once (its reset runs now), then the same turn keeps the loop.
    const scrape = metrics.text();
    blockLoop(150);
    // Thresholds far from the stall's 140 ms or more, so that a slow machine's own delays do not decide.
    assert.ok(maxDelayIn(await scrape) < 0.13, 'the scrape ran before the stall');
    await new Promise((resolve) => setTimeout(resolve, 60));
    const next = await metrics.text();
    assert.ok(maxDelayIn(next) >= 0.13, `the next scrape's max shows the stall: ${maxDelayIn(next)}`);
    // Reported once.
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.ok(maxDelayIn(await metrics.text()) < 0.13);
    metrics.close();
  });

  it('reads the largest recorded values, and the largest recorded between two reads', () => {
    const histogram = createHistogram();
    assert.deepEqual(largestValues(histogram, 0, 10), []);
    for (const v of [5, 90, 30, 90, 70, 10]) histogram.record(v * 1e6);
    const near = (a: number, b: number): boolean => Math.abs(a - b) <= b * 1e-3;
    const before = largestValues(histogram, 20e6, 10);
    assert.deepEqual(
      before.map((v) => Math.round(v / 1e6)),
      [90, 90, 70, 30],
    );
    assert.equal(largestValues(histogram, 20e6, 2).length, 2, 'at most the limit');
    // Nothing new: nothing found.
    assert.equal(largestRecordedSince(largestValues(histogram, 20e6, 10), before), undefined);
    // A value equal to one already there is found as well as a new largest one.
    histogram.record(70e6);
    histogram.record(40e6);
    const after = largestValues(histogram, 20e6, 10);
    assert.ok(near(largestRecordedSince(after, before) ?? 0, 70e6));
    histogram.record(200e6);
    assert.ok(near(largestRecordedSince(largestValues(histogram, 20e6, 10), after) ?? 0, 200e6));
    // Below the floor is not read.
    const top = largestValues(histogram, 20e6, 10);
    histogram.record(15e6);
    assert.equal(largestRecordedSince(largestValues(histogram, 20e6, 10), top), undefined);
  });

  it('counts the recorded values above a threshold, as a scan of the values would', () => {
    const histogram = createHistogram();
    assert.equal(countAbove(histogram, 60e6), 0, 'nothing recorded');
    // Times between two checks, ns: the period of 10 ms plus delays, a few of them stalls.
    const values: number[] = [];
    let seed = 7;
    for (let i = 0; i < 3000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const delayMs = i % 97 === 0 ? 50 + (seed % 400) : (seed % 1000) / 100;
      values.push(Math.round((10 + delayMs) * 1e6));
    }
    for (const v of values) histogram.record(v);
    for (const thresholdMs of [10, 12, 19.99, 60, 61, 200, 459, 460, 1000]) {
      const threshold = thresholdMs * 1e6;
      const scanned = values.filter((v) => v > threshold).length;
      // The histogram keeps three significant digits: a value within 0.1 % of the threshold may fall either way.
      const near = values.filter((v) => Math.abs(v - threshold) <= threshold * 1e-3).length;
      const counted = countAbove(histogram, threshold);
      assert.ok(
        Math.abs(counted - scanned) <= near,
        `above ${thresholdMs} ms: counted ${counted}, scanned ${scanned} (${near} near)`,
      );
    }
    assert.equal(countAbove(histogram, 5e6), values.length, 'all above');
    assert.equal(countAbove(histogram, 1e12), 0, 'none above');
  });
});
