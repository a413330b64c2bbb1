import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import type { StoredCandle } from '../store/candle-store.ts';
import type { RoomHistory } from './room-history.ts';
import {
  encodeBar,
  encodeRevisionOfBar,
  encodeUpdateOfBar,
  type BarView,
} from '../protocol/server-messages.ts';

/** One message a room sends at a tick: serialized once, the same bytes for every member. */
export interface RoomMessage extends BarView {
  readonly kind: 'update' | 'revision';
  readonly payload: Buffer;
  /**
   * A client's send queue keeps only the newest queued message of one key: the same room, kind and bar time
   * (a newer state of the same bar replaces the queued one).
   */
  readonly conflateKey: string;
}

/** Bar times whose last sent state a room remembers, to never send the same state of a bar twice. */
const SENT_MEMORY = 16;

interface Pending {
  bar: Candle;
  closed: boolean;
  sources: readonly VenueId[];
  backfilled: boolean;
  /** Queued behind a state of the same bar rather than merged into it (Room.push's `heldApart`). */
  heldApart: boolean;
}

/**
 * The conflating queue of one (symbol, interval) room.
 *
 * Updates of the stream (`live`, `closed`) keep one entry per bar time, newest state wins; a tick sends at most
 * one `update`, the oldest pending bar first, so a closed bar's final state always leaves before the next bar's
 * first update and nothing is dropped, only merged. `update` bar times never go backwards: a change to a bar
 * older than the newest one the stream has shown (a `revised` bar, or a late `closed`) becomes a `revision`,
 * which a chart that appends every newer `update` cannot mistake for a new bar. All pending revisions leave at
 * the next tick, in arrival order, one per bar time (newest state).
 *
 * A room never sends a bar in the state it last sent it (same values, closed flag, sources and backfilled mark):
 * the same bytes would tell the client nothing. Such a message is skipped and counted in `unchangedSkipped`.
 */
export class Room<M = unknown> {
  readonly key: string;
  /** Subscriptions of this room; the room exists while this is not empty. */
  readonly members = new Set<M>();
  /** Time of the last tick that sent something, ms; null before the first. */
  lastBroadcast: number | null = null;
  /** Scheduling state owned by the TickScheduler. */
  dueAt: number | null = null;
  paidUntil = Number.NEGATIVE_INFINITY;
  lastTickAt = Number.NEGATIVE_INFINITY;

  /** Newest bar time sent or queued as an `update`. */
  private streamTime = Number.NEGATIVE_INFINITY;
  private readonly updates: Pending[] = [];
  private readonly revisions: Pending[] = [];
  private readonly revisionAt = new Map<number, Pending>();
  /** Newest bar time seen in a closed or revised state. */
  private closedThrough = Number.NEGATIVE_INFINITY;
  private seen = false;
  /** The bar text last sent per bar time, for the newest SENT_MEMORY bar times (insertion order = age). */
  private readonly sent = new Map<number, string>();
  /** Messages not sent because the bar's state was the one last sent. */
  unchangedSkipped = 0;
  /** Pending states replaced by a newer state of their bar before they were sent (conflation). */
  merged = 0;
  /** Stream messages taken so far (a store read during which this changed may be older than the stream). */
  received = 0;
  /** The room's history in memory, once a store read showed the whole series (see RoomHistory). */
  history: RoomHistory | null = null;
  /**
   * The store reads of this room's history in flight, by bar count, each with `received` and whether the start-up
   * history was loading when it began: a subscribe while neither has changed shares it (CandleRooms.loadInitial).
   */
  readonly reads = new Map<
    number,
    { readonly received: number; readonly loading: boolean; readonly bars: Promise<StoredCandle[]> }
  >();

  constructor(
    readonly symbol: string,
    readonly interval: Interval,
  ) {
    this.key = `${symbol}:${interval}`;
  }

  /** True once the room has received a bar from the stream. */
  get hasReceivedBar(): boolean {
    return this.seen;
  }

  get hasPending(): boolean {
    return this.updates.length > 0 || this.revisions.length > 0;
  }

  /** Whether the stream has said that the bar starting at `time` is final. */
  isKnownClosed(time: number): boolean {
    return time <= this.closedThrough;
  }

  /**
   * Takes one CandleUpdate of this room's stream. A newer state of a bar still pending replaces it (merged, counted
   * in `merged`), unless fewer than `heldApart` updates are pending: then it is queued behind them for a tick of
   * its own. The caller allows more than one when the room was due to tick by now and a busy or blocked event
   * loop let the bus's backlog arrive first: states the data changed to once a period, bunched into one turn,
   * each leave on their own (up to the ticks the throttle owes), and only what changed faster is merged.
   */
  push(update: CandleUpdate, heldApart = 1): void {
    const bar = update.bar;
    const closed = update.state !== 'live';
    this.seen = true;
    this.received++;
    this.history?.apply(update);
    if (closed && bar.time > this.closedThrough) this.closedThrough = bar.time;

    const queued = this.findUpdate(bar.time);
    const apart = this.updates.length < heldApart;
    // A state held apart from a bunch is owed its own tick: a state that arrives in a later turn (heldApart 1)
    // queues behind it rather than replace it, as the data changed once a period and the room is catching up.
    if (queued && (apart || (queued.heldApart && heldApart === 1))) {
      this.updates.push({
        bar,
        // Final stays final: a stale `live` arriving after `closed` must not reopen the bar.
        closed: queued.closed || closed,
        sources: update.sources,
        backfilled: update.backfilled === true,
        heldApart: apart,
      });
      return;
    }
    if (queued) {
      queued.bar = bar;
      // Final stays final: a stale `live` arriving after `closed` must not reopen the bar.
      queued.closed = queued.closed || closed;
      queued.sources = update.sources;
      queued.backfilled = update.backfilled === true;
      this.merged++;
      return;
    }
    if (update.state !== 'revised' && bar.time >= this.streamTime) {
      this.streamTime = bar.time;
      this.updates.push({
        bar,
        closed,
        sources: update.sources,
        backfilled: update.backfilled === true,
        heldApart: false,
      });
      return;
    }
    const revision = this.revisionAt.get(bar.time);
    if (revision) {
      revision.bar = bar;
      revision.sources = update.sources;
      revision.backfilled = update.backfilled === true;
      this.merged++;
      return;
    }
    const entry: Pending = {
      bar,
      closed: true,
      sources: update.sources,
      backfilled: update.backfilled === true,
      heldApart: false,
    };
    this.revisions.push(entry);
    this.revisionAt.set(bar.time, entry);
  }

  /**
   * The messages of one tick: every pending revision, then at most one update. Empty when nothing is pending.
   * `now` is recorded as lastBroadcast when something is sent.
   */
  tick(now: number): RoomMessage[] {
    const out: RoomMessage[] = [];
    for (const r of this.revisions) {
      const message = this.message('revision', r, true);
      if (message) out.push(message);
    }
    this.revisions.length = 0;
    this.revisionAt.clear();
    // An update equal to what was last sent of its bar would waste the tick: the next pending one goes instead.
    for (let u = this.updates.shift(); u; u = this.updates.shift()) {
      const message = this.message('update', u, u.closed);
      if (message) {
        out.push(message);
        break;
      }
    }
    if (out.length > 0) this.lastBroadcast = now;
    return out;
  }

  /** The message of one pending bar state, or undefined when that state is the one last sent. */
  private message(kind: RoomMessage['kind'], p: Pending, closed: boolean): RoomMessage | undefined {
    const view: BarView = { bar: p.bar, closed, sources: p.sources, backfilled: p.backfilled };
    const time = p.bar.time;
    const barJson = encodeBar(view);
    if (this.sent.get(time) === barJson) {
      this.unchangedSkipped++;
      return undefined;
    }
    this.sent.delete(time);
    this.sent.set(time, barJson);
    if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.keys().next().value as number);
    const text =
      kind === 'update'
        ? encodeUpdateOfBar(this.symbol, this.interval, barJson)
        : encodeRevisionOfBar(this.symbol, this.interval, barJson);
    return {
      kind,
      ...view,
      payload: Buffer.from(text),
      conflateKey: `${this.key}|${kind}|${time}`,
    };
  }

  private findUpdate(time: number): Pending | undefined {
    for (let i = this.updates.length - 1; i >= 0; i--) {
      const u = this.updates[i] as Pending;
      if (u.bar.time === time) return u;
      if (u.bar.time < time) return undefined;
    }
    return undefined;
  }
}
