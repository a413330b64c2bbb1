import type { IncomingMessage } from 'node:http';
import type { AccountHub } from '../account/contract.ts';
import type { ErrorCode } from '../domain/errors.ts';
import {
  ACCOUNT_CHANNELS,
  encodeAccountError,
  encodeAccountSubscribed,
  encodeAuthenticated,
  type AccountChannel,
} from '../protocol/account-messages.ts';
import type {
  AccountSubscribeMessage,
  AccountUnsubscribeMessage,
  AuthMessage,
} from '../protocol/client-messages.ts';
import { CLOSE_CODES } from '../protocol/close-codes.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { AccountFeed } from './account-feed.ts';
import type { AccountAuth } from './auth.ts';
import { AUTH_TEXTS, type AuthVerdict, type Grant } from './auth-verdict.ts';
import type { Channel, ClientSink } from './channel.ts';
import type { ClientErrors } from './client-errors.ts';
import { pathOf, queryOf } from './request-url.ts';
import type { RoomStats } from './stats.ts';

/** The upgrade path of seed 003's dashboard socket: every account channel subscribed at once. */
export const DASHBOARD_PATH = '/ws/dashboard';

/** Longest delay a timer takes (setTimeout's limit); a later expiry is re-checked then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface AccountChannelsOptions {
  /** The accounts' state; without it every account request is answered ACCOUNTS_UNAVAILABLE. */
  readonly hub: AccountHub | undefined;
  readonly auth: AccountAuth | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly errors: ClientErrors;
  /** See AccountFeedOptions. */
  readonly throttleMs: number;
  readonly recentFills: number;
  /** Subscribes a `/ws/dashboard` client to the alerts channel (every alert it may see). */
  readonly joinAlerts: (client: ClientSink) => void;
}

/**
 * Closes a client with a close code (the connections part does it, so that its bookkeeping follows); one function
 * for every connection, so that a connection without a session costs no closure.
 */
export type CloseConnection<C extends ClientSink = ClientSink> = (
  client: C,
  code: number,
  reason: string,
) => void;

/** Closes the one client of a session. */
type CloseClient = (code: number, reason: string) => void;

/** What the gateway knows about one connection's account. */
interface Session {
  /** Set once a token was accepted. */
  grant: Grant | undefined;
  /** A token being checked: account messages wait for its verdict, in order. */
  pending: Promise<void> | undefined;
  expiry: Timer | undefined;
  readonly close: CloseClient;
}

/**
 * The private account channels of one gateway (docs/PROTOCOL.md, "Account channels"), and who each connection
 * is: a token sent as `?token=` on the upgrade or in an `auth` message authenticates the connection for its
 * account; account subscribes need it and see that account only. The connection is closed with 4440 when its
 * token expires (a timer per authenticated connection, on the gateway's clock). A bad token on the upgrade closes
 * the connection with 4401; a bad `auth` message is answered with an error and the connection stays (its public
 * channels keep working). Only a connection that sent a token has a session: one that never does costs nothing here.
 */
export class AccountChannels implements Channel<AccountSubscribeMessage, AccountUnsubscribeMessage> {
  readonly subscribeType = 'account-subscribe';
  readonly unsubscribeType = 'account-unsubscribe';
  readonly paths = [DASHBOARD_PATH];
  private readonly sessions = new Map<ClientSink, Session>();
  private readonly subscriptions = new Map<ClientSink, Set<AccountChannel>>();
  private readonly feeds = new Map<string, AccountFeed>();

  constructor(private readonly options: AccountChannelsOptions) {}

  /** Whether any token can be accepted: an account hub, configured accounts, and a secret or static tokens. */
  private get enabled(): boolean {
    return this.options.hub !== undefined && this.options.auth?.enabled === true;
  }

  /** Connections holding a session: those that sent a token and are still open. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The account `client` is authenticated for, if any (the alerts channel sends it that account's alerts). */
  accountOf(client: ClientSink): string | undefined {
    return this.sessions.get(client)?.grant?.account;
  }

  /**
   * A new connection: its `?token=` is checked; on /ws/dashboard a token is required and subscribes all. A
   * connection with neither gets no session here (most connections never authenticate): its first `auth` makes it.
   */
  opened<C extends ClientSink>(client: C, req: IncomingMessage, close: CloseConnection<C>): void {
    const url = req.url;
    // Most upgrades carry no query: the token is looked for only where there is one.
    const token = url?.includes('?') === true ? (queryOf(url).get('token') ?? undefined) : undefined;
    const dashboard = pathOf(url) === DASHBOARD_PATH;
    if (token === undefined && !dashboard) return;
    if (!this.enabled) {
      this.sendError(client, 'ACCOUNTS_UNAVAILABLE', AUTH_TEXTS.unavailable);
      close(client, CLOSE_CODES.UNAUTHORIZED, 'unauthorized');
      return;
    }
    const session = this.startSession(client, close);
    this.check(client, session, token, (verdict) => {
      if (!verdict.ok) {
        this.sendError(client, verdict.code, verdict.message);
        session.close(CLOSE_CODES.UNAUTHORIZED, 'unauthorized');
        return;
      }
      this.grant(client, session, verdict);
      if (!dashboard) return;
      for (const channel of ACCOUNT_CHANNELS) this.join(client, session, channel);
      this.options.joinAlerts(client);
    });
  }

  /** An `auth` message: authenticates the connection, or renews its token (same account only). */
  auth<C extends ClientSink>(client: C, msg: AuthMessage, close: CloseConnection<C>): void {
    // Answered at once where no token can be accepted: in order with the replies to the client's other messages.
    if (!this.enabled) {
      this.sendError(client, 'ACCOUNTS_UNAVAILABLE', AUTH_TEXTS.unavailable);
      return;
    }
    const session = this.sessions.get(client) ?? this.startSession(client, close);
    this.check(client, session, msg.token, (verdict) => {
      if (!verdict.ok) {
        this.sendError(client, verdict.code, verdict.message);
        return;
      }
      if (session.grant !== undefined && session.grant.account !== verdict.account) {
        this.sendError(
          client,
          'ACCOUNT_FORBIDDEN',
          `This connection is authenticated for account ${session.grant.account}; open another one for ${verdict.account}.`,
        );
        return;
      }
      this.grant(client, session, verdict);
    });
  }

  holds(client: ClientSink, msg: AccountSubscribeMessage): boolean {
    return this.subscriptions.get(client)?.has(msg.channel) ?? false;
  }

  subscriptionCount(client: ClientSink): number {
    return this.subscriptions.get(client)?.size ?? 0;
  }

  subscribe(client: ClientSink, msg: AccountSubscribeMessage): void {
    // No session: the connection never sent a token, and is answered at once.
    const session = this.sessions.get(client);
    const go = (): void => {
      if (this.sessions.get(client) !== session) return;
      if (session?.grant === undefined) {
        const enabled = this.enabled;
        const code: ErrorCode = enabled ? 'AUTH_REQUIRED' : 'ACCOUNTS_UNAVAILABLE';
        this.sendError(client, code, enabled ? AUTH_TEXTS.required : AUTH_TEXTS.unavailable, msg.channel);
        return;
      }
      this.join(client, session, msg.channel);
    };
    // Sent right after `auth` or on a `?token=` connection: answered once the token is judged.
    if (session?.pending) void session.pending.then(go);
    else go();
  }

  unsubscribe(client: ClientSink, msg: AccountUnsubscribeMessage): void {
    const session = this.sessions.get(client);
    const go = (): void => {
      const account = session?.grant?.account;
      this.subscriptions.get(client)?.delete(msg.channel);
      if (account !== undefined) this.feeds.get(account)?.leave(client, msg.channel);
    };
    if (session?.pending) void session.pending.then(go);
    else go();
  }

  encodeError(code: ErrorCode, message: string, msg: AccountSubscribeMessage): string {
    return encodeAccountError(code, message, msg.channel);
  }

  /** Disconnected: its subscriptions, session and expiry timer go (a connection without a token has none). */
  leaveAll(client: ClientSink): void {
    const session = this.sessions.get(client);
    if (session === undefined) return;
    this.sessions.delete(client);
    this.options.clock.clearTimer(session.expiry);
    const account = session.grant?.account;
    const channels = this.subscriptions.get(client);
    this.subscriptions.delete(client);
    if (account === undefined || channels === undefined) return;
    for (const channel of channels) this.feeds.get(account)?.leave(client, channel);
  }

  get roomCount(): number {
    return 0;
  }

  roomStats(): Iterable<RoomStats> {
    return [];
  }

  /** Account changes come from the hub, not the bus. */
  listen(): () => void {
    return () => {};
  }

  stop(): void {
    for (const feed of this.feeds.values()) feed.stop();
    this.feeds.clear();
    for (const session of this.sessions.values()) this.options.clock.clearTimer(session.expiry);
  }

  /** The feed of one account (made on first use), for the channels and for tests. */
  feed(account: string): AccountFeed | undefined {
    const hub = this.options.hub;
    if (hub === undefined || !hub.accounts().some((a) => a.id === account)) return undefined;
    let feed = this.feeds.get(account);
    if (feed === undefined) {
      const { clock, throttleMs, recentFills, logger } = this.options;
      feed = new AccountFeed(account, { hub, clock, throttleMs, recentFills, logger });
      this.feeds.set(account, feed);
    }
    return feed;
  }

  /** The session of a connection that sent a token (on the upgrade or in its first `auth`). */
  private startSession<C extends ClientSink>(client: C, close: CloseConnection<C>): Session {
    const session: Session = {
      grant: undefined,
      pending: undefined,
      expiry: undefined,
      close: (code, reason) => close(client, code, reason),
    };
    this.sessions.set(client, session);
    return session;
  }

  /** Judges `token` and calls `then` with the verdict; account messages meanwhile wait for it. */
  private check(
    client: ClientSink,
    session: Session,
    token: string | undefined,
    then: (verdict: AuthVerdict) => void,
  ): void {
    const auth = this.options.auth;
    const verdict: Promise<AuthVerdict> =
      this.options.hub === undefined || auth === undefined
        ? Promise.resolve({ ok: false, code: 'ACCOUNTS_UNAVAILABLE', message: AUTH_TEXTS.unavailable })
        : auth.verify(token);
    // Verdicts are taken in the order the tokens came, and account messages sent meanwhile wait for the last.
    const run = (session.pending ?? Promise.resolve())
      .then(() => verdict)
      .then(
        (v) => {
          if (this.sessions.get(client) === session) then(v);
        },
        (err: unknown) => this.options.logger.error({ err }, 'gateway: token check failed'),
      );
    session.pending = run;
    void run.then(() => {
      if (session.pending === run) session.pending = undefined;
    });
  }

  /** Accepts a token: answers `authenticated` and arms the expiry timer (replacing a renewed token's). */
  private grant(client: ClientSink, session: Session, grant: Grant): void {
    session.grant = grant;
    this.options.clock.clearTimer(session.expiry);
    session.expiry = undefined;
    const venue = this.options.hub?.accounts().find((a) => a.id === grant.account)?.venue ?? '';
    client.send(encodeAuthenticated(grant.account, venue, grant.expiresAt));
    if (grant.expiresAt !== undefined) this.armExpiry(client, session, grant.expiresAt);
  }

  private armExpiry(client: ClientSink, session: Session, expiresAt: number): void {
    const { clock } = this.options;
    const wait = Math.min(Math.max(0, expiresAt - clock.now()), MAX_TIMER_MS);
    session.expiry = clock.setTimeout(() => {
      session.expiry = undefined;
      if (this.sessions.get(client) !== session) return;
      if (clock.now() < expiresAt) {
        this.armExpiry(client, session, expiresAt);
        return;
      }
      this.sendError(client, 'AUTH_EXPIRED', AUTH_TEXTS.expired);
      session.close(CLOSE_CODES.TOKEN_EXPIRED, 'token expired');
    }, wait);
  }

  private join(client: ClientSink, session: Session, channel: AccountChannel): void {
    const account = session.grant?.account;
    const feed = account === undefined ? undefined : this.feed(account);
    if (account === undefined || feed === undefined) return;
    let set = this.subscriptions.get(client);
    if (set === undefined) this.subscriptions.set(client, (set = new Set()));
    set.add(channel);
    client.send(encodeAccountSubscribed(channel, account));
    feed.join(client, channel);
  }

  private sendError(client: ClientSink, code: ErrorCode, message: string, channel?: AccountChannel): void {
    this.options.errors.send(client, code, encodeAccountError(code, message, channel));
  }
}
