import type { Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { AlertInput, AlertKind } from '../domain/alert.ts';
import type { VenueId } from '../domain/instrument.ts';
import { FailoverController, type FailoverEvent } from '../feed/failover.ts';
import { SourceHealth } from '../feed/source-health.ts';
import type { SourcesView } from '../protocol/source-status.ts';
import type { Logger } from '../telemetry/logger.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import type { ConnectionStatus, StreamEvent, StreamStatus } from '../venues/venue.ts';
import { raiseAlert } from './raise-alert.ts';

/** A change of a symbol's active source, with when the old source was last alive. */
export interface SourceSwitch {
  readonly symbol: string;
  readonly from: VenueId;
  readonly to: VenueId;
  readonly at: number;
  /** The last message of the old source (or `at` when unknown): data after it may be missing there. */
  readonly fromLastAlive: number;
}

/** What a venue's ingest reports to the monitor. */
export interface IngestObserver {
  /** Any data message of `symbol` (trade, ticker, book, candle): freshness and lag. */
  /** `eventTime` undefined: the message has no venue event time (a kline), so it proves freshness only. */
  data(symbol: string, receivedAt: number, eventTime: number | undefined): void;
  status(status: StreamStatus): void;
  event(event: StreamEvent): void;
}

export interface SourceMonitorOptions {
  /** Health limits, primary, hold-down and how often every symbol is evaluated. */
  readonly failover: Config['failover'];
  readonly bus: Bus;
  readonly logger: Logger;
  /** The venues that list each symbol, in configured order. */
  readonly venuesBySymbol: ReadonlyMap<string, readonly VenueId[]>;
  /** The current connection status of a venue (ping latency, malformed frames), read at each evaluation. */
  readonly connectionOf: (venue: VenueId) => ConnectionStatus | null;
  /** Time of health verdicts and alerts, and the evaluation timer. Default the system clock. */
  readonly clock?: Clock;
}

/**
 * Watches every (symbol, venue) source: health from the ingests' data and connection events, one failover
 * controller per symbol evaluated on a short timer and at once on every connection change, alerts for every
 * transition (logged and published on the bus), and the view behind `/api/websocket/*`.
 */
export class SourceMonitor {
  private readonly health = new Map<string, SourceHealth>();
  private readonly controllers = new Map<string, FailoverController>();
  private readonly activeSince = new Map<string, number>();
  private readonly malformedSeen = new Map<VenueId, number>();
  /** Venues whose whole history has loaded, for every instrument. */
  private readonly historyLoadedVenues = new Set<VenueId>();
  /** Sources (`symbol|venue`) whose whole history has loaded before their venue's other instruments. */
  private readonly historyLoadedSources = new Set<string>();
  private startedAt: number | null = null;
  private timer: Timer | undefined;
  /** Set on close: the connections going down at shutdown are not outages to alert on. */
  private closed = false;
  private readonly switchListeners = new Set<(s: SourceSwitch) => void>();
  private readonly clock: Clock;

  constructor(private readonly options: SourceMonitorOptions) {
    this.clock = options.clock ?? systemClock;
    const f = options.failover;
    for (const [symbol, venues] of options.venuesBySymbol) {
      if (venues.length === 0) continue;
      const sources = venues.map((venue) => {
        const h = new SourceHealth(venue, {
          maxSourceLatencyMs: f.maxSourceLatencyMs,
          staleAfterMs: f.staleAfterMs,
          maxErrors: f.maxErrors,
          errorWindowMs: f.errorWindowMs,
        });
        this.health.set(key(symbol, venue), h);
        return h;
      });
      // The configured primary where it lists the symbol, else the first venue that does (dYdX's USD pairs).
      const primary = venues.includes(f.primary) ? f.primary : (venues[0] as VenueId);
      const controller = new FailoverController({
        instrument: symbol,
        sources,
        primary,
        enabled: f.enabled,
        holdDownMs: f.holdDownMs,
        startupGraceMs: f.startupGraceMs,
        onListenerError: (err) => options.logger.error({ err }, 'failover listener failed'),
      });
      controller.on((e) => this.onFailoverEvent(e));
      this.controllers.set(symbol, controller);
      this.activeSince.set(symbol, this.clock.now());
    }
  }

  /** The callbacks one venue's ingest calls. */
  observer(venue: VenueId): IngestObserver {
    return {
      data: (symbol, receivedAt, eventTime) =>
        this.health.get(key(symbol, venue))?.onData(receivedAt, eventTime),
      status: (status) => {
        for (const [k, h] of this.health) if (k.endsWith(`|${venue}`)) h.onStatus(status);
        this.evaluate();
      },
      event: (event) => {
        for (const [k, h] of this.health) if (k.endsWith(`|${venue}`)) h.onStreamEvent(event);
        if (event.kind === 'stale' || event.kind === 'mode') this.evaluate();
      },
    };
  }

  start(): void {
    this.startedAt ??= this.clock.now();
    this.evaluate();
    this.timer = this.clock.setInterval(() => this.evaluate(), this.options.failover.evaluateEveryMs);
  }

  /** Feeds the connections' ping latency and new malformed frames, then re-evaluates every symbol. */
  evaluate(): void {
    if (this.closed) return;
    const now = this.clock.now();
    const venues = new Set<VenueId>();
    for (const vs of this.options.venuesBySymbol.values()) for (const v of vs) venues.add(v);
    for (const venue of venues) {
      const status = this.options.connectionOf(venue);
      if (!status) continue;
      const malformed = status.malformed_frames - (this.malformedSeen.get(venue) ?? 0);
      this.malformedSeen.set(venue, status.malformed_frames);
      for (const [k, h] of this.health) {
        if (!k.endsWith(`|${venue}`)) continue;
        if (status.latency_ms !== null) h.onLatency(status.latency_ms, 'ping', now);
        for (let i = 0; i < malformed; i++) h.onError(now);
      }
    }
    for (const c of this.controllers.values()) c.evaluate(now);
  }

  /**
   * Marks the whole history of `venue`'s `symbol` (of every instrument of `venue` when omitted) as loaded: until
   * then the source reports `loadingHistory` (it may publish live bars already; clients are told their history is
   * partial and get the whole of it once it has loaded).
   */
  historyLoaded(venue: VenueId, symbol?: string): void {
    if (symbol === undefined) this.historyLoadedVenues.add(venue);
    else this.historyLoadedSources.add(key(symbol, venue));
  }

  private hasHistory(symbol: string, venue: VenueId): boolean {
    return this.historyLoadedVenues.has(venue) || this.historyLoadedSources.has(key(symbol, venue));
  }

  /** Calls `listener` on every change of a symbol's active source. */
  onSwitch(listener: (change: SourceSwitch) => void): void {
    this.switchListeners.add(listener);
  }

  /** The active source of a symbol, or undefined when no venue lists it. */
  activeSource(symbol: string): VenueId | undefined {
    return this.controllers.get(symbol)?.activeSource;
  }

  view(): SourcesView {
    const now = this.clock.now();
    const grace = this.options.failover.startupGraceMs;
    return {
      instruments: [...this.controllers.values()].map((c) => {
        const s = c.snapshot(now);
        return {
          symbol: s.instrument,
          activeSource: s.activeSource,
          primary: s.primary,
          activeSince: this.activeSince.get(s.instrument) ?? null,
          sources: s.sources.map((source) =>
            this.hasHistory(s.instrument, source.exchange) ? source : { ...source, loadingHistory: true },
          ),
        };
      }),
      inStartupGrace: this.startedAt === null || now - this.startedAt < grace,
    };
  }

  private onFailoverEvent(e: FailoverEvent): void {
    switch (e.type) {
      case 'sourceSwitch': {
        this.activeSince.set(e.instrument, e.at);
        const lastAlive = this.health.get(key(e.instrument, e.from))?.lastAlive() ?? e.at;
        const change = {
          symbol: e.instrument,
          from: e.from,
          to: e.to,
          at: e.at,
          fromLastAlive: Math.min(lastAlive, e.at),
        };
        for (const listener of this.switchListeners) listener(change);
        this.raise({
          severity: 'warning',
          kind: 'failover',
          symbol: e.instrument,
          message: `${e.instrument}: switched from ${e.from} to ${e.to} (${e.reason})`,
          details: {
            from: e.from,
            to: e.to,
            reason: e.reason,
            ...(e.detectMs !== undefined ? { detectMs: e.detectMs } : {}),
          },
          time: e.at,
        });
        break;
      }
      case 'failover_failed':
        this.raise({
          severity: 'critical',
          kind: 'failover_failed',
          symbol: e.instrument,
          message: `${e.instrument}: no healthy source; staying on ${e.active} (${e.reason})`,
          details: { active: e.active, reason: e.reason },
          time: e.at,
        });
        break;
      case 'sourceHealth': {
        const health = this.health.get(key(e.instrument, e.source));
        const failover = this.options.failover;
        const kind: AlertKind = e.healthy
          ? 'source_recovered'
          : e.reason === 'disconnected'
            ? 'source_disconnected'
            : e.reason === 'stale'
              ? 'source_stale'
              : e.reason === 'high-latency'
                ? 'source_slow'
                : 'source_errors';
        const details: Record<string, string | number | null> = { reason: e.reason };
        if (kind === 'source_slow') {
          details['latency'] = health?.latency() ?? null;
          details['maxSourceLatency'] = failover.maxSourceLatencyMs;
        } else if (kind === 'source_errors') {
          details['maxErrors'] = failover.maxErrors;
          details['errorWindowMs'] = failover.errorWindowMs;
        }
        this.raise({
          severity: e.healthy ? 'info' : 'warning',
          kind,
          venue: e.source,
          symbol: e.instrument,
          message: e.healthy
            ? `${e.source} ${e.instrument}: recovered`
            : `${e.source} ${e.instrument}: unhealthy (${e.reason ?? 'unknown'})`,
          details,
          time: e.at,
        });
        break;
      }
    }
  }

  /** Logs an alert at its severity's level and publishes it for the gateways' alerts channel. */
  raise(input: AlertInput): void {
    raiseAlert(this.options.bus, this.options.logger, input, () => this.clock.now());
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}

function key(symbol: string, venue: VenueId): string {
  return `${symbol}|${venue}`;
}
