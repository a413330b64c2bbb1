import type { ConnectionStatus } from '../venue.ts';

/**
 * One status for a stream that runs on several sockets (OKX public + business, dYdX symbol groups): healthy only
 * when every socket is, counters summed, lists joined, the worst latency, failure streak and mode, the newest
 * heartbeat and the first error. Distinct URLs are joined with a space.
 */
export function mergeStatuses(statuses: readonly ConnectionStatus[]): ConnectionStatus {
  const [first] = statuses;
  if (first === undefined) throw new RangeError('mergeStatuses: no status to merge');
  if (statuses.length === 1) return first;
  const sum = (field: (s: ConnectionStatus) => number): number => statuses.reduce((n, s) => n + field(s), 0);
  const beats = statuses.map((s) => s.last_heartbeat).filter((x): x is string => x !== null);
  const latencies = statuses.map((s) => s.latency_ms).filter((x): x is number => x !== null);
  return {
    connected: statuses.every((s) => s.connected),
    is_healthy: statuses.every((s) => s.is_healthy),
    ws_url: [...new Set(statuses.map((s) => s.ws_url))].join(' '),
    subscriptions: statuses.flatMap((s) => s.subscriptions),
    reconnect_count: sum((s) => s.reconnect_count),
    last_heartbeat: beats.sort().at(-1) ?? null,
    latency_ms: latencies.length === 0 ? null : Math.max(...latencies),
    messages_received: sum((s) => s.messages_received),
    errors: sum((s) => s.errors),
    mode: statuses.some((s) => s.mode === 'polling') ? 'polling' : 'websocket',
    stale_symbols: [...new Set(statuses.flatMap((s) => s.stale_symbols))],
    consecutive_failures: Math.max(...statuses.map((s) => s.consecutive_failures)),
    malformed_frames: sum((s) => s.malformed_frames),
    rejected_subscriptions: sum((s) => s.rejected_subscriptions),
    last_error: statuses.find((s) => s.last_error !== null)?.last_error ?? null,
  };
}
