import type { Clock, Timer } from '../util/clock.ts';

/** How often the sweep runs, ms: each run visits the members of one slot. */
export const SWEEP_EVERY_MS = 100;

/** What the heartbeat needs of a connection. */
export interface HeartbeatMember {
  /** Numbered in turn (its slot is id modulo the slots: consecutive ids keep the slots even). */
  readonly id: number;
  /** Cleared at each ping, set by the pong. */
  alive: boolean;
}

export interface HeartbeatActions<T> {
  /** Sends a ping (the member answered the previous one, or has just joined). */
  readonly ping: (member: T) => void;
  /** The member did not answer the ping sent one interval ago: cut it off. */
  readonly dead: (member: T) => void;
}

/**
 * The heartbeat (docs/PROTOCOL.md, "Heartbeat"), spread over its interval: each member has one of
 * `intervalMs / SWEEP_EVERY_MS` slots (by its id, given in turn, so the slots stay even), and a timer due every
 * SWEEP_EVERY_MS visits the next slot. So every member is visited once per interval, always at the same phase:
 * a member that has not answered its previous ping (exactly one interval earlier) is dead, the others are pinged
 * again. One turn pings a slot's share of the clients (a hundredth of them per second with the default 30 s),
 * never all of them at once: 10,000 pings (and their 10,000 pongs) in one turn would stall the event loop.
 */
export class HeartbeatSweep<T extends HeartbeatMember> {
  private readonly slots: Set<T>[];
  /** The slot the next run visits. */
  private due = 0;
  private readonly timer: Timer;

  constructor(
    private readonly clock: Clock,
    intervalMs: number,
    private readonly actions: HeartbeatActions<T>,
  ) {
    const count = Math.max(1, Math.round(intervalMs / SWEEP_EVERY_MS));
    this.slots = Array.from({ length: count }, () => new Set<T>());
    this.timer = clock.setInterval(() => this.sweep(), intervalMs / count);
  }

  add(member: T): void {
    this.slotOf(member).add(member);
  }

  delete(member: T): void {
    this.slotOf(member).delete(member);
  }

  stop(): void {
    this.clock.clearTimer(this.timer);
  }

  private slotOf(member: T): Set<T> {
    return this.slots[member.id % this.slots.length] as Set<T>;
  }

  private sweep(): void {
    const slot = this.slots[this.due] as Set<T>;
    this.due = (this.due + 1) % this.slots.length;
    for (const member of slot) {
      if (!member.alive) {
        slot.delete(member);
        this.actions.dead(member);
        continue;
      }
      member.alive = false;
      this.actions.ping(member);
    }
  }
}
