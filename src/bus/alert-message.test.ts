import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALERT_LOG_LEVEL, ALERT_SEVERITIES, newAlert, severityRank, type Alert } from '../domain/alert.ts';
import { ALERT_CHANNEL, decodeAlert, encodeAlert, publishAlert } from './alert-message.ts';
import { MemoryBus } from './memory-bus.ts';

const failover: Alert = {
  id: '5b0c2a52-5d43-4c4b-9a0e-4e8f1f0b7f11',
  time: 1_729_764_000_123,
  severity: 'warning',
  kind: 'failover',
  symbol: 'BTC/USDT',
  message: 'BTC/USDT: active source binance → okx (stale)',
  details: { from: 'binance', to: 'okx', reason: 'stale', detectMs: 812, primary: false, previous: null },
};

describe('alert messages on the bus', () => {
  it('encodes the fields in a fixed order and leaves absent ones out', () => {
    assert.equal(
      encodeAlert({ ...failover, details: { from: 'binance' } }),
      '{"id":"5b0c2a52-5d43-4c4b-9a0e-4e8f1f0b7f11","time":1729764000123,"severity":"warning",' +
        '"kind":"failover","symbol":"BTC/USDT","message":"BTC/USDT: active source binance → okx (stale)",' +
        '"details":{"from":"binance"}}',
    );
    const bare = encodeAlert({ id: 'a', time: 1, severity: 'critical', kind: 'redis_down', message: 'down' });
    assert.equal(bare, '{"id":"a","time":1,"severity":"critical","kind":"redis_down","message":"down"}');
  });

  it('round-trips every field', () => {
    assert.deepEqual(decodeAlert(encodeAlert(failover)), failover);
    const venueAlert: Alert = {
      id: 'x',
      time: 0,
      severity: 'info',
      kind: 'source_recovered',
      venue: 'okx',
      symbol: 'ETH/USDT',
      message: 'okx ETH/USDT recovered',
    };
    assert.deepEqual(decodeAlert(encodeAlert(venueAlert)), venueAlert);
  });

  it('rejects malformed messages with the reason', () => {
    const good = JSON.parse(encodeAlert(failover)) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      ['nope', /not JSON/],
      [[], /not an object/],
      [{ ...good, id: '' }, /bad id/],
      [{ ...good, id: 'x'.repeat(129) }, /bad id/],
      [{ ...good, time: 1.5 }, /time/],
      [{ ...good, time: -1 }, /time/],
      [{ ...good, time: '1' }, /time/],
      [{ ...good, severity: 'fatal' }, /unknown severity/],
      [{ ...good, kind: 'weather' }, /unknown kind/],
      [{ ...good, venue: 'kraken' }, /unknown venue/],
      [{ ...good, symbol: 'btcusdt' }, /symbol is not canonical/],
      [{ ...good, message: '' }, /bad message text/],
      [{ ...good, message: 'x'.repeat(1001) }, /bad message text/],
      [{ ...good, details: [1] }, /details not an object/],
      [{ ...good, details: { a: { b: 1 } } }, /details\.a is not a JSON scalar/],
      [
        { ...good, details: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
        /too many/,
      ],
      [{ ...good, extra: 1 }, /unknown field extra/],
    ];
    for (const [value, why] of cases) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      assert.throws(
        () => decodeAlert(text),
        (err: Error) => /^malformed alert message: /.test(err.message) && why.test(err.message),
        text,
      );
    }
  });

  it('refuses to encode an alert its decoder would reject', () => {
    assert.throws(() => encodeAlert({ ...failover, time: Number.NaN }), /encodeAlert: time/);
    assert.throws(
      () => encodeAlert({ ...failover, details: { x: Number.POSITIVE_INFINITY } }),
      /encodeAlert: details\.x/,
    );
  });

  it('publishes on the alert channel; newAlert fills id and time', () => {
    const bus = new MemoryBus();
    const got: string[] = [];
    bus.subscribe(ALERT_CHANNEL, (m) => got.push(m));
    const a = newAlert(
      { severity: 'critical', kind: 'failover_failed', symbol: 'BTC/USDT', message: 'no source' },
      () => 42,
    );
    const b = newAlert({ severity: 'info', kind: 'backfill_done', message: 'ok', time: 7 });
    assert.notEqual(a.id, b.id);
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.equal(a.time, 42);
    assert.equal(b.time, 7);
    publishAlert(bus, a);
    assert.equal(got.length, 1);
    assert.deepEqual(decodeAlert(got[0] ?? ''), a);
  });

  it('ranks severities from info to critical and maps them to log levels', () => {
    assert.ok(severityRank('info') < severityRank('warning'));
    assert.ok(severityRank('warning') < severityRank('critical'));
    assert.deepEqual(
      ALERT_SEVERITIES.map((s) => ALERT_LOG_LEVEL[s]),
      ['info', 'warn', 'error'],
    );
  });
});
