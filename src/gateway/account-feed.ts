import type { AccountChange, AccountHub, AccountView } from '../account/contract.ts';
import type { Fill } from '../domain/account.ts';
import { encodeAccountMessage, type AccountChannel, type FillJson } from '../protocol/account-messages.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { listDelta, mergePatch, type JsonObject, type Keyed } from './account-delta.ts';
import {
  accountJson,
  dashboardJson,
  fillJson,
  orderJson,
  performanceJson,
  positionJson,
} from './account-json.ts';
import type { ClientSink } from './channel.ts';

export interface AccountFeedOptions {
  readonly hub: AccountHub;
  readonly clock: Clock;
  /** A feed sends at most one message per channel per this period (leading edge); 0: every change at once. */
  readonly throttleMs: number;
  /** Fills the `trades` snapshot holds (the newest). */
  readonly recentFills: number;
  readonly logger: Logger;
}

type ObjectChannel = 'dashboard' | 'account' | 'performance';
type ListChannel = 'positions' | 'orders';

/**
 * One account's channels in one gateway: the state each channel last sent, its `seq`, and its members. Changes
 * of the account (the hub's) are sent at the pace of `throttleMs`: each flush compares every channel's new state
 * with the one it last sent and sends the difference, once encoded, to every member, with the next `seq`. A
 * member that joins gets the last sent state as a snapshot with the current `seq`, so snapshot and changes fit
 * together with nothing missed or repeated. `trades` only grows: a flush sends the fills new since the last; its
 * snapshot holds the newest `recentFills`.
 */
export class AccountFeed {
  private readonly members = new Map<AccountChannel, Set<ClientSink>>();
  private readonly seq: Record<AccountChannel, number> = {
    dashboard: 0,
    account: 0,
    positions: 0,
    orders: 0,
    trades: 0,
    performance: 0,
  };
  private objects: Record<ObjectChannel, JsonObject>;
  private lists: Record<ListChannel, Map<string, Keyed>>;
  /** The newest fills, oldest first, by fillId. */
  private readonly fills = new Map<string, FillJson>();
  private pendingFills: Fill[] = [];
  private view: AccountView | undefined;
  private timer: Timer | undefined;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(
    readonly accountId: string,
    private readonly options: AccountFeedOptions,
  ) {
    this.view = options.hub.view(accountId);
    this.objects = this.objectStates();
    this.lists = this.listStates();
    this.unsubscribe = options.hub.subscribe(accountId, (change) => this.onChange(change));
    // The stored history fills the `trades` snapshot; they reach current members as a change.
    options.hub.fills(accountId, { limit: options.recentFills }).then(
      (fills) => {
        if (this.stopped) return;
        this.pendingFills.unshift(...fills);
        this.schedule();
      },
      (err: unknown) =>
        options.logger.warn({ err, account: accountId }, 'gateway: account fills unavailable'),
    );
  }

  /** Adds `sink` to `channel` (or renews it) and sends it the snapshot. */
  join(sink: ClientSink, channel: AccountChannel): void {
    let set = this.members.get(channel);
    if (set === undefined) this.members.set(channel, (set = new Set()));
    set.add(sink);
    sink.send(this.encode(channel, true, this.snapshotData(channel)));
  }

  leave(sink: ClientSink, channel: AccountChannel): void {
    this.members.get(channel)?.delete(sink);
  }

  /** The state the channels last sent, as a client holds it after applying everything (tests compare). */
  state(channel: AccountChannel): unknown {
    return this.snapshotData(channel);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private onChange(change: AccountChange): void {
    this.view = change.view;
    if (change.newFills.length > 0) this.pendingFills.push(...change.newFills);
    this.schedule();
  }

  /** Leading edge: a change after a quiet period is sent at once, a sooner one when the period is over. */
  private schedule(): void {
    if (this.timer !== undefined || this.stopped) return;
    const { clock, throttleMs } = this.options;
    const wait = this.lastFlush + throttleMs - clock.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    this.lastFlush = this.options.clock.now();
    const objects = this.objectStates();
    for (const channel of ['dashboard', 'account', 'performance'] as const) {
      const patch = mergePatch(this.objects[channel], objects[channel]);
      if (patch !== undefined) this.broadcast(channel, patch);
    }
    this.objects = objects;
    const lists = this.listStates();
    for (const channel of ['positions', 'orders'] as const) {
      const delta = listDelta(this.lists[channel], lists[channel]);
      if (delta !== undefined) this.broadcast(channel, delta);
    }
    this.lists = lists;
    const added = this.takeNewFills();
    if (added.length > 0) this.broadcast('trades', { upsert: added, remove: [] });
  }

  /** Pending fills not yet known, oldest first; kept in `fills`, which is trimmed to the newest. */
  private takeNewFills(): FillJson[] {
    const pending = this.pendingFills;
    this.pendingFills = [];
    const added: FillJson[] = [];
    for (const fill of [...pending].sort((a, b) => a.time - b.time)) {
      if (this.fills.has(fill.fillId)) continue;
      const json = fillJson(fill);
      this.fills.set(fill.fillId, json);
      added.push(json);
    }
    if (added.length > 0) {
      const ordered = [...this.fills.values()].sort((a, b) => a.time - b.time);
      this.fills.clear();
      for (const f of ordered.slice(-this.options.recentFills)) this.fills.set(f.fillId, f);
    }
    return added;
  }

  private broadcast(channel: AccountChannel, data: unknown): void {
    this.seq[channel]++;
    const members = this.members.get(channel);
    if (members === undefined || members.size === 0) return;
    const payload = Buffer.from(this.encode(channel, false, data));
    for (const sink of members) sink.send(payload);
  }

  private encode(channel: AccountChannel, snapshot: boolean, data: unknown): string {
    const now = this.options.clock.now();
    return encodeAccountMessage(channel, this.accountId, this.seq[channel], snapshot, data, now);
  }

  private snapshotData(channel: AccountChannel): unknown {
    switch (channel) {
      case 'dashboard':
      case 'account':
      case 'performance':
        return this.objects[channel];
      case 'positions':
      case 'orders':
        return { upsert: [...this.lists[channel].values()], remove: [] };
      case 'trades':
        return { upsert: [...this.fills.values()], remove: [] };
    }
  }

  private objectStates(): Record<ObjectChannel, JsonObject> {
    const view = this.view;
    if (view === undefined) return { dashboard: {}, account: {}, performance: {} };
    return {
      dashboard: dashboardJson(view) as unknown as JsonObject,
      account: accountJson(view) as unknown as JsonObject,
      performance: performanceJson(view) as unknown as JsonObject,
    };
  }

  private listStates(): Record<ListChannel, Map<string, Keyed>> {
    const view = this.view;
    const positions = new Map<string, Keyed>();
    const orders = new Map<string, Keyed>();
    for (const p of view?.positions ?? []) {
      const json = positionJson(p);
      positions.set(json.key, json);
    }
    for (const o of view?.openOrders ?? []) {
      const json = orderJson(o);
      orders.set(json.key, json);
    }
    return { positions, orders };
  }
}
