import type { VenueId } from '../domain/instrument.ts';
import { integerOption } from '../util/options.ts';
import type { StreamEvent, StreamStatus } from '../venues/venue.ts';

/** Limits that decide whether one source (an instrument on one venue) is fit to be the active feed. */
export interface SourceHealthOptions {
  /** A latency above this (ms) makes the source unhealthy. Default 5,000. */
  readonly maxSourceLatencyMs?: number;
  /** No message for this long (ms) while connected makes the source unhealthy. Default 10,000. */
  readonly staleAfterMs?: number;
  /**
   * Error rate limit: `maxErrors` errors within `errorWindowMs` make the source unhealthy until the oldest of
   * them leaves the window. Defaults 5 errors in 60,000 ms: one malformed frame is noise, a burst is a broken feed.
   */
  readonly maxErrors?: number;
  readonly errorWindowMs?: number;
}

export const DEFAULT_SOURCE_HEALTH: Required<SourceHealthOptions> = {
  maxSourceLatencyMs: 5000,
  staleAfterMs: 10_000,
  maxErrors: 5,
  errorWindowMs: 60_000,
};

/** Why a source is unhealthy, most severe first. */
export type UnhealthyReason = 'disconnected' | 'stale' | 'high-latency' | 'error-rate';

/** Severity of a health verdict: 0 healthy, larger is worse. Used to rank sources when none is healthy. */
export function healthGrade(reason: UnhealthyReason | null): number {
  switch (reason) {
    case null:
      return 0;
    case 'error-rate':
      return 1;
    case 'high-latency':
      return 2;
    case 'stale':
      return 3;
    case 'disconnected':
      return 4;
  }
}

/**
 * One source's state in the shape of `GET /api/websocket/sources`, plus the verdict. Times are ms UTC on the
 * local clock; `latency` is null until a sample arrived on the current connection.
 */
export interface SourceStatus {
  readonly exchange: VenueId;
  readonly connected: boolean;
  readonly latency: number | null;
  readonly lastUpdate: number | null;
  readonly messagesReceived: number;
  readonly errors: number;
  readonly healthy: boolean;
  readonly reason: UnhealthyReason | null;
}

/** Which measurement a latency sample is: the runner's ping round trip, or the lag of data (receivedAt − event time). */
export type LatencyKind = 'ping' | 'lag';

/**
 * Health of one instrument on one venue, fed by the ingest and judged on demand with an injected clock.
 *
 * Healthy iff connected, fresh (a message, or the connection itself, less than `staleAfterMs` old), latency
 * within `maxSourceLatencyMs` and fewer than `maxErrors` errors in the last `errorWindowMs`. Latency is the larger
 * of the last ping round trip and the last data lag, so either a slow connection or a venue publishing late
 * counts; both are forgotten on reconnect, since a new connection deserves a new measurement.
 * Recording is O(1) and allocation-free, so it can sit on the per-message path.
 */
export class SourceHealth {
  readonly venue: VenueId;
  private readonly opts: Required<SourceHealthOptions>;
  private connected = false;
  private everConnected = false;
  private connectedAt: number | null = null;
  private disconnectedAt: number | null = null;
  private latencyOverSince: number | null = null;
  private lastMessageAt: number | null = null;
  private pingMs: number | null = null;
  private lagMs: number | null = null;
  private messages = 0;
  private errorCount = 0;
  /** The times of the last `maxErrors` errors, as a ring. */
  private readonly errorTimes: number[];
  private errorHead = 0;

  constructor(venue: VenueId, options: SourceHealthOptions = {}) {
    this.venue = venue;
    this.opts = { ...DEFAULT_SOURCE_HEALTH, ...stripUndefined(options) };
    for (const [key, value] of Object.entries(this.opts))
      integerOption(`SourceHealth ${venue}`, key, value, key === 'maxErrors' ? 1 : 0);
    this.errorTimes = new Array<number>(this.opts.maxErrors).fill(Number.NEGATIVE_INFINITY);
  }

  get options(): Readonly<Required<SourceHealthOptions>> {
    return this.opts;
  }

  /** Whether the source has been connected at least once (a source still starting up is not a failure yet). */
  get hasConnected(): boolean {
    return this.everConnected;
  }

  /** A data message of this instrument arrived at `at` (local ms). */
  onMessage(at: number): void {
    this.messages++;
    if (this.lastMessageAt === null || at > this.lastMessageAt) this.lastMessageAt = at;
  }

  /** The venue connection opened or closed at `at`. */
  onConnection(connected: boolean, at: number): void {
    if (connected && !this.connected) {
      this.connectedAt = at;
      this.pingMs = null;
      this.lagMs = null;
      this.latencyOverSince = null;
      this.everConnected = true;
    }
    if (!connected && this.connected) this.disconnectedAt = at;
    this.connected = connected;
  }

  /**
   * A data message (trade, candle, ticker or book update of this instrument): freshness, and the data lag when
   * the message carries the venue's event time (undefined: freshness only, the lag sample stays as it was).
   */
  onData(receivedAt: number, eventTime: number | undefined): void {
    this.onMessage(receivedAt);
    if (eventTime !== undefined) this.onLatency(receivedAt - eventTime, 'lag', receivedAt);
  }

  /** The venue stream's connection status (the stream is shared by the venue's symbols; feed each of them). */
  onStatus(status: StreamStatus): void {
    if (status.kind === 'connected') this.onConnection(true, status.at);
    else if (status.kind === 'disconnected') this.onConnection(false, status.at);
    else this.onError(status.at);
  }

  /** A stream event: a refused subscription counts as an error; the rest are judged by their effects. */
  onStreamEvent(event: StreamEvent): void {
    if (event.kind === 'rejected') this.onError(event.at);
  }

  /**
   * A latency sample in ms, measured at `at` when known (for the fault's detection time). Negative lags (venue
   * clock ahead of ours) count as 0; non-finite samples are ignored rather than poisoning the verdict.
   */
  onLatency(ms: number, kind: LatencyKind = 'lag', at?: number): void {
    if (!Number.isFinite(ms)) return;
    const value = ms < 0 ? 0 : ms;
    if (kind === 'ping') this.pingMs = value;
    else this.lagMs = value;
    const latency = this.latency() ?? 0;
    if (latency <= this.opts.maxSourceLatencyMs) this.latencyOverSince = null;
    else if (this.latencyOverSince === null && at !== undefined) this.latencyOverSince = at;
  }

  /** An error on this source (malformed frame, rejected subscription, failed request) at `at`. */
  onError(at: number): void {
    this.errorCount++;
    this.errorTimes[this.errorHead] = at;
    this.errorHead = (this.errorHead + 1) % this.errorTimes.length;
  }

  /** The current latency: max of the last ping and the last data lag; null when neither was measured. */
  latency(): number | null {
    if (this.pingMs === null) return this.lagMs;
    if (this.lagMs === null) return this.pingMs;
    return Math.max(this.pingMs, this.lagMs);
  }

  /** Last time anything showed the source alive: its last message, or its (re)connection. */
  lastAlive(): number | null {
    if (this.lastMessageAt === null) return this.connectedAt;
    if (this.connectedAt === null) return this.lastMessageAt;
    return Math.max(this.lastMessageAt, this.connectedAt);
  }

  /** The most severe reason the source is unhealthy at `now`, or null when it is healthy. */
  check(now: number): UnhealthyReason | null {
    if (!this.connected) return 'disconnected';
    const alive = this.lastAlive();
    if (alive === null || now - alive >= this.opts.staleAfterMs) return 'stale';
    const latency = this.latency();
    if (latency !== null && latency > this.opts.maxSourceLatencyMs) return 'high-latency';
    // The ring holds the last maxErrors error times; the oldest slot is the one written next.
    const oldest = this.errorTimes[this.errorHead] ?? Number.NEGATIVE_INFINITY;
    if (now - oldest < this.opts.errorWindowMs) return 'error-rate';
    return null;
  }

  /**
   * When the current fault became observable: the disconnect, the moment the staleness limit passed, the
   * latency sample over the limit (when its time was given), the error that reached the limit. Null when
   * healthy or unknown. Lets the failover report how long detection plus switch took.
   */
  faultSince(now: number): number | null {
    switch (this.check(now)) {
      case null:
        return null;
      case 'disconnected':
        return this.disconnectedAt;
      case 'stale': {
        const alive = this.lastAlive();
        return alive === null ? null : alive + this.opts.staleAfterMs;
      }
      case 'high-latency':
        return this.latencyOverSince;
      case 'error-rate': {
        const n = this.errorTimes.length;
        return this.errorTimes[(this.errorHead + n - 1) % n] ?? null;
      }
    }
  }

  /** The source's state and verdict at `now`. */
  status(now: number): SourceStatus {
    const reason = this.check(now);
    return {
      exchange: this.venue,
      connected: this.connected,
      latency: this.latency(),
      lastUpdate: this.lastMessageAt,
      messagesReceived: this.messages,
      errors: this.errorCount,
      healthy: reason === null,
      reason,
    };
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
