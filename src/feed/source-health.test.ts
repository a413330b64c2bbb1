import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceHealth } from './source-health.ts';

const T0 = 1_700_000_000_000;

function connected(options = {}): SourceHealth {
  const h = new SourceHealth('binance', options);
  h.onConnection(true, T0);
  return h;
}

test('a source that never connected is unhealthy: disconnected', () => {
  const h = new SourceHealth('okx');
  assert.equal(h.check(T0), 'disconnected');
  assert.equal(h.hasConnected, false);
  assert.deepEqual(h.status(T0), {
    exchange: 'okx',
    connected: false,
    latency: null,
    lastUpdate: null,
    messagesReceived: 0,
    errors: 0,
    healthy: false,
    reason: 'disconnected',
  });
});

test('connected and receiving messages is healthy; a disconnect makes it unhealthy at once', () => {
  const h = connected();
  h.onMessage(T0 + 100);
  assert.equal(h.check(T0 + 200), null);
  h.onConnection(false, T0 + 300);
  assert.equal(h.check(T0 + 300), 'disconnected');
});

test('stale after staleAfterMs without a message, counted from the last message or the (re)connection', () => {
  const h = connected({ staleAfterMs: 10_000 });
  assert.equal(h.check(T0 + 9_999), null, 'a fresh connection gets staleAfterMs to deliver data');
  assert.equal(h.check(T0 + 10_000), 'stale');
  h.onMessage(T0 + 12_000);
  assert.equal(h.check(T0 + 21_999), null);
  assert.equal(h.check(T0 + 22_000), 'stale');
  h.onConnection(false, T0 + 23_000);
  h.onConnection(true, T0 + 24_000);
  assert.equal(h.check(T0 + 24_500), null, 'reconnection restarts the clock');
  assert.equal(h.status(T0 + 24_500).lastUpdate, T0 + 12_000, 'lastUpdate stays the last message');
});

test('a message arriving out of order does not move lastUpdate backwards', () => {
  const h = connected();
  h.onMessage(T0 + 500);
  h.onMessage(T0 + 400);
  assert.equal(h.status(T0 + 600).lastUpdate, T0 + 500);
  assert.equal(h.status(T0 + 600).messagesReceived, 2);
});

test('latency above maxSourceLatencyMs is unhealthy; the larger of ping and data lag counts', () => {
  const h = connected({ maxSourceLatencyMs: 5000 });
  h.onMessage(T0 + 1);
  h.onLatency(5000, 'ping');
  assert.equal(h.check(T0 + 2), null, 'exactly the limit is still healthy');
  h.onLatency(5001, 'lag');
  assert.equal(h.check(T0 + 2), 'high-latency');
  h.onLatency(20, 'lag');
  assert.equal(h.check(T0 + 2), null);
  h.onLatency(7000, 'ping');
  h.onLatency(10, 'lag');
  assert.equal(h.latency(), 7000, 'a fast data path does not hide a slow connection');
  assert.equal(h.check(T0 + 2), 'high-latency');
});

test('latency: negative lag counts as 0, non-finite samples are ignored, reconnect forgets samples', () => {
  const h = connected();
  h.onLatency(-300);
  assert.equal(h.latency(), 0);
  h.onLatency(Number.NaN);
  h.onLatency(Number.POSITIVE_INFINITY, 'ping');
  assert.equal(h.latency(), 0);
  h.onLatency(9000, 'ping');
  h.onConnection(false, T0 + 10);
  h.onConnection(true, T0 + 20);
  assert.equal(h.latency(), null);
  h.onConnection(true, T0 + 30);
  assert.equal(h.status(T0 + 30).connected, true, 'a repeated connected event is harmless');
});

test('error rate: maxErrors within errorWindowMs is unhealthy until the oldest leaves the window', () => {
  const h = connected({ maxErrors: 3, errorWindowMs: 60_000, staleAfterMs: 1_000_000 });
  h.onError(T0 + 1000);
  h.onError(T0 + 2000);
  assert.equal(h.check(T0 + 2000), null, 'two errors are noise');
  h.onError(T0 + 3000);
  assert.equal(h.check(T0 + 3000), 'error-rate');
  assert.equal(h.check(T0 + 60_999), 'error-rate');
  assert.equal(h.check(T0 + 61_000), null, 'the first error left the window');
  h.onError(T0 + 61_500);
  assert.equal(h.check(T0 + 61_500), 'error-rate', 'errors at 2 s, 3 s and 61.5 s: three in 60 s');
  assert.equal(h.status(T0 + 61_500).errors, 4);
});

test('the most severe reason wins: disconnected over stale over latency over errors', () => {
  const h = new SourceHealth('bitget', { maxErrors: 1 });
  h.onConnection(true, T0);
  h.onError(T0);
  assert.equal(h.check(T0), 'error-rate');
  h.onLatency(6000);
  assert.equal(h.check(T0), 'high-latency');
  assert.equal(h.check(T0 + 10_000), 'stale');
  h.onConnection(false, T0 + 10_000);
  assert.equal(h.check(T0 + 10_000), 'disconnected');
});

test('rejects invalid options with a clear error', () => {
  assert.throws(() => new SourceHealth('okx', { maxErrors: 0 }), /maxErrors/);
  assert.throws(() => new SourceHealth('okx', { staleAfterMs: -1 }), /staleAfterMs/);
  assert.throws(() => new SourceHealth('okx', { maxSourceLatencyMs: 1.5 }), /maxSourceLatencyMs/);
  assert.equal(new SourceHealth('okx', { staleAfterMs: undefined }).options.staleAfterMs, 10_000);
});

test('stream adapters: data sets freshness and lag, status drives the connection, errors and rejections count', () => {
  const h = new SourceHealth('okx');
  h.onStatus({ kind: 'connected', at: T0 });
  h.onData(T0 + 1000, T0 + 880);
  assert.equal(h.latency(), 120);
  assert.equal(h.status(T0 + 1000).lastUpdate, T0 + 1000);
  h.onStatus({ kind: 'error', at: T0 + 1100, message: 'malformed frame' });
  h.onStreamEvent({ kind: 'rejected', at: T0 + 1200, message: 'unknown instId' });
  h.onStreamEvent({ kind: 'recycle', at: T0 + 1300, reason: 'notice' });
  assert.equal(h.status(T0 + 1300).errors, 2);
  h.onStatus({ kind: 'disconnected', at: T0 + 1400, reason: 'closed 1006' });
  assert.equal(h.check(T0 + 1400), 'disconnected');
});

test('faultSince: when the current fault became observable', () => {
  const h = connected({ maxErrors: 2, staleAfterMs: 10_000 });
  h.onMessage(T0 + 100);
  assert.equal(h.faultSince(T0 + 200), null, 'healthy');
  h.onLatency(6000, 'ping', T0 + 300);
  h.onLatency(7000, 'ping', T0 + 400);
  assert.equal(h.faultSince(T0 + 500), T0 + 300, 'from the first sample over the limit');
  h.onLatency(10, 'ping', T0 + 600);
  h.onError(T0 + 700);
  h.onError(T0 + 800);
  assert.equal(h.faultSince(T0 + 900), T0 + 800, 'the error that reached the limit');
  assert.equal(h.faultSince(T0 + 100 + 10_000 + 50), T0 + 100 + 10_000, 'stale: the limit passed');
  h.onConnection(false, T0 + 20_000);
  assert.equal(h.faultSince(T0 + 20_500), T0 + 20_000);
});
