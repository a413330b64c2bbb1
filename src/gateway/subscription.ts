import { compare } from '../domain/decimal.ts';
import type { BarView } from '../protocol/server-messages.ts';
import type { Room, RoomMessage } from './room.ts';

/** Where a subscription's bytes go: the client connection. */
export interface MessageSink {
  /** `conflateKey`: a newer message of the same key may replace this one while it waits in a send queue. */
  send(payload: Buffer | string, conflateKey?: string): void;
}

/** What `initial` told the client, kept until the live stream has moved past it. */
interface Cover {
  readonly bars: readonly BarView[];
  readonly last: BarView;
}

/**
 * One client's membership of one room, and the seam between its `initial` and the room's stream.
 *
 * The subscription joins the room before history is read, so nothing published meanwhile can fall into a gap:
 * while `initial` is loading, the room's messages are held (one per bar time for updates, newest state). When
 * `initial` is sent, held and later messages that it already covers are dropped: an `update` of an older bar
 * than initial's newest (the store is written before the stream publishes, so initial holds that bar in an equal
 * or newer state), an `update` of initial's newest bar that has fewer trades or the same values (unless it closes
 * a bar initial showed open), and a `revision`
 * equal to the bar initial holds. The first update that goes past initial ends the comparison.
 */
export class Subscription<S extends MessageSink = MessageSink> {
  private generation = 0;
  private loading = false;
  private active = true;
  private held: RoomMessage[] = [];
  private cover: Cover | null = null;

  constructor(
    readonly sink: S,
    readonly room: Room<Subscription<S>>,
  ) {}

  /** Starts (or restarts, for a repeated subscribe) loading `initial`; returns the load's generation. */
  beginLoading(): number {
    this.loading = true;
    this.cover = null;
    return ++this.generation;
  }

  /** True while the load of `generation` is the latest and the subscription is still wanted. */
  isCurrent(generation: number): boolean {
    return this.active && this.loading && generation === this.generation;
  }

  /** Unsubscribed or disconnected: nothing more is sent. */
  end(): void {
    this.active = false;
    this.held = [];
    this.cover = null;
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Takes one message of the room's tick. */
  offer(message: RoomMessage): void {
    if (!this.active) return;
    if (this.loading) {
      this.hold(message);
      return;
    }
    if (this.cover && this.covered(message)) return;
    this.sink.send(message.payload, message.conflateKey);
  }

  /** Sends `initial` (already encoded from `bars`) and then whatever was held that it does not cover. */
  complete(initialPayload: Buffer | string, bars: readonly BarView[]): void {
    this.loading = false;
    this.sink.send(initialPayload);
    const last = bars[bars.length - 1];
    this.cover = last ? { bars, last } : null;
    const held = this.held;
    this.held = [];
    for (const message of held) this.offer(message);
  }

  private hold(message: RoomMessage): void {
    const last = this.held[this.held.length - 1];
    if (message.kind === 'update' && last?.kind === 'update' && last.bar.time === message.bar.time) {
      this.held[this.held.length - 1] = message;
    } else {
      this.held.push(message);
    }
  }

  private covered(message: RoomMessage): boolean {
    const cover = this.cover as Cover;
    const t = message.bar.time;
    const lastTime = cover.last.bar.time;
    if (message.kind === 'update') {
      if (t < lastTime) return true;
      // Fewer trades means an older state of the same venue's bar; the same values tell nothing new unless they
      // close a bar initial showed open (initial may call its newest bar closed by the clock before the stream
      // says so). A bar from another venue (after a failover) is a replacement, never an older state.
      if (
        t === lastTime &&
        sameSources(message, cover.last) &&
        ((sameValues(message, cover.last) && (!message.closed || cover.last.closed)) ||
          message.bar.trades < cover.last.bar.trades)
      ) {
        return true;
      }
      this.cover = null;
      return false;
    }
    if (t > lastTime) return false;
    const known = findBar(cover.bars, t);
    return known !== undefined && sameView(message, known);
  }
}

function findBar(bars: readonly BarView[], time: number): BarView | undefined {
  let lo = 0;
  let hi = bars.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const view = bars[mid] as BarView;
    if (view.bar.time === time) return view;
    if (view.bar.time < time) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Built by the same venues; a bar of unknown provenance (no sources recorded) counts as the same. */
function sameSources(a: BarView, b: BarView): boolean {
  if (a.sources.length === 0 || b.sources.length === 0) return true;
  return a.sources.length === b.sources.length && a.sources.every((v, i) => v === b.sources[i]);
}

/** Same bar, same state: every field a client sees, except the sources list. */
export function sameView(a: BarView, b: BarView): boolean {
  return a.closed === b.closed && sameValues(a, b);
}

/** Same bar with the same prices, volumes and trade count, whether or not either is final. */
function sameValues(a: BarView, b: BarView): boolean {
  const x = a.bar;
  const y = b.bar;
  return (
    x.time === y.time &&
    x.trades === y.trades &&
    compare(x.close, y.close) === 0 &&
    compare(x.volume, y.volume) === 0 &&
    compare(x.high, y.high) === 0 &&
    compare(x.low, y.low) === 0 &&
    compare(x.open, y.open) === 0 &&
    compare(x.quoteVolume, y.quoteVolume) === 0
  );
}
