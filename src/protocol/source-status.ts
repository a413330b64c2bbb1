import type { VenueId } from '../domain/instrument.ts';

/**
 * The source status API: what the multi-source feed reports about its venues per instrument (`SourcesView`, the
 * gateway's input) and the bodies of GET /api/websocket/health, /sources and /active-source (its output).
 * docs/PROTOCOL.md, "Source status endpoints".
 */

/** One venue feeding one instrument. */
export interface SourceStatusView {
  readonly exchange: VenueId;
  readonly connected: boolean;
  /** Latest measured latency, ms (ping round trip or receive minus exchange time); null until measured. */
  readonly latency: number | null;
  /** Receive time of the last update of this instrument from this venue, ms UTC; null before the first. */
  readonly lastUpdate: number | null;
  readonly messagesReceived: number;
  readonly errors: number;
  /** Connected, fresh (updated within the staleness limit), latency within `maxSourceLatency`, errors in bounds. */
  readonly healthy: boolean;
  /** Why the source is unhealthy ("disconnected", "stale", "high-latency", "error-rate"); null or absent when healthy. */
  readonly reason?: string | null;
  /**
   * True while the venue is still loading its start-up history: its bars are not published yet, so the source is
   * not live even when healthy. Absent: loaded.
   */
  readonly loadingHistory?: boolean;
}

/** The sources of one instrument. */
export interface InstrumentSourcesView {
  /** Canonical BASE/QUOTE. */
  readonly symbol: string;
  /**
   * The venue whose data is used now (when no source is healthy, the least bad one: `failover_failed`); null when
   * none has been chosen yet.
   */
  readonly activeSource: VenueId | null;
  /** The configured preferred venue. */
  readonly primary: VenueId;
  /** When `activeSource` became active, ms UTC; null when unknown. */
  readonly activeSince?: number | null;
  readonly sources: readonly SourceStatusView[];
}

/** Everything the multi-source feed reports; instruments in configuration order (the first is the default). */
export interface SourcesView {
  readonly instruments: readonly InstrumentSourcesView[];
  /**
   * True during the feed's start-up grace (`failover.startupGraceMs` from its start): a venue that has not
   * connected yet is expected, not a fault. Absent: the reader judges by its own time since start.
   */
  readonly inStartupGrace?: boolean;
}

/** The seed's health fields for one instrument. */
export interface SourceHealth {
  /** The instrument has an active source and that source is healthy. */
  readonly healthy: boolean;
  readonly activeSource: VenueId | null;
  readonly connectedSources: number;
  readonly totalSources: number;
}

export interface InstrumentHealth extends SourceHealth {
  readonly symbol: string;
}

/**
 * GET /api/websocket/health without `symbol`: the default instrument's fields at top level (the seed's shape,
 * `symbol` null when the feed tracks no instrument), then every instrument.
 */
export interface HealthResponse extends SourceHealth {
  readonly symbol: string | null;
  readonly instruments: readonly InstrumentHealth[];
}

/** One row of GET /api/websocket/sources: the seed's per-source fields, then the instrument and roles. */
export interface SourceRow {
  readonly exchange: VenueId;
  readonly connected: boolean;
  readonly latency: number | null;
  readonly lastUpdate: number | null;
  readonly messagesReceived: number;
  readonly errors: number;
  readonly healthy: boolean;
  readonly reason?: string;
  readonly symbol: string;
  /** This source is the instrument's active source. */
  readonly active: boolean;
  /** This source is the instrument's configured primary. */
  readonly primary: boolean;
}

export interface ActiveSource {
  readonly activeSource: VenueId | null;
  readonly symbol: string;
  readonly primary: VenueId;
  /** When the active source became active, ms UTC; null when unknown or none is active. */
  readonly since: number | null;
}

/**
 * GET /api/websocket/active-source without `symbol`: the default instrument's fields (`symbol` and `primary`
 * null when the feed tracks no instrument), then every instrument.
 */
export interface ActiveSourceResponse {
  readonly activeSource: VenueId | null;
  readonly symbol: string | null;
  readonly primary: VenueId | null;
  readonly since: number | null;
  readonly instruments: readonly ActiveSource[];
}

/** Body of every non-200 answer of these endpoints. */
export interface SourceErrorResponse {
  readonly error: string;
}
