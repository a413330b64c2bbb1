/**
 * Fault injection, scriptable from tests and the CLI. Every venue owns a VenueFaultState that its stream and REST
 * code consult; SimFaults addresses one venue or all of them. New fault kinds are added here as fields of the state
 * and methods of SimFaults, and honoured in each venue folder, or in SimSocketHub when a fault treats every socket
 * alike (the link latency).
 */
import type { VenueId } from '../domain/instrument.ts';

/** Largest link latency: the longest delay a Node timer can hold (about 24.8 days). */
export const MAX_LINK_LATENCY_MS = 2_147_483_647;

/** REST failure to inject for the next `count` requests. */
export interface RestFailureSpec {
  readonly status: 429 | 418 | 500 | 503;
  readonly count: number;
  /** Sent as Retry-After (seconds) with 429 and 418. */
  readonly retryAfterSec?: number;
}

/**
 * A fault the venue must act on now rather than on its next send: `recycle` closes every client socket the way
 * the venue's own periodic recycle does (Binance `serverShutdown`, OKX notice 64008, Bitget/dYdX plain close);
 * `malformed` sends `count` frames that are not valid messages to every open client socket.
 */
export type FaultAction =
  { readonly kind: 'recycle' } | { readonly kind: 'malformed'; readonly count: number };

/**
 * Fault flags of one venue, read by the venue on every send and request. Symbols are canonical ("BTC/USDT").
 * One-shot faults (`takeX`) are consumed by the first send they apply to; actions reach the venue through
 * `onAction`.
 */
export class VenueFaultState {
  private paused = false;
  private resumeTimer: NodeJS.Timeout | undefined;
  private stalled = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly frozen = new Map<string, NodeJS.Timeout | undefined>();
  /** Per canonical symbol, how late its candle-history (klines) requests are answered. */
  private readonly historyDelays = new Map<string, number>();
  private readonly skipSeq = new Set<string>();
  private readonly badChecksum = new Set<string>();
  private rejections = 0;
  private readonly restQueue: { spec: RestFailureSpec; left: number }[] = [];
  private readonly listeners = new Set<(action: FaultAction) => void>();
  private latencyMs = 0;
  private readonly latencyListeners = new Set<(ms: number) => void>();

  /**
   * True while the venue must send nothing at all on its open sockets: no data, no acks, no pings and no pongs
   * (a half-dead connection). Stronger than `streamPaused`.
   */
  get streamStalled(): boolean {
    return this.stalled;
  }

  stall(ms?: number): void {
    this.stalled = true;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (ms !== undefined && ms > 0) this.stallTimer = setTimeout(() => this.unstall(), ms);
  }

  unstall(): void {
    this.stalled = false;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** Withholds every data message of `symbol` (all channels) while other symbols continue; `ms` omitted: until unfrozen. */
  freezeSymbol(symbol: string, ms?: number): void {
    clearTimeout(this.frozen.get(symbol));
    this.frozen.set(
      symbol,
      ms !== undefined && ms > 0 ? setTimeout(() => this.unfreezeSymbol(symbol), ms) : undefined,
    );
  }

  /** Unfreezes `symbol`, or every frozen symbol when omitted. */
  unfreezeSymbol(symbol?: string): void {
    for (const [s, timer] of this.frozen) {
      if (symbol !== undefined && s !== symbol) continue;
      clearTimeout(timer);
      this.frozen.delete(s);
    }
  }

  isFrozen(symbol: string): boolean {
    return this.frozen.size > 0 && this.frozen.has(symbol);
  }

  /** The next book delta of `symbol` is numbered as if one message had been lost. */
  skipBookSeq(symbol: string): void {
    this.skipSeq.add(symbol);
  }

  /** True once after skipBookSeq(symbol): the caller skips one sequence number now. */
  takeSkipBookSeq(symbol: string): boolean {
    return this.skipSeq.size > 0 && this.skipSeq.delete(symbol);
  }

  /** The next book message of `symbol` that carries a checksum carries a wrong one. */
  corruptChecksum(symbol: string): void {
    this.badChecksum.add(symbol);
  }

  takeCorruptChecksum(symbol: string): boolean {
    return this.badChecksum.size > 0 && this.badChecksum.delete(symbol);
  }

  /** The next `count` subscribe requests are refused with the venue's real error reply. */
  rejectSubscriptions(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('rejectSubscriptions: count must be ≥ 0');
    this.rejections += count;
  }

  /** True when the current subscribe request must be refused (consumes one). */
  takeSubscriptionRejection(): boolean {
    if (this.rejections <= 0) return false;
    this.rejections--;
    return true;
  }

  /** Asks the venue to recycle every client connection now, the venue's own way. */
  forceRecycle(): void {
    this.emit({ kind: 'recycle' });
  }

  /** Asks the venue to send `count` malformed frames to every open client socket now. */
  malformedFrames(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('malformedFrames: count must be ≥ 0');
    if (count > 0) this.emit({ kind: 'malformed', count });
  }

  /** Registers the venue's handler for immediate faults; returns the function that removes it. */
  onAction(listener: (action: FaultAction) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(action: FaultAction): void {
    for (const l of this.listeners) l(action);
  }

  /** Delay, in ms, of every outgoing WebSocket frame (heartbeat answers included); 0 when the link is fast. */
  get linkLatencyMs(): number {
    return this.latencyMs;
  }

  /**
   * Delays every frame the venue sends on every socket by `ms`, keeping their order; 0 ends the fault, and what
   * is still held back goes out at once, in order. Throws a RangeError unless 0 ≤ ms ≤ MAX_LINK_LATENCY_MS.
   */
  setLinkLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_LINK_LATENCY_MS)
      throw new RangeError(`latency: ms must be 0..${MAX_LINK_LATENCY_MS}, got ${ms}`);
    if (ms === this.latencyMs) return;
    this.latencyMs = ms;
    for (const l of this.latencyListeners) l(ms);
  }

  /** Registers the socket side's handler for latency changes; returns the function that removes it. */
  onLinkLatency(listener: (ms: number) => void): () => void {
    this.latencyListeners.add(listener);
    return () => this.latencyListeners.delete(listener);
  }

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

  /** Answers every candle-history request of `symbol` (canonical) `ms` late; 0 ends it. */
  setHistoryDelay(symbol: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_LINK_LATENCY_MS) {
      throw new RangeError(`historyDelay: ms must be 0..${MAX_LINK_LATENCY_MS}, got ${ms}`);
    }
    if (ms === 0) this.historyDelays.delete(symbol);
    else this.historyDelays.set(symbol, ms);
  }

  /** How late a candle-history request of `symbol` is answered (ms). */
  historyDelayOf(symbol: string): number {
    return this.historyDelays.get(symbol) ?? 0;
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
    this.unstall();
    this.unfreezeSymbol();
    this.skipSeq.clear();
    this.badChecksum.clear();
    this.rejections = 0;
    this.restQueue.length = 0;
    this.historyDelays.clear();
    this.listeners.clear();
    this.latencyMs = 0;
    this.latencyListeners.clear();
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
  /** Ends pauseStream and stall. */
  resumeStream(venue?: VenueId): void;
  /** Keeps sockets open but sends nothing at all (no data, acks, pings or pongs) for `ms` (until resumeStream). */
  stall(venue?: VenueId, ms?: number): void;
  /** Withholds all data of one canonical symbol for `ms` (until unfreezeSymbol) while the socket stays live. */
  freezeSymbol(venue: VenueId, symbol: string, ms?: number): void;
  /** Ends freezeSymbol for `symbol`, or for every symbol when omitted. */
  unfreezeSymbol(venue: VenueId, symbol?: string): void;
  /** Sends `count` malformed frames to every open socket of `venue` (all venues when omitted). */
  malformedFrames(venue: VenueId | undefined, count: number): void;
  /** The next book delta of `symbol` skips one sequence number, as if a message was lost. */
  skipBookSeq(venue: VenueId, symbol: string): void;
  /** The next checksummed book message of `symbol` carries a wrong checksum (venues with book checksums). */
  corruptChecksum(venue: VenueId, symbol: string): void;
  /** The next `count` subscribe requests to `venue` are refused with the venue's real error reply. */
  rejectSubscriptions(venue: VenueId, count: number): void;
  /**
   * Recycles every socket of `venue` (all venues when omitted) the venue's own way: Binance `serverShutdown`
   * then close, OKX notice 64008 then close, Bitget and dYdX a plain close.
   */
  forceRecycle(venue?: VenueId): void;
  /**
   * Makes the link of `venue` (all venues when omitted) slow: every frame it sends on any socket, heartbeat
   * answers included (protocol pongs, `pong` texts, JSON pongs), leaves `ms` later, in order. `latency(venue, 0)`
   * ends it and sends what is held back at once, in order. REST and incoming frames are not delayed.
   */
  latency(venue: VenueId | undefined, ms: number): void;
  /** Answers the next `spec.count` REST requests of `venue` (all venues when omitted) with `spec.status`. */
  restFailures(spec: RestFailureSpec, venue?: VenueId): void;
  /**
   * Answers every candle-history request (klines) of one canonical symbol on `venue` `ms` late, other symbols and
   * other requests at once (a slow history for one instrument); 0 ends it. Binance only.
   */
  historyDelay(venue: VenueId, symbol: string, ms: number): void;
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
    resumeStream: (venue) =>
      pick(venue).forEach((v) => {
        v.faults.resume();
        v.faults.unstall();
      }),
    stall: (venue, ms) => pick(venue).forEach((v) => v.faults.stall(ms)),
    freezeSymbol: (venue, symbol, ms) => pick(venue).forEach((v) => v.faults.freezeSymbol(symbol, ms)),
    unfreezeSymbol: (venue, symbol) => pick(venue).forEach((v) => v.faults.unfreezeSymbol(symbol)),
    malformedFrames: (venue, count) => pick(venue).forEach((v) => v.faults.malformedFrames(count)),
    skipBookSeq: (venue, symbol) => pick(venue).forEach((v) => v.faults.skipBookSeq(symbol)),
    corruptChecksum: (venue, symbol) => pick(venue).forEach((v) => v.faults.corruptChecksum(symbol)),
    rejectSubscriptions: (venue, count) => pick(venue).forEach((v) => v.faults.rejectSubscriptions(count)),
    forceRecycle: (venue) => pick(venue).forEach((v) => v.faults.forceRecycle()),
    restFailures: (spec, venue) => pick(venue).forEach((v) => v.faults.addRestFailures(spec)),
    latency: (venue, ms) => pick(venue).forEach((v) => v.faults.setLinkLatency(ms)),
    historyDelay: (venue, symbol, ms) => {
      if (venue !== 'binance')
        throw new Error(`historyDelay: only the simulated binance has it, not "${venue}"`);
      pick(venue).forEach((v) => v.faults.setHistoryDelay(symbol, ms));
    },
  };
}
