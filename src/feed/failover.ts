import type { VenueId } from '../domain/instrument.ts';
import { nonNegativeInteger } from '../util/options.ts';
import { healthGrade, type SourceHealth, type SourceStatus, type UnhealthyReason } from './source-health.ts';

/**
 * Events of one instrument's failover, each emitted once per transition:
 * - `sourceSwitch`: the active source changed (`reason` says why, e.g. "okx disconnected", "primary recovered");
 * - `failover_failed`: the active source is unhealthy and no alternative is healthy; emitted again only after a
 *   healthy source was seen in between;
 * - `sourceHealth`: one source turned healthy or unhealthy (for alerts: disconnected, stale, recovered).
 */
export type FailoverEvent =
  | {
      readonly type: 'sourceSwitch';
      readonly instrument: string;
      readonly from: VenueId;
      readonly to: VenueId;
      readonly reason: string;
      readonly at: number;
      /** Failover away from a faulty source: ms from the fault becoming observable to this switch, when known. */
      readonly detectMs?: number;
    }
  | {
      readonly type: 'failover_failed';
      readonly instrument: string;
      /** The source that stays active (the least bad one). */
      readonly active: VenueId;
      readonly reason: string;
      readonly at: number;
    }
  | {
      readonly type: 'sourceHealth';
      readonly instrument: string;
      readonly source: VenueId;
      readonly healthy: boolean;
      /** Why it is unhealthy; null when it turned healthy. */
      readonly reason: UnhealthyReason | null;
      readonly at: number;
    };

export interface FailoverOptions {
  readonly instrument: string;
  /** The sources of this instrument in priority order; one per venue. */
  readonly sources: readonly SourceHealth[];
  /** The preferred source; must be one of `sources`. */
  readonly primary: VenueId;
  /** False: the primary stays active whatever happens, and only health is reported. Default true. */
  readonly enabled?: boolean;
  /** The primary must stay healthy this long (ms) before the feed switches back to it. Default 3,000. */
  readonly holdDownMs?: number;
  /**
   * From the first `evaluate`, this long (ms) a source that has never connected yet is not abandoned and no
   * `failover_failed` is raised, so that venues connecting a few hundred ms apart at start do not cause switches
   * and alarms. Default 10,000.
   */
  readonly startupGraceMs?: number;
  /** Called when a listener throws; default: a process warning. */
  readonly onListenerError?: (err: unknown) => void;
}

/** The instrument's feed state in the shape of `GET /api/websocket/health`, plus the per-source detail. */
export interface FailoverSnapshot {
  readonly instrument: string;
  /** The active source is healthy. */
  readonly healthy: boolean;
  readonly activeSource: VenueId;
  readonly primary: VenueId;
  readonly failoverEnabled: boolean;
  /** No healthy source exists (a `failover_failed` is outstanding). */
  readonly failed: boolean;
  readonly connectedSources: number;
  readonly totalSources: number;
  readonly sources: readonly SourceStatus[];
}

/**
 * Picks the active source of one instrument among its venues, with an injected clock.
 *
 * The owner calls `evaluate(now)` on a short timer (every 250 ms) and right after every connection event, so a
 * disconnect switches in the same tick and a time-based fault (stale, latency, errors) switches at most one timer
 * period after it became observable; with a stale limit of 10 s that is ≤ 10.25 s after the last message, well
 * within the 2 s detection-plus-switch budget counted from the moment the staleness is observable.
 *
 * Rules, at each evaluation:
 * 1. the active source is unhealthy → switch to the best alternative, ranked: healthy first (then by severity of
 *    the fault), then the primary, then lowest latency, then freshest last message, then configured order. When
 *    no alternative is healthy, switch only to one strictly less broken than the active one, and raise
 *    `failover_failed` once;
 * 2. the active source is healthy but is not the primary, and the primary has been healthy at every evaluation
 *    for at least `holdDownMs` → switch back to the primary;
 * 3. otherwise keep the active source: healthy alternatives never displace a healthy active one (no flapping).
 */
export class FailoverController {
  readonly instrument: string;
  readonly primary: VenueId;
  readonly enabled: boolean;
  private readonly holdDownMs: number;
  private readonly startupGraceMs: number;
  private readonly sources: readonly SourceHealth[];
  private readonly verdicts: (UnhealthyReason | null | undefined)[];
  /** Whether the current bad verdict of each source was announced, so that its recovery is announced too. */
  private readonly reported: boolean[];
  private active: SourceHealth;
  private primaryHealthySince: number | null = null;
  private failed = false;
  private startedAt: number | null = null;
  private readonly listeners = new Set<(event: FailoverEvent) => void>();
  private readonly onListenerError: (err: unknown) => void;

  constructor(options: FailoverOptions) {
    const { instrument, sources, primary } = options;
    if (sources.length === 0) throw new RangeError(`failover for ${instrument}: no sources`);
    const venues = new Set(sources.map((s) => s.venue));
    if (venues.size !== sources.length)
      throw new RangeError(`failover for ${instrument}: a venue is listed twice`);
    const primarySource = sources.find((s) => s.venue === primary);
    if (!primarySource)
      throw new RangeError(
        `failover for ${instrument}: primary ${primary} is not one of the sources (${[...venues].join(', ')})`,
      );
    const owner = `failover for ${instrument}`;
    const holdDownMs = nonNegativeInteger(owner, 'holdDownMs', options.holdDownMs ?? 3000);
    const startupGraceMs = nonNegativeInteger(owner, 'startupGraceMs', options.startupGraceMs ?? 10_000);
    this.instrument = instrument;
    this.primary = primary;
    this.enabled = options.enabled ?? true;
    this.holdDownMs = holdDownMs;
    this.startupGraceMs = startupGraceMs;
    this.sources = sources;
    this.verdicts = sources.map(() => undefined);
    this.reported = sources.map(() => false);
    this.active = primarySource;
    this.onListenerError =
      options.onListenerError ??
      ((err) => process.emitWarning(`failover listener for ${instrument} threw: ${String(err)}`));
  }

  /** The venue whose data the composite stream publishes now. */
  get activeSource(): VenueId {
    return this.active.venue;
  }

  /** The health tracker of `venue`, for the ingest to feed; undefined when the venue is not a source. */
  source(venue: VenueId): SourceHealth | undefined {
    return this.sources.find((s) => s.venue === venue);
  }

  /** Registers a listener for failover events; returns a function that removes it. */
  on(listener: (event: FailoverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Judges every source at `now`, reports health transitions and applies the switching rules (see the class
   * comment). Returns the active venue after the evaluation. Cheap: a few comparisons per source.
   */
  evaluate(now: number): VenueId {
    if (this.startedAt === null) this.startedAt = now;
    const inGrace = now - this.startedAt < this.startupGraceMs;
    let primaryReason: UnhealthyReason | null = null;
    for (let i = 0; i < this.sources.length; i++) {
      const source = this.sources[i]!;
      const reason = source.check(now);
      const previous = this.verdicts[i];
      this.verdicts[i] = reason;
      if (reason === null) {
        if (this.reported[i]) this.emitHealth(source, null, now);
        this.reported[i] = false;
      } else if ((reason !== previous || !this.reported[i]) && (source.hasConnected || !inGrace)) {
        // A source still connecting at start-up is not news; it is once the grace is over.
        this.emitHealth(source, reason, now);
        this.reported[i] = true;
      }
      if (source.venue === this.primary) primaryReason = reason;
    }
    if (primaryReason === null) this.primaryHealthySince ??= now;
    else this.primaryHealthySince = null;

    if (!this.enabled) return this.active.venue;

    const activeReason = this.verdictOf(this.active);

    if (activeReason === null) {
      this.failed = false;
      if (
        this.active.venue !== this.primary &&
        this.primaryHealthySince !== null &&
        now - this.primaryHealthySince >= this.holdDownMs
      ) {
        this.switchTo(this.source(this.primary)!, 'primary recovered', now);
      }
      return this.active.venue;
    }

    if (inGrace && !this.active.hasConnected) return this.active.venue;

    const best = this.bestAlternative();
    if (best && this.verdictOf(best) === null) {
      this.failed = false;
      this.switchTo(best, `${this.active.venue} ${activeReason}`, now, this.active.faultSince(now));
      return this.active.venue;
    }
    if (best && healthGrade(this.verdictOf(best)) < healthGrade(activeReason)) {
      this.switchTo(
        best,
        `${this.active.venue} ${activeReason}; no healthy source, using the least degraded`,
        now,
        this.active.faultSince(now),
      );
    }
    if (!this.failed && !inGrace) {
      this.failed = true;
      this.emit({
        type: 'failover_failed',
        instrument: this.instrument,
        active: this.active.venue,
        reason: `no healthy source: ${this.sources.map((s) => `${s.venue} ${this.verdictOf(s) ?? 'healthy'}`).join(', ')}`,
        at: now,
      });
    }
    return this.active.venue;
  }

  /** The feed state at the last evaluation (verdicts) and at `now` (per-source detail). */
  snapshot(now: number): FailoverSnapshot {
    const sources = this.sources.map((s) => s.status(now));
    let connected = 0;
    for (const s of sources) if (s.connected) connected++;
    return {
      instrument: this.instrument,
      healthy: this.active.check(now) === null,
      activeSource: this.active.venue,
      primary: this.primary,
      failoverEnabled: this.enabled,
      failed: this.failed,
      connectedSources: connected,
      totalSources: sources.length,
      sources,
    };
  }

  private verdictOf(source: SourceHealth): UnhealthyReason | null {
    return this.verdicts[this.sources.indexOf(source)] ?? null;
  }

  /** The best source other than the active one, by the documented ranking; undefined with a single source. */
  private bestAlternative(): SourceHealth | undefined {
    let best: SourceHealth | undefined;
    for (const candidate of this.sources) {
      if (candidate === this.active) continue;
      if (!best || this.ranksBefore(candidate, best)) best = candidate;
    }
    return best;
  }

  private ranksBefore(a: SourceHealth, b: SourceHealth): boolean {
    const ga = healthGrade(this.verdictOf(a));
    const gb = healthGrade(this.verdictOf(b));
    if (ga !== gb) return ga < gb;
    const pa = a.venue === this.primary;
    const pb = b.venue === this.primary;
    if (pa !== pb) return pa;
    const la = a.latency() ?? Number.POSITIVE_INFINITY;
    const lb = b.latency() ?? Number.POSITIVE_INFINITY;
    if (la !== lb) return la < lb;
    const fa = a.lastAlive() ?? Number.NEGATIVE_INFINITY;
    const fb = b.lastAlive() ?? Number.NEGATIVE_INFINITY;
    if (fa !== fb) return fa > fb;
    return false; // equal: keep the earlier one in configured order
  }

  private switchTo(to: SourceHealth, reason: string, at: number, faultSince: number | null = null): void {
    const from = this.active.venue;
    if (to === this.active) return;
    this.active = to;
    this.emit({
      type: 'sourceSwitch',
      instrument: this.instrument,
      from,
      to: to.venue,
      reason,
      at,
      ...(faultSince === null ? {} : { detectMs: Math.max(0, at - faultSince) }),
    });
  }

  private emitHealth(source: SourceHealth, reason: UnhealthyReason | null, at: number): void {
    this.emit({
      type: 'sourceHealth',
      instrument: this.instrument,
      source: source.venue,
      healthy: reason === null,
      reason,
      at,
    });
  }

  private emit(event: FailoverEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        // A failing listener must not stop the feed from switching or the other listeners from hearing it.
        this.onListenerError(err);
      }
    }
  }
}
