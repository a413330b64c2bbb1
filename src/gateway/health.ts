import type { VenueId } from '../domain/instrument.ts';
import type { InstrumentSourcesView, SourceStatusView, SourcesView } from '../protocol/source-status.ts';
import type { HttpAnswer } from './source-endpoints.ts';

/**
 * The verdict behind `GET /health` (docs/PROTOCOL.md, "GET /health"; docs/OPERATIONS.md): is every configured
 * instrument served live? Judged from the multi-source feed's status, the same `SourcesView` as
 * /api/websocket/*, so that every role (all, gateway, ingest) answers alike.
 */

export const PROVIDER_FAILED_REASON = 'the feed failed to report its status';

/** `ok`: every instrument is live. `starting`: none is down, but some are not live yet. `degraded`: some are down. */
export type HealthStatus = 'ok' | 'starting' | 'degraded';

/**
 * - `live`: the active source is healthy and publishing;
 * - `starting`: not live yet, and that is expected: the feed is within its start-up grace, or the active source is
 *   healthy but still loading its start-up history;
 * - `stale`: not live although a source is connected (no fresh data, latency or errors over the limits);
 * - `down`: no source connected, or no status at all.
 */
export type InstrumentState = 'live' | 'starting' | 'stale' | 'down';

export interface InstrumentHealthReport {
  readonly symbol: string;
  readonly state: InstrumentState;
  /** The venue whose data the instrument uses now; null when unknown. */
  readonly activeSource: VenueId | null;
  /** Sources that are healthy and publishing. */
  readonly liveSources: number;
  readonly connectedSources: number;
  readonly totalSources: number;
  /** Why the instrument is not live; absent when it is. */
  readonly reason?: string;
}

export interface HealthReport {
  readonly status: HealthStatus;
  /** Every venue is live: every source of every configured instrument (`allSourcesLive`). */
  readonly ready: boolean;
  /** 200 when `ok`, else 503. */
  readonly httpStatus: 200 | 503;
  /** One line per instrument that is not live, in configured order; empty when `ok`. */
  readonly reasons: readonly string[];
  /** Venues with at least one connected source, in the order the feed lists them. */
  readonly connectedVenues: readonly VenueId[];
  /** Every configured instrument, in configured order. */
  readonly instruments: readonly InstrumentHealthReport[];
}

export interface HealthInput {
  /** The configured instruments; each must be live for `ok`. */
  readonly symbols: readonly string[];
  /**
   * The feed's status; undefined when there is none to read: an instrument without status is `starting` within
   * the grace (a gateway that has not heard from an ingest yet), `down` after it.
   */
  readonly sources: SourcesView | undefined;
  /** The feed failed to report its status (it threw): every instrument is `down` at once. */
  readonly feedFailed?: boolean;
  /** Time since this process started, ms. */
  readonly uptimeMs: number;
  /** `failover.startupGraceMs`: how long after start a missing status or source is still expected. */
  readonly startupGraceMs: number;
}

/** Judges the feed's status; pure, cheap (a few comparisons per source). */
export function evaluateHealth(input: HealthInput): HealthReport {
  const view = input.sources;
  const inGrace = !input.feedFailed && (view?.inStartupGrace ?? input.uptimeMs < input.startupGraceMs);
  const connected = new Set<VenueId>();
  const instruments = input.symbols.map((symbol): InstrumentHealthReport => {
    const instrument = view?.instruments.find((i) => i.symbol === symbol);
    if (instrument === undefined) {
      const why = input.feedFailed ? PROVIDER_FAILED_REASON : 'no source status received yet';
      return {
        symbol,
        state: inGrace ? 'starting' : 'down',
        activeSource: null,
        liveSources: 0,
        connectedSources: 0,
        totalSources: 0,
        reason: `${symbol}: ${why}`,
      };
    }
    for (const s of instrument.sources) if (s.connected) connected.add(s.exchange);
    return judgeInstrument(instrument, inGrace);
  });
  const states = new Set(instruments.map((i) => i.state));
  const status: HealthStatus =
    states.has('down') || states.has('stale') ? 'degraded' : states.has('starting') ? 'starting' : 'ok';
  return {
    status,
    ready: !input.feedFailed && allSourcesLive(view, input.symbols),
    httpStatus: status === 'ok' ? 200 : 503,
    reasons: instruments.flatMap((i) => (i.reason === undefined ? [] : [i.reason])),
    connectedVenues: [...connected],
    instruments,
  };
}

/** What `answerHealth` judges: the feed's status provider and the rest of `HealthInput`. */
export interface FeedToJudge extends Omit<HealthInput, 'sources' | 'feedFailed'> {
  /** Read once per request; may throw (then every instrument counts as without status). */
  readonly sources: () => SourcesView;
}

/**
 * The answer of GET /health: `status`, then the process's own `fields` (the gateway: the seed's uptimeMs,
 * connections, rooms, symbols), then the verdict on `feed` (ready, reasons, connectedVenues, instruments), with HTTP 200
 * when `ok` and 503 otherwise. `feed` null: this process has no feed to judge (a standby ingest, or a gateway
 * embedded without a source provider); the answer is then 200 `ok` with `fields` alone. Never throws.
 */
export function answerHealth(
  fields: Readonly<Record<string, unknown>>,
  feed: FeedToJudge | null,
  onProviderError: (err: unknown) => void,
): HttpAnswer {
  // Without a feed there is no venue that could be live: `ready` is never claimed.
  if (feed === null) return { status: 200, body: { status: 'ok', ...fields, ready: false } };
  let sources: SourcesView | undefined;
  try {
    sources = feed.sources();
  } catch (err) {
    onProviderError(err);
  }
  const report = evaluateHealth({
    symbols: feed.symbols,
    sources,
    feedFailed: sources === undefined,
    uptimeMs: feed.uptimeMs,
    startupGraceMs: feed.startupGraceMs,
  });
  return {
    status: report.httpStatus,
    body: {
      status: report.status,
      ...fields,
      ready: report.ready,
      reasons: report.reasons,
      connectedVenues: report.connectedVenues,
      instruments: report.instruments,
    },
  };
}

/**
 * The readiness behind the `ready: all venues live` line and `ready` of /health: every configured instrument has
 * status and every one of its sources (each venue that lists it, not only the active one) is healthy and has loaded
 * its start-up history. Stricter than `ok`, which asks only for the active source: a benchmark started on `ready`
 * measures the steady state, with no venue still loading history in the background.
 */
export function allSourcesLive(view: SourcesView | undefined, symbols: readonly string[]): boolean {
  if (view === undefined) return false;
  return symbols.every((symbol) => {
    const instrument = view.instruments.find((i) => i.symbol === symbol);
    return instrument !== undefined && instrument.sources.length > 0 && instrument.sources.every(isLive);
  });
}

/** Healthy and publishing: its bars reach the clients. */
function isLive(s: SourceStatusView): boolean {
  return s.healthy && s.loadingHistory !== true;
}

function judgeInstrument(i: InstrumentSourcesView, inGrace: boolean): InstrumentHealthReport {
  const active = i.sources.find((s) => s.exchange === i.activeSource);
  let live = 0;
  let connected = 0;
  for (const s of i.sources) {
    if (isLive(s)) live++;
    if (s.connected) connected++;
  }
  const report = (state: InstrumentState, reason?: string): InstrumentHealthReport => ({
    symbol: i.symbol,
    state,
    activeSource: i.activeSource,
    liveSources: live,
    connectedSources: connected,
    totalSources: i.sources.length,
    ...(reason === undefined ? {} : { reason }),
  });
  if (active !== undefined && isLive(active)) return report('live');
  const detail = i.sources.map((s) => `${s.exchange} ${describe(s)}`).join(', ');
  const loading = active !== undefined && active.healthy && active.loadingHistory === true;
  if (inGrace || loading) return report('starting', `${i.symbol}: starting, no live source yet (${detail})`);
  return report(connected > 0 ? 'stale' : 'down', `${i.symbol}: no live source (${detail})`);
}

function describe(s: SourceStatusView): string {
  if (s.healthy) return s.loadingHistory === true ? 'loading history' : 'live';
  return typeof s.reason === 'string' && s.reason !== '' ? s.reason : 'unhealthy';
}
