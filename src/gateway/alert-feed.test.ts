import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert } from '../domain/alert.ts';
import { AlertFeed, alertMatches } from './alert-feed.ts';

class Sink {
  readonly sent: unknown[] = [];
  readonly raw: (Buffer | string)[] = [];
  send(payload: Buffer | string): void {
    this.raw.push(payload);
    this.sent.push(JSON.parse(payload.toString()));
  }
}

let n = 0;
function alert(fields: Partial<Alert> = {}): Alert {
  n++;
  return {
    id: `a${n}`,
    time: 1000 + n,
    severity: 'warning',
    kind: 'source_stale',
    message: `m${n}`,
    ...fields,
  };
}

describe('alertMatches', () => {
  it('applies the minimum severity', () => {
    assert.equal(alertMatches(alert({ severity: 'info' }), { minSeverity: 'warning' }), false);
    assert.equal(alertMatches(alert({ severity: 'warning' }), { minSeverity: 'warning' }), true);
    assert.equal(alertMatches(alert({ severity: 'critical' }), { minSeverity: 'warning' }), true);
    assert.equal(alertMatches(alert({ severity: 'warning' }), { minSeverity: 'critical' }), false);
  });

  it('keeps alerts about the filtered venue or symbol and those that name none', () => {
    const f = { minSeverity: 'info', venue: 'okx', symbol: 'BTC/USDT' } as const;
    assert.equal(alertMatches(alert({ venue: 'okx', symbol: 'BTC/USDT' }), f), true);
    assert.equal(alertMatches(alert({ venue: 'binance', symbol: 'BTC/USDT' }), f), false);
    assert.equal(alertMatches(alert({ venue: 'okx', symbol: 'ETH/USDT' }), f), false);
    assert.equal(alertMatches(alert({ symbol: 'BTC/USDT' }), f), true);
    assert.equal(alertMatches(alert({ kind: 'redis_down' }), f), true);
  });
});

describe('AlertFeed', () => {
  it('answers a subscribe with subscribed then the kept alerts that pass, oldest first', () => {
    const feed = new AlertFeed({ recent: 3 });
    const kept = [alert({ severity: 'info' }), alert(), alert({ severity: 'critical' }), alert()];
    for (const a of kept) feed.onAlert(a, 0);
    assert.deepEqual(
      feed.recent().map((a) => a.id),
      kept.slice(1).map((a) => a.id),
      'only the last 3 are kept',
    );
    const sink = new Sink();
    feed.join(sink, { minSeverity: 'warning' });
    assert.deepEqual(sink.sent, [
      { type: 'subscribed', channel: 'alerts', minSeverity: 'warning' },
      { type: 'alerts', alerts: kept.slice(1) },
    ]);
  });

  it('sends every later alert at once to the subscribers it passes, the same bytes to each', () => {
    const feed = new AlertFeed();
    const all = new Sink();
    const critical = new Sink();
    const okx = new Sink();
    feed.join(all, { minSeverity: 'info' });
    feed.join(critical, { minSeverity: 'critical' });
    feed.join(okx, { minSeverity: 'info', venue: 'okx' });
    const a = alert({ venue: 'binance' });
    const b = alert({ severity: 'critical', kind: 'failover_failed', symbol: 'BTC/USDT' });
    const c = alert({ venue: 'okx', kind: 'source_disconnected' });
    for (const x of [a, b, c]) feed.onAlert(x, 5);
    const live = (s: Sink): unknown[] => s.sent.slice(2);
    assert.deepEqual(
      live(all),
      [a, b, c].map((x) => ({ type: 'alert', ...x })),
    );
    assert.deepEqual(live(critical), [{ type: 'alert', ...b }]);
    assert.deepEqual(
      live(okx),
      [b, c].map((x) => ({ type: 'alert', ...x })),
    );
    assert.equal(all.raw[3], critical.raw[2], 'serialized once');
    assert.deepEqual(feed.counters, { alertsReceived: 3, alertsSent: 6, duplicateAlerts: 0 });
    assert.equal(feed.lastBroadcast, 5);
  });

  it('ignores a repeated delivery of an alert id it keeps', () => {
    const feed = new AlertFeed();
    const sink = new Sink();
    feed.join(sink, { minSeverity: 'info' });
    const a = alert();
    feed.onAlert(a, 0);
    feed.onAlert({ ...a }, 0);
    assert.equal(sink.sent.length, 3);
    assert.equal(feed.counters.duplicateAlerts, 1);
    assert.equal(feed.recent().length, 1);
  });

  it('replaces the filter on a repeated subscribe and stops after leave', () => {
    const feed = new AlertFeed();
    const sink = new Sink();
    feed.join(sink, { minSeverity: 'info' });
    feed.join(sink, { minSeverity: 'critical' });
    assert.equal(feed.size, 1);
    feed.onAlert(alert({ severity: 'warning' }), 0);
    assert.equal(sink.sent.length, 4, 'two subscribed + two alerts snapshots, no warning');
    assert.equal(feed.leave(sink), true);
    assert.equal(feed.leave(sink), false);
    feed.onAlert(alert({ severity: 'critical' }), 0);
    assert.equal(sink.sent.length, 4);
    assert.equal(feed.recent().length, 2, 'alerts are kept without subscribers');
  });

  it('keeps nothing with recent 0 and refuses a bad limit', () => {
    const feed = new AlertFeed({ recent: 0 });
    feed.onAlert(alert(), 0);
    assert.deepEqual(feed.recent(), []);
    assert.throws(() => new AlertFeed({ recent: -1 }), RangeError);
    assert.throws(() => new AlertFeed({ recent: 1.5 }), RangeError);
    assert.throws(() => new AlertFeed({ recent: 10_001 }), /from 0 to 10000/);
  });
});
