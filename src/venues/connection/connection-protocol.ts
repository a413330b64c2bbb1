/**
 * What a venue supplies to the connection runner (runner.ts): its URL, subscribe and login frames, a frame handler
 * that says what each frame was, its heartbeat rule, its outbound limits and an optional REST poll. The runner
 * supplies everything else.
 */
import type { VenueId } from '../../domain/instrument.ts';

/** How a venue keeps a connection alive. */
export type HeartbeatRule =
  /**
   * The server pings with protocol frames and the ws library answers (Binance). With `latencyPingMs` the client
   * also sends a protocol ping that often, to time the round trip: a server answers a ping frame with a pong
   * carrying its payload (RFC 6455, 5.5.2). A pong that does not come is no fault here (the server's own pings and
   * the silence watchdog judge the connection); the ping counts against the outbound message limit and waits for
   * the next beat when the limit has no room.
   */
  | { readonly kind: 'server-ping'; readonly latencyPingMs?: number }
  /**
   * The client sends `ping` as a text frame every `intervalMs` and the server answers `pong` (OKX "ping" within
   * 30 s, Bitget "ping" every 30 s). With `idleOnly` a ping is sent only when nothing arrived for `intervalMs`.
   * No pong within `timeoutMs` (default: `intervalMs`) recycles the connection.
   */
  | {
      readonly kind: 'text-ping';
      readonly ping: string;
      readonly pong: string;
      readonly intervalMs: number;
      readonly timeoutMs?: number;
      readonly idleOnly?: boolean;
    }
  /** The client sends protocol ping frames every `intervalMs` (dYdX); no pong within `timeoutMs` recycles. */
  | { readonly kind: 'ws-ping'; readonly intervalMs: number; readonly timeoutMs?: number };

/** A venue's outbound limits. Everything the runner sends (subscribes, pings, requests) goes through them. */
export interface VenueLimits {
  /** Outbound messages per second on one connection. Default 4 (under Binance's 5, which counts pongs too). */
  readonly messagesPerSecond?: number;
  /** Subscribe requests per hour on one connection (OKX: 480). Default unlimited. */
  readonly subscribesPerHour?: number;
  /** Largest outbound queue; a send beyond it is refused and counted. Default 10,000. */
  readonly maxQueue?: number;
  /**
   * Connection attempts allowed per window (Binance: 300 per 5 minutes per IP), enforced on top of the backoff so
   * immediate reconnects after venue recycles cannot add up past it. Default unlimited.
   */
  readonly connectAttempts?: { readonly count: number; readonly windowMs: number };
}

/** What one inbound frame was, as the venue's handler tells the runner. */
export type FrameOutcome =
  /** Market data of `symbol` (canonical), already handed to the stream handlers. Proves the connection healthy. */
  | { readonly kind: 'data'; readonly symbol: string }
  /** Acks, info and other frames that prove liveness but carry no data. */
  | { readonly kind: 'control' }
  /** A venue-level pong in a JSON frame (text pongs matching the heartbeat rule are recognised by the runner). */
  | { readonly kind: 'pong' }
  /** The venue refused a subscription; `resend`, when given, is sent again after a backoff delay. */
  | { readonly kind: 'rejected'; readonly message: string; readonly resend?: string }
  /** An error reply that is not a refused subscription. */
  | { readonly kind: 'error'; readonly message: string }
  /** The venue announced it will close this connection (Binance serverShutdown, OKX 64008): reconnect now. */
  | { readonly kind: 'recycle'; readonly reason: string }
  /** A frame the handler could not understand; counted, and logged once per `key`. */
  | { readonly kind: 'malformed'; readonly key: string; readonly reason: string }
  /** The venue accepted the login (private streams): the subscribe frames go out now. */
  | { readonly kind: 'loggedIn' }
  /**
   * The venue refused the login (bad key, signature, timestamp...). The connection is dropped and retried under
   * the login backoff, which is longer than the reconnect backoff so that a wrong key does not hammer the venue; a
   * refused login is no connectivity problem, so it does not count towards the polling fallback.
   */
  | { readonly kind: 'loginFailed'; readonly message: string };

/**
 * What one REST poll fetches. Market feeds use `full` (everything the stream would have carried) and `prices` (the
 * fast poll: tickers / latest trades); a fallback `schedule` may name its own kinds (account streams: positions,
 * orders, account).
 */
export type PollKind = string;

/** The venue-specific part of a connection. */
export interface ConnectionProtocol {
  readonly venue: VenueId;
  readonly heartbeat: HeartbeatRule;
  readonly limits?: VenueLimits;
  /** URL of the next connection attempt (read on every attempt). */
  url(): string;
  /** Names of the current subscriptions, for status. */
  subscriptions(): readonly string[];
  /** Canonical symbols whose staleness is watched. */
  symbols(): readonly string[];
  /**
   * Subscribe requests to send after each open, in order; they are paced by the venue's limits. With
   * `loginFrames`, they are sent only once `handleFrame` reports `loggedIn` on that connection.
   */
  subscribeFrames(): readonly string[];
  /**
   * How many subscribe requests sent on this connection the venue has neither confirmed nor refused. With it, a
   * connection whose subscribes stay unanswered for `subscribeAnswerTimeoutMs` after the last was sent is recycled
   * (ConnectionRunnerOptions).
   */
  unansweredSubscribes?(): number;
  /**
   * Private streams: the frames that log in, sent first after each open (read on every open, so that a signed
   * timestamp is fresh). Without an answer (`loggedIn` / `loginFailed`) within `loginTimeoutMs` the connection
   * counts as failed.
   */
  loginFrames?(): readonly string[];
  /**
   * Parses one text frame, hands its data to the stream handlers and says what it was. Must not throw; a throw is
   * counted as a malformed frame.
   */
  handleFrame(text: string, receivedAt: number): FrameOutcome;
  /** A new socket opened: reset per-connection parse state (buffers, message counters). */
  onOpen?(): void;
  /**
   * Fetches over REST what the stream would carry and hands it to the stream handlers (fallback mode). Must honour
   * `signal`: it is aborted when the socket is healthy again or the runner closes.
   */
  poll?(kind: PollKind, signal: AbortSignal): Promise<void>;
}
