/**
 * What the client keeps per subscription (a candle series, a venue's ticker, the alerts feed, the account): a
 * room. The client owns the socket and routes each message to its room by key; a room knows how to (re)subscribe
 * on a fresh connection, how to fold messages into its state, and how to refresh itself over HTTP while the
 * client polls.
 */
import type { HttpApi } from './http-api.ts';

/** A message from the gateway, parsed; fields are read by the room that owns it. */
export type WireMessage = { readonly type: string } & Readonly<Record<string, unknown>>;

export interface RoomContext {
  /** Sends a message on the socket when it is open (dropped otherwise: the next connection resubscribes). */
  send(message: object): void;
  now(): number;
  readonly http: HttpApi;
  /** Whether the client polls now: a poll that answers after the socket came back must not overwrite it. */
  polling(): boolean;
}

export interface Room {
  readonly key: string;
  /** The messages that subscribe the room on a fresh connection (after a reconnect: repair what was missed). */
  subscribeMessages(): readonly object[];
  /** The messages that leave the room on the gateway. */
  unsubscribeMessages(): readonly object[];
  receive(message: WireMessage): void;
  /** An `error` the gateway sent about this room. */
  receiveError(error: { readonly code: string; readonly message: string }): void;
  /** The socket closed: the data is kept, marked not live. */
  disconnected(): void;
  /** Refreshes the room over HTTP (polling); resolves once done, rejects with a TickwireHttpError. */
  poll(): Promise<void>;
  /** Marks the room's data as coming from polling (`live: false`). */
  readonly pollable: boolean;
}
