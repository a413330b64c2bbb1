/**
 * Faults of a venue's private side, for tests of account clients: drop the private sockets, refuse new private
 * connections for a while (so a client falls back to REST polling, then reconnects), and reject logins. Times
 * follow the simulator's clock, so a test with an injected clock decides when a refusal ends.
 */
export class SimAccountFaults {
  private refusedUntil = Number.NEGATIVE_INFINITY;
  private loginRejections = 0;
  private dropper: (() => number) | undefined;

  constructor(private readonly now: () => number) {}

  /** Refuses every new private socket (HTTP 503 on the upgrade) for `ms` of clock time. */
  refuseConnections(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('refuseConnections: ms must be ≥ 0');
    this.refusedUntil = this.now() + ms;
  }

  /** Ends refuseConnections. */
  acceptConnections(): void {
    this.refusedUntil = Number.NEGATIVE_INFINITY;
  }

  get refusing(): boolean {
    return this.now() < this.refusedUntil;
  }

  /** The next `count` logins fail (Bitget: 30005 login failed, then the socket closes). */
  rejectLogins(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('rejectLogins: count must be ≥ 0');
    this.loginRejections += count;
  }

  takeLoginRejection(): boolean {
    if (this.loginRejections <= 0) return false;
    this.loginRejections--;
    return true;
  }

  /** Terminates every private socket of the venue; returns how many. */
  dropConnections(): number {
    return this.dropper?.() ?? 0;
  }

  /** Set by the venue's private socket server. */
  onDrop(dropper: () => number): void {
    this.dropper = dropper;
  }
}
