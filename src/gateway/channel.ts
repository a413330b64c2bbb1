import type { ErrorCode } from '../domain/errors.ts';
import type { ClientMessage } from '../protocol/client-messages.ts';
import type { BusIntake } from './bus-intake.ts';
import type { RoomStats } from './stats.ts';

/** A client as the channels see it: where their bytes go. */
export interface ClientSink {
  /**
   * Sends one message. With `conflateKey` (the state of one bar, ticker or book), a newer message of the same
   * key replaces this one while it still waits in the client's send queue; without, it is never replaced.
   */
  send(payload: Buffer | string, conflateKey?: string): void;
  /** Holds writes until `uncork` (one socket write per tick); false when already corked. */
  cork(): boolean;
  uncork(): void;
}

/**
 * One kind of subscription a client can hold: candle rooms, the market channels, the alerts channel (and, next,
 * the private account channels). The connections part parses each client message and hands it to the channel
 * whose subscribe or unsubscribe `type` it has; the subscription limit of a connection, counted over every
 * channel, is checked there, once, before `subscribe` is called.
 */
export interface Channel<S extends ClientMessage = ClientMessage, U extends ClientMessage = ClientMessage> {
  /** The parsed `type` of this channel's subscribe. */
  readonly subscribeType: S['type'];
  /** The parsed `type` of this channel's unsubscribe. */
  readonly unsubscribeType: U['type'];
  /** Whether `client` already holds what `msg` asks for: a repeat replaces it, so it does not count anew. */
  holds(client: ClientSink, msg: S): boolean;
  /** Subscribes `client` (or renews its subscription) and sends what a subscribe is answered with. */
  subscribe(client: ClientSink, msg: S): void;
  unsubscribe(client: ClientSink, msg: U): void;
  /** An `error` about `msg` in this channel's shape (it names what was asked for). */
  encodeError(code: ErrorCode, message: string, msg: S): string;
  /** Subscriptions `client` holds here; each counts against maxSubscriptionsPerConnection. */
  subscriptionCount(client: ClientSink): number;
  /** Ends every subscription of `client` (it is disconnected or being closed): nothing more is sent to it. */
  leaveAll(client: ClientSink): void;
  /** Open rooms (each with at least one member), for /health/ws-stats. */
  readonly roomCount: number;
  roomStats(): Iterable<RoomStats>;
  /** Takes this channel's messages from the bus; returns what stops it. */
  listen(intake: BusIntake): () => void;
  /** Stops every timer (gateway shutdown). */
  stop(): void;
}
