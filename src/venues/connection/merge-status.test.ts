import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectionStatus } from '../venue.ts';
import { mergeStatuses } from './merge-status.ts';

function status(overrides: Partial<ConnectionStatus>): ConnectionStatus {
  return {
    connected: true,
    is_healthy: true,
    ws_url: 'wss://x/ws/v5/public',
    subscriptions: [],
    reconnect_count: 0,
    last_heartbeat: null,
    latency_ms: null,
    messages_received: 0,
    errors: 0,
    mode: 'websocket',
    stale_symbols: [],
    consecutive_failures: 0,
    malformed_frames: 0,
    rejected_subscriptions: 0,
    last_error: null,
    ...overrides,
  };
}

describe('mergeStatuses', () => {
  it('returns a single status as it is', () => {
    const only = status({ errors: 3 });
    assert.equal(mergeStatuses([only]), only);
    assert.throws(() => mergeStatuses([]), RangeError);
  });

  it('is healthy only when every socket is, sums counters, joins lists and keeps the worst and newest', () => {
    const merged = mergeStatuses([
      status({
        subscriptions: ['trades:BTC-USDT'],
        reconnect_count: 1,
        last_heartbeat: '2026-01-05T12:00:01.000Z',
        latency_ms: 12,
        messages_received: 10,
        errors: 1,
        stale_symbols: ['BTC/USDT'],
        consecutive_failures: 2,
        malformed_frames: 1,
      }),
      status({
        is_healthy: false,
        ws_url: 'wss://x/ws/v5/business',
        subscriptions: ['candle1m:BTC-USDT'],
        reconnect_count: 2,
        last_heartbeat: '2026-01-05T12:00:03.000Z',
        latency_ms: 30,
        messages_received: 5,
        errors: 2,
        mode: 'polling',
        stale_symbols: ['BTC/USDT', 'ETH/USDT'],
        consecutive_failures: 1,
        rejected_subscriptions: 1,
        last_error: 'refused',
      }),
    ]);
    assert.deepEqual(merged, {
      connected: true,
      is_healthy: false,
      ws_url: 'wss://x/ws/v5/public wss://x/ws/v5/business',
      subscriptions: ['trades:BTC-USDT', 'candle1m:BTC-USDT'],
      reconnect_count: 3,
      last_heartbeat: '2026-01-05T12:00:03.000Z',
      latency_ms: 30,
      messages_received: 15,
      errors: 3,
      mode: 'polling',
      stale_symbols: ['BTC/USDT', 'ETH/USDT'],
      consecutive_failures: 2,
      malformed_frames: 1,
      rejected_subscriptions: 1,
      last_error: 'refused',
    });
    assert.deepEqual(Object.keys(merged), Object.keys(status({})), 'the served field order');
  });

  it('names a URL shared by several sockets once, and is disconnected when one socket is', () => {
    const merged = mergeStatuses([
      status({ ws_url: 'wss://indexer/v4/ws' }),
      status({ ws_url: 'wss://indexer/v4/ws', connected: false }),
    ]);
    assert.equal(merged.ws_url, 'wss://indexer/v4/ws');
    assert.equal(merged.connected, false);
    assert.equal(merged.last_heartbeat, null);
    assert.equal(merged.latency_ms, null);
  });
});
