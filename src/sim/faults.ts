/**
 * Fault injection, scriptable from tests and the CLI. Every venue owns a VenueFaultState that its stream and REST
 * code consult; SimFaults addresses one venue or all of them. New fault kinds are added here as fields of the state
 * and methods of SimFaults, and honoured in each venue folder.
 */
import type { VenueId } from '../domain/instrument.ts';

/** REST failure to inject for the next `count` requests. */
export interface RestFailureSpec {
  readonly status: 429 | 418 | 500 | 503;
  readonly count: number;
  /** Sent as Retry-After (seconds) with 429 and 418. */
  readonly retryAfterSec?: number;
}

/** Fault flags of one venue, read by the venue on every send and request. */
export class VenueFaultState {
  private paused = false;
  private resumeTimer: NodeJS.Timeout | undefined;
  private readonly restQueue: { spec: RestFailureSpec; left: number }[] = [];

  /** True while stream data must be withheld (the socket stays open and heartbeats continue). */
  get streamPaused(): boolean {
    return this.paused;
  }

  pause(ms?: number): void {
    this.paused = true;
    if (this.resumeTimer !== undefined) clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    if (ms !== undefined && ms > 0) {
      this.resumeTimer = setTimeout(() => this.resume(), ms);
    }
  }

  resume(): void {
    this.paused = false;
    if (this.resumeTimer !== undefined) clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
  }

  addRestFailures(spec: RestFailureSpec): void {
    if (!Number.isInteger(spec.count) || spec.count < 0)
      throw new RangeError('restFailures: count must be ≥ 0');
    if (spec.count > 0) this.restQueue.push({ spec, left: spec.count });
  }

  /** The failure the current REST request must answer with, if any (consumes one). */
  takeRestFailure(): RestFailureSpec | undefined {
    const head = this.restQueue[0];
    if (head === undefined) return undefined;
    head.left--;
    if (head.left <= 0) this.restQueue.shift();
    return head.spec;
  }

  /** Stops timers; the state is unusable afterwards. */
  dispose(): void {
    this.resume();
    this.restQueue.length = 0;
  }
}

export interface SimFaults {
  /** Terminates every client socket of `venue` (all venues when omitted), abruptly; returns how many. */
  dropConnections(venue?: VenueId): number;
  /**
   * Keeps sockets open but sends no market data for `ms` (until resumeStream when omitted). Trades keep being
   * generated and are served over REST, so a client can backfill the gap.
   */
  pauseStream(venue?: VenueId, ms?: number): void;
  resumeStream(venue?: VenueId): void;
  /** Answers the next `spec.count` REST requests of `venue` (all venues when omitted) with `spec.status`. */
  restFailures(spec: RestFailureSpec, venue?: VenueId): void;
}

export interface FaultTarget {
  readonly faults: VenueFaultState;
  dropConnections(): number;
}

/** SimFaults over the simulator's venues; an unknown venue id is an error, not a silent no-op. */
export function createSimFaults(venues: ReadonlyMap<VenueId, FaultTarget>): SimFaults {
  const pick = (venue: VenueId | undefined): FaultTarget[] => {
    if (venue === undefined) return [...venues.values()];
    const v = venues.get(venue);
    if (v === undefined) throw new Error(`simulator does not run venue "${venue}"`);
    return [v];
  };
  return {
    dropConnections: (venue) => pick(venue).reduce((sum, v) => sum + v.dropConnections(), 0),
    pauseStream: (venue, ms) => pick(venue).forEach((v) => v.faults.pause(ms)),
    resumeStream: (venue) => pick(venue).forEach((v) => v.faults.resume()),
    restFailures: (spec, venue) => pick(venue).forEach((v) => v.faults.addRestFailures(spec)),
  };
}
