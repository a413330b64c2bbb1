/**
 * The client's account: every account channel of its token (docs/PROTOCOL.md, "Account channels"), each kept by
 * an AccountChannelState (snapshots replace, changes apply by `seq`, a gap sends `resync`), combined into one
 * AccountViewState. While the client polls, the state comes from `GET /api/account/state` (every channel's
 * snapshot in one answer).
 */
import type {
  AccountChannel,
  AccountJson,
  DashboardJson,
  FillJson,
  OrderJson,
  PerformanceJson,
  PositionJson,
} from '../protocol/account-messages.ts';
import { AccountChannelState } from './account-deltas.ts';
import type { Room, RoomContext, WireMessage } from './room.ts';
import type { AccountViewState } from './types.ts';
import { Store } from './view-store.ts';

export const ACCOUNT_CHANNEL_NAMES: readonly AccountChannel[] = [
  'dashboard',
  'account',
  'performance',
  'positions',
  'orders',
  'trades',
];

/** `GET /api/account/state` (docs/PROTOCOL.md, "Account endpoints"): each channel's whole state, lists as arrays. */
interface AccountStateAnswer {
  readonly account: string;
  readonly venue: string;
  readonly channels: Partial<Record<AccountChannel, unknown>>;
}

export class AccountRoom implements Room {
  readonly key = 'account';
  readonly pollable = true;
  readonly store = new Store<AccountViewState>({
    authenticated: false,
    positions: new Map(),
    orders: new Map(),
    fills: [],
    live: false,
  });
  private readonly channels = new Map<AccountChannel, AccountChannelState>(
    ACCOUNT_CHANNEL_NAMES.map((channel) => [channel, new AccountChannelState(channel)]),
  );
  /** Resyncs asked for (after a seq gap), for the tests and the curious. */
  resyncs = 0;

  constructor(private readonly context: RoomContext) {}

  subscribeMessages(): readonly object[] {
    for (const channel of this.channels.values()) channel.expectSnapshot();
    return ACCOUNT_CHANNEL_NAMES.map((channel) => ({ type: 'subscribe', channel }));
  }

  unsubscribeMessages(): readonly object[] {
    return ACCOUNT_CHANNEL_NAMES.map((channel) => ({ type: 'unsubscribe', channel }));
  }

  /** The token was accepted (`authenticated`). */
  authenticated(account: string, venue: string, tokenExpiresAt: number | null): void {
    const { error: _error, ...state } = this.store.get();
    this.store.set({ ...state, account, venue, authenticated: true, tokenExpiresAt });
  }

  /** A refused or missing token, or a gateway without accounts. */
  receiveError(error: { readonly code: string; readonly message: string }): void {
    const state = this.store.get();
    // A refused `auth` is followed by AUTH_REQUIRED for each account subscribe that waited on it: keep the reason.
    if (error.code === 'AUTH_REQUIRED' && state.error !== undefined && !state.authenticated) return;
    // A refused renewal leaves the connection on its current token (until its expiry closes it with 4440).
    const stillAuthenticated =
      state.authenticated && error.code !== 'AUTH_EXPIRED' && error.code !== 'ACCOUNTS_UNAVAILABLE';
    this.store.set({
      ...state,
      authenticated: stillAuthenticated,
      error: { code: error.code, message: error.message },
    });
  }

  receive(message: WireMessage): void {
    const channel = this.channels.get(message.channel as AccountChannel);
    if (channel === undefined || typeof message.seq !== 'number' || typeof message.snapshot !== 'boolean')
      return;
    const outcome = channel.apply({
      channel: channel.channel,
      seq: message.seq,
      snapshot: message.snapshot,
      data: message.data,
    });
    if (outcome === 'gap') {
      this.resyncs++;
      this.context.send({ type: 'resync', channel: channel.channel });
      return;
    }
    if (outcome === 'applied') this.publish(true);
  }

  disconnected(): void {
    const state = this.store.get();
    if (state.live) this.store.set({ ...state, live: false });
  }

  async poll(): Promise<void> {
    const answer = await this.context.http.get<AccountStateAnswer>('/api/account/state', {}, true);
    if (!this.context.polling()) return;
    for (const [name, state] of Object.entries(answer.channels)) {
      const channel = this.channels.get(name as AccountChannel);
      if (channel === undefined || state === undefined) continue;
      const data = Array.isArray(state) ? { upsert: state, remove: [] } : state;
      channel.apply({ channel: channel.channel, seq: 0, snapshot: true, data });
      // The next socket connection starts with fresh snapshots; polled seqs are not a base for its changes.
      channel.expectSnapshot();
    }
    const { error: _error, ...state } = this.store.get();
    this.store.set({ ...state, account: answer.account, venue: answer.venue, authenticated: true });
    this.publish(false);
  }

  private publish(live: boolean): void {
    const get = (name: AccountChannel): AccountChannelState => this.channels.get(name) as AccountChannelState;
    const state = this.store.get();
    const dashboard = get('dashboard').object as DashboardJson | undefined;
    const summary = get('account').object as AccountJson | undefined;
    const performance = get('performance').object as PerformanceJson | undefined;
    this.store.set({
      ...state,
      ...(dashboard ? { dashboard } : {}),
      ...(summary ? { summary } : {}),
      ...(performance ? { performance } : {}),
      positions: new Map(get('positions').items as Map<string, PositionJson>),
      orders: new Map(get('orders').items as Map<string, OrderJson>),
      fills: [...(get('trades').items.values() as Iterable<FillJson>)].sort((a, b) => a.time - b.time),
      live,
    });
  }
}
