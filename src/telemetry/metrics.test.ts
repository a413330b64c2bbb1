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
});
