import { CANDLE_CHANNEL } from '../bus/bus.ts';
import { candleMessageSeries, decodeCandleUpdate } from '../bus/candle-message.ts';
import type { CandleUpdate } from '../domain/candle.ts';
import type { ErrorCode } from '../domain/errors.ts';
import { bucketEnd, type Interval } from '../domain/interval.ts';
import {
  historyUnavailableText,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from '../protocol/client-messages.ts';
import { encodeBar, encodeError, encodeInitialOfBars, type BarView } from '../protocol/server-messages.ts';
import { IncompleteHistoryError, type CandleStore, type StoredCandle } from '../store/candle-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock } from '../util/clock.ts';
import { fanOutTurns, mainThreadTurns, type TurnBudget } from '../util/turn-budget.ts';
import type { BusIntake } from './bus-intake.ts';
import type { Channel, ClientSink } from './channel.ts';
import type { ClientErrors } from './client-errors.ts';
import { HistoryLoadWait, type HistoryLoadOptions, type HistoryLoadSource } from './history-loading.ts';
import { HistoryRefill, type HistoryRetryOptions } from './history-refill.ts';
import { RoomHistory } from './room-history.ts';
import { Room } from './room.ts';
import type { CandleCounters, RoomStats } from './stats.ts';
import { Subscription } from './subscription.ts';
import { IMMEDIATE, TickScheduler } from './tick-scheduler.ts';
import { releaseCorked } from './tick-writes.ts';

export interface CandleRoomsOptions {
  readonly store: CandleStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly errors: ClientErrors;
  /** A room sends at most one `update` per this period (`gateway.throttleMs`). */
  readonly throttleMs: number;
  /** The newest bar of history counts as closed once its interval plus this grace has passed. */
  readonly closeGraceMs: number;
  /** The feed's status, from which start-up history is judged still loading. */
  readonly historyStatus: HistoryLoadSource;
  /** How a partial `initial` sent while start-up history loads polls the status. */
  readonly historyLoad?: HistoryLoadOptions;
  /** How often a partial `initial` retries the history store. */
  readonly historyRetry?: HistoryRetryOptions;
  /** Given every candle update taken from the bus, decoded, before any room sends it. */
  readonly onCandle?: (update: CandleUpdate) => void;
  /** Told which series a room holds (the in-process composite then publishes only those). */
  readonly localCandles?: LocalCandleSource;
  /** The budget a store read's bars are encoded under (default the main thread's, src/util/turn-budget.ts). */
  readonly turns?: TurnBudget;
  /** The budget a tick's writes are released under (default the fan-out's, src/gateway/tick-writes.ts). */
  readonly writeTurns?: TurnBudget;
}

/**
 * The composite's candle stream when it runs in the gateway's process on the in-process bus (`tickwire all` without
 * Redis): it publishes only the series a room holds, so the rooms say which. A room's `initial` comes from the store
 * as always, and the store has every update before it would have been published.
 */
export interface LocalCandleSource {
  /** A room of `symbol` and `interval` opened (`watched`) or closed. */
  watch(symbol: string, interval: Interval, watched: boolean): void;
}

type CandleSubscription = Subscription<ClientSink>;
type CandleRoom = Room<CandleSubscription>;

/** The last `initial` a room sent, reused while it would be the same bytes (a subscribe burst). */
interface InitialCache {
  readonly stored: readonly StoredCandle[];
  readonly partialReason: ErrorCode | undefined;
  readonly newestClosed: boolean;
  readonly views: readonly BarView[];
  readonly payload: Buffer;
}

/** Bar counts whose `initial` a room keeps (clients mostly ask for the default count or a few others). */
const INITIALS_PER_ROOM = 8;

/**
 * Bars of a store read encoded in one task of the turn budget: printing a bar's exact decimals takes a few µs, so
 * 1,000 bars encoded in one go held the loop for 10–25 ms, and a burst of reads answered together for the sum.
 */
const ENCODE_SLICE = 100;

/** Encoded bar texts of one stored bar, by closed flag (stored bars are never changed in place, only replaced). */
interface BarTexts {
  closed?: string;
  open?: string;
}

/**
 * The candle channel: a room per (symbol, interval) fed by the bus, `initial` history from the store on
 * subscribe, and at most one `update` per room per throttle period (TickScheduler), without ever dropping a bar's
 * final state. Each room message is serialized once for all members, and a client's messages of one tick leave
 * in one socket write.
 */
export class CandleRooms implements Channel<SubscribeMessage, UnsubscribeMessage> {
  readonly subscribeType = 'subscribe';
  readonly unsubscribeType = 'unsubscribe';
  readonly counters: CandleCounters = {
    initialsSent: 0,
    partialInitialsSent: 0,
    initialsRefilled: 0,
    updatesBroadcast: 0,
    revisionsBroadcast: 0,
    unchangedBarsSkipped: 0,
    initialsFromMemory: 0,
    storeReadsShared: 0,
    updatesMerged: 0,
  };
  private readonly rooms = new Map<string, CandleRoom>();
  /** Each client's subscriptions by room key. */
  private readonly byClient = new Map<ClientSink, Map<string, CandleSubscription>>();
  private readonly scheduler: TickScheduler<CandleRoom>;
  private readonly historyRefill: HistoryRefill<CandleSubscription>;
  private readonly historyLoad: HistoryLoadWait<CandleSubscription>;
  /**
   * Each stored bar's encoded text, so that a subscribe burst encodes a bar once, not once per `initial` (exact
   * decimals are costly to print). Weak: a bar the store has replaced or dropped leaves the cache with it.
   */
  private readonly barTexts = new WeakMap<StoredCandle, BarTexts>();
  /**
   * Each room's last `initial` per bar count: the same bars (the same stored objects) in the same state give the
   * same bytes, so a subscribe burst shares one payload (and one WebSocket frame) per room and bar count, even
   * when clients ask for different counts. At most INITIALS_PER_ROOM counts per room, the oldest dropped first.
   */
  private readonly lastInitials = new WeakMap<CandleRoom, Map<number, InitialCache>>();
  private readonly turns: TurnBudget;
  private readonly writeTurns: TurnBudget;

  constructor(private readonly options: CandleRoomsOptions) {
    const { clock, logger } = options;
    this.turns = options.turns ?? mainThreadTurns;
    this.writeTurns = options.writeTurns ?? fanOutTurns;
    this.scheduler = new TickScheduler<CandleRoom>(
      options.throttleMs,
      (batch) => this.flush(batch),
      (room) => room.hasPending && room.members.size > 0,
      clock,
      // A bar that changes once a second (a quiet market) gets every change on time again soon after a stall.
      true,
    );
    this.historyRefill = new HistoryRefill<CandleSubscription>(
      options.historyRetry,
      (err, attempt, waiting) =>
        logger.debug(
          { err, attempt, waiting },
          'gateway: history store still unavailable; partial initials wait',
        ),
      clock,
    );
    this.historyLoad = new HistoryLoadWait<CandleSubscription>(
      options.historyStatus,
      options.historyLoad,
      clock,
    );
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  /** True while `symbol`'s start-up history is still loading (/api/candles marks its answer partial then). */
  isHistoryLoading(symbol: string): boolean {
    return this.historyLoad.isLoading(symbol);
  }

  *roomStats(): Iterable<RoomStats> {
    for (const room of this.rooms.values()) {
      yield {
        key: room.key,
        clientCount: room.members.size,
        hasCandle: room.hasReceivedBar,
        lastBroadcast: room.lastBroadcast,
      };
    }
  }

  listen(intake: BusIntake): () => void {
    return intake.take(CANDLE_CHANNEL, 'candle', (message) => {
      // Without a mirror to feed, an update of a series no room holds is not decoded at all.
      if (!this.options.onCandle) {
        const series = candleMessageSeries(message);
        if (series !== undefined && !this.rooms.has(series)) return;
      }
      const update = decodeCandleUpdate(message);
      this.options.onCandle?.(update);
      const room = this.rooms.get(`${update.symbol}:${update.interval}`);
      if (!room) return;
      this.push(room, update, this.updatesHeldApart(room));
      this.scheduler.schedule(room);
    });
  }

  /** Gives the room one update, counting the pending states it merged. */
  private push(room: CandleRoom, update: CandleUpdate, heldApart = 1): void {
    const mergedBefore = room.merged;
    room.push(update, heldApart);
    this.counters.updatesMerged += room.merged - mergedBefore;
  }

  /**
   * How many pending updates a room may hold apart rather than merge (Room.push). A room due to tick by now (in
   * this turn's batch, or its timer overdue: a blocked loop reads the bus's backlog before timers fire) holds one
   * per tick the throttle has owed since its last tick, at least two: a state the data changed to once a period
   * is then never replaced before it was sent. Any other room merges (newest wins): the data changed within the
   * period.
   */
  private updatesHeldApart(room: CandleRoom): number {
    const due = room.dueAt;
    const now = this.options.clock.now();
    if (due === null || (due !== IMMEDIATE && due > now)) return 1;
    const periods = Math.floor((now - room.lastTickAt) / this.options.throttleMs);
    return 1 + (Number.isFinite(periods) ? Math.max(1, periods) : 1);
  }

  holds(client: ClientSink, msg: SubscribeMessage): boolean {
    return this.byClient.get(client)?.has(`${msg.symbol}:${msg.interval}`) === true;
  }

  subscriptionCount(client: ClientSink): number {
    return this.byClient.get(client)?.size ?? 0;
  }

  encodeError(code: ErrorCode, message: string, msg: SubscribeMessage): string {
    return encodeError(code, message, { symbol: msg.symbol, interval: msg.interval });
  }

  subscribe(client: ClientSink, msg: SubscribeMessage): void {
    const key = `${msg.symbol}:${msg.interval}`;
    let held = this.byClient.get(client);
    let sub = held?.get(key);
    if (!sub) {
      let room = this.rooms.get(key);
      if (!room) {
        room = new Room<CandleSubscription>(msg.symbol, msg.interval);
        this.rooms.set(key, room);
        // Before the history read: every update stored after it is published to the room.
        this.options.localCandles?.watch(msg.symbol, msg.interval, true);
      }
      sub = new Subscription(client, room);
      room.members.add(sub);
      if (!held) {
        held = new Map();
        this.byClient.set(client, held);
      }
      held.set(key, sub);
    }
    // Joined before reading history: whatever the room sends from now on is held until `initial` is out.
    // A new subscribe answers for itself: an earlier partial initial no longer waits for its refill.
    this.historyRefill.remove(sub);
    this.historyLoad.remove(sub);
    const generation = sub.beginLoading();
    if (msg.initialBars === 0) {
      this.completeInitial(sub, generation, []);
      return;
    }
    this.loadInitial(sub, generation, msg.initialBars, false);
  }

  unsubscribe(client: ClientSink, msg: UnsubscribeMessage): void {
    const sub = this.byClient.get(client)?.get(`${msg.symbol}:${msg.interval}`);
    if (sub) this.remove(sub);
  }

  leaveAll(client: ClientSink): void {
    const held = this.byClient.get(client);
    if (held) for (const sub of [...held.values()]) this.remove(sub);
  }

  /**
   * Re-sends every open room's newest bars from the store (after the bus lost messages): the bar in progress as
   * an update, the one before it as its final state. Rooms drop what their clients already have.
   */
  async resync(): Promise<void> {
    const { store, clock, logger, closeGraceMs } = this.options;
    const open = [...this.rooms.values()].filter((room) => room.members.size > 0);
    let bars = 0;
    for (const room of open) {
      // The bus lost messages: the room's history in memory may miss them, so the store answers again.
      room.history = null;
      let stored: StoredCandle[];
      try {
        stored = await store.recent(room.symbol, room.interval, 2);
      } catch (err) {
        logger.warn({ err, room: room.key }, 'gateway: resync could not read the store');
        continue;
      }
      const at = clock.now();
      stored.forEach((s, i) => {
        const newest = i === stored.length - 1;
        const closed = !newest || at >= bucketEnd(room.interval, s.bar.time) + closeGraceMs;
        this.push(room, {
          symbol: room.symbol,
          interval: room.interval,
          state: closed ? 'closed' : 'live',
          bar: s.bar,
          sources: s.sources,
          backfilled: s.backfilled === true,
        });
        bars++;
      });
      this.scheduler.schedule(room);
    }
    logger.info({ rooms: open.length, bars }, 'gateway: rooms resynced from the store');
  }

  stop(): void {
    this.scheduler.stop();
    this.historyRefill.stop();
    this.historyLoad.stop();
  }

  private remove(sub: CandleSubscription): void {
    sub.end();
    this.historyRefill.remove(sub);
    this.historyLoad.remove(sub);
    const room = sub.room;
    const held = this.byClient.get(sub.sink);
    held?.delete(room.key);
    if (held?.size === 0) this.byClient.delete(sub.sink);
    room.members.delete(sub);
    if (room.members.size === 0) {
      this.scheduler.cancel(room);
      this.rooms.delete(room.key);
      this.options.localCandles?.watch(room.symbol, room.interval, false);
    }
  }

  private flush(batch: readonly CandleRoom[]): void {
    const corked: ClientSink[] = [];
    const at = this.options.clock.now();
    for (const room of batch) {
      const skippedBefore = room.unchangedSkipped;
      const messages = room.tick(at);
      this.counters.unchangedBarsSkipped += room.unchangedSkipped - skippedBefore;
      for (const m of messages) {
        if (m.kind === 'update') this.counters.updatesBroadcast++;
        else this.counters.revisionsBroadcast++;
      }
      if (messages.length === 0) continue;
      for (const sub of room.members) {
        if (sub.sink.cork()) corked.push(sub.sink);
        for (const m of messages) sub.offer(m);
      }
    }
    releaseCorked(this, corked, this.writeTurns);
  }

  private barViews(room: CandleRoom, bars: readonly StoredCandle[]): { views: BarView[]; texts: string[] } {
    const at = this.options.clock.now();
    const grace = this.options.closeGraceMs;
    const views: BarView[] = [];
    const texts: string[] = [];
    for (let i = 0; i < bars.length; i++) {
      const stored = bars[i] as StoredCandle;
      const { bar, sources, backfilled } = stored;
      // History has no state: all but the newest bar are final; the newest is final once the stream said so or
      // its interval plus the close grace has passed.
      const closed = i < bars.length - 1 || this.isClosed(room, bar.time, at, grace);
      const view = { bar, closed, sources, backfilled: backfilled === true };
      views.push(view);
      texts.push(this.barText(stored, view));
    }
    return { views, texts };
  }

  private isClosed(room: CandleRoom, time: number, at: number, grace: number): boolean {
    return room.isKnownClosed(time) || at >= bucketEnd(room.interval, time) + grace;
  }

  /** The encoded text of a stored bar's view, encoded once per stored bar and closed flag. */
  private barText(stored: StoredCandle, view: BarView): string {
    let texts = this.barTexts.get(stored);
    if (!texts) {
      texts = {};
      this.barTexts.set(stored, texts);
    }
    const known = view.closed ? texts.closed : texts.open;
    if (known !== undefined) return known;
    const text = encodeBar(view);
    if (view.closed) texts.closed = text;
    else texts.open = text;
    return text;
  }

  /**
   * Encodes the bars of a store read, all but the newest (which is closed or not when `initial` is sent), into the
   * text cache a slice at a time under the turn budget, so that sending `initial` then only joins their texts.
   * Bars the cache holds already (memory's, a shared read's) cost a lookup each.
   */
  private readonly encodeAhead = async (bars: StoredCandle[]): Promise<StoredCandle[]> => {
    await this.turns.inSlices(this, bars.length - 1, ENCODE_SLICE, (start, end) => {
      for (let i = start; i < end; i++) {
        const stored = bars[i] as StoredCandle;
        const { bar, sources } = stored;
        this.barText(stored, { bar, closed: true, sources, backfilled: stored.backfilled === true });
      }
    });
    return bars;
  };

  /** Sends `initial` (marked partial when `partialReason` is given) and the room's messages held meanwhile. */
  private completeInitial(
    sub: CandleSubscription,
    generation: number,
    bars: StoredCandle[],
    partialReason?: ErrorCode,
  ): void {
    // A subscription of a client that is closing has ended, so it is no longer current either.
    if (!sub.isCurrent(generation)) return;
    const room = sub.room;
    const newest = bars[bars.length - 1];
    const newestClosed =
      newest !== undefined &&
      this.isClosed(room, newest.bar.time, this.options.clock.now(), this.options.closeGraceMs);
    let initials = this.lastInitials.get(room);
    if (!initials) {
      initials = new Map();
      this.lastInitials.set(room, initials);
    }
    let initial = initials.get(bars.length);
    if (
      initial === undefined ||
      initial.partialReason !== partialReason ||
      initial.newestClosed !== newestClosed ||
      !sameObjects(initial.stored, bars)
    ) {
      const { views, texts } = this.barViews(room, bars);
      const text = encodeInitialOfBars(room.symbol, room.interval, texts, partialReason);
      initial = { stored: bars, partialReason, newestClosed, views, payload: Buffer.from(text) };
      initials.delete(bars.length);
      initials.set(bars.length, initial);
      if (initials.size > INITIALS_PER_ROOM) initials.delete(initials.keys().next().value as number);
    }
    this.counters.initialsSent++;
    if (partialReason !== undefined) this.counters.partialInitialsSent++;
    sub.complete(initial.payload, initial.views);
  }

  /**
   * Reads `initialBars` of history and sends `initial`. When it cannot be the whole history, `initial` is marked
   * partial and the subscription waits to be refilled: it loads `initial` anew, the same way as a subscribe (the
   * room's messages held while it loads), so the whole history and the stream fit together without a gap or a
   * repeat.
   * - The store cannot answer the whole window (its database failed): the client gets HISTORY_UNAVAILABLE and
   *   the bars memory holds; `historyRefill` retries the store.
   * - The instrument's start-up history is still loading: the client gets the bars the store holds so far, with
   *   reason HISTORY_LOADING; `historyLoad` watches the feed's status until it says the history has loaded.
   */
  private loadInitial(
    sub: CandleSubscription,
    generation: number,
    initialBars: number,
    refilling: boolean,
  ): void {
    const { store, logger, errors } = this.options;
    const { symbol, interval } = sub.room;
    const refill = (): void => {
      if (!sub.isActive) return;
      this.loadInitial(sub, sub.beginLoading(), initialBars, true);
    };
    // Judged before the read: history that finishes loading during the read is then refilled, never missed.
    const loading = this.historyLoad.isLoading(symbol);
    const room = sub.room;
    if (!loading && room.history?.covers(initialBars) === true) {
      if (refilling) this.counters.initialsRefilled++;
      this.counters.initialsFromMemory++;
      this.completeInitial(sub, generation, room.history.recent(initialBars));
      return;
    }
    // A read of the same count begun while the stream has brought nothing since holds what a read now would: a
    // subscribe burst shares it (one read, one decoding, and the same bars give one payload). Once the stream has
    // moved, what it sent meanwhile is neither in that read nor held for this subscription: a read of its own. So
    // too when the start-up history finished loading since: that read may hold only part of it.
    let read = room.reads.get(initialBars);
    if (read?.received !== room.received || read.loading !== loading) {
      const bars = store.recent(symbol, interval, initialBars).then(this.encodeAhead);
      const started = { received: room.received, loading, bars };
      room.reads.set(initialBars, started);
      const done = (): void => {
        if (room.reads.get(initialBars) === started) room.reads.delete(initialBars);
      };
      started.bars.then(done, done);
      read = started;
    } else {
      this.counters.storeReadsShared++;
    }
    const receivedBefore = read.received;
    read.bars
      .then(
        (bars) => {
          // Fewer bars than asked is the whole series: kept in memory, current with the room's stream, when the
          // stream brought nothing during the read (the read then holds everything the stream has said).
          if (
            !loading &&
            bars.length < initialBars &&
            room.received === receivedBefore &&
            this.rooms.get(room.key) === room
          ) {
            room.history = new RoomHistory(bars);
          }
          if (!sub.isCurrent(generation)) return;
          if (loading) {
            this.completeInitial(sub, generation, bars, 'HISTORY_LOADING');
            this.historyLoad.add(sub, symbol, refill);
            return;
          }
          if (refilling) this.counters.initialsRefilled++;
          this.completeInitial(sub, generation, bars);
        },
        (err: unknown) => {
          if (!sub.isCurrent(generation)) return;
          const available = err instanceof IncompleteHistoryError ? err.available : [];
          logger.warn(
            { err, symbol, interval, available: available.length },
            'gateway: history read failed; initial is partial until the store answers',
          );
          const about = { symbol, interval };
          const text = historyUnavailableText(symbol, interval);
          errors.send(sub.sink, 'HISTORY_UNAVAILABLE', encodeError('HISTORY_UNAVAILABLE', text, about));
          this.completeInitial(sub, generation, available, 'HISTORY_UNAVAILABLE');
          this.historyRefill.add(sub, { probe: () => store.recent(symbol, interval, initialBars), refill });
        },
      )
      .catch((err: unknown) => logger.error({ err }, 'gateway: sending initial failed'));
  }
}

/** Whether two lists hold the very same stored bars (stored bars are replaced, never changed in place). */
function sameObjects(a: readonly StoredCandle[], b: readonly StoredCandle[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
