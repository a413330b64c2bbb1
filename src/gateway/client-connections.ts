import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Config } from '../config/config.ts';
import type { ErrorCode } from '../domain/errors.ts';
import {
  parseClientMessage,
  rateLimitedText,
  tooManySubscriptionsText,
  type ClientMessage,
  type ProtocolRules,
} from '../protocol/client-messages.ts';
import { CLOSE_CODES } from '../protocol/close-codes.ts';
import { encodeError, PONG_TEXT } from '../protocol/server-messages.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { waitAtMost } from '../util/wait-at-most.ts';
import type { Channel } from './channel.ts';
import { ClientConnection } from './client-connection.ts';
import type { ClientErrors } from './client-errors.ts';
import { pathOf } from './request-url.ts';
import type { ConnectionCounters } from './stats.ts';

export interface ClientConnectionsOptions {
  readonly limits: Pick<
    Config['gateway'],
    | 'maxPayloadBytes'
    | 'maxMessagesPerSecond'
    | 'maxBufferedBytes'
    | 'heartbeatMs'
    | 'maxSubscriptionsPerConnection'
  >;
  /** What a client message is checked against. */
  readonly rules: ProtocolRules;
  /** Every channel a client can subscribe to; a client message goes to the one whose type it has. */
  readonly channels: readonly Channel[];
  readonly errors: ClientErrors;
  readonly clock: Clock;
  readonly logger: Logger;
}

const PONG = Buffer.from(PONG_TEXT);
const WS_PATHS = new Set(['/', '/ws']);
/** How long close() waits for clients to answer the 1001 close before cutting them off. */
const CLOSE_WAIT_MS = 1000;

type Handler = (client: ClientConnection, msg: ClientMessage) => void;

/**
 * The WebSocket clients of one gateway: the upgrade, each connection's message limit, parsing and dispatch of
 * client messages to the channels, the subscription limit (counted over every channel), the heartbeat (ping,
 * mark alive on pong, terminate the ones that did not answer), slow consumers and the close on shutdown.
 */
export class ClientConnections {
  readonly counters: ConnectionCounters = {
    connectionsOpened: 0,
    messagesReceived: 0,
    droppedSlowClients: 0,
    terminatedByHeartbeat: 0,
    closedForFlooding: 0,
    closedForOversizedFrame: 0,
  };
  /** Messages and bytes handed to client sockets since start (GET /metrics). */
  readonly sent = { messagesSent: 0, bytesSent: 0 };
  private readonly clients = new Set<ClientConnection>();
  private readonly handlers = new Map<ClientMessage['type'], Handler>();
  private readonly wss: WebSocketServer;
  private readonly heartbeatTimer: Timer;
  private nextClientId = 1;
  private closing = false;

  constructor(private readonly options: ClientConnectionsOptions) {
    for (const channel of options.channels) {
      this.handlers.set(channel.subscribeType, (client, msg) => this.subscribe(channel, client, msg));
      this.handlers.set(channel.unsubscribeType, (client, msg) => channel.unsubscribe(client, msg));
    }
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.limits.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.heartbeatTimer = options.clock.setInterval(() => this.heartbeat(), options.limits.heartbeatMs);
  }

  /** Open connections. */
  get size(): number {
    return this.clients.size;
  }

  /** Connections holding at least one subscription. */
  get subscribedCount(): number {
    let n = 0;
    for (const client of this.clients) if (this.subscriptionCount(client) > 0) n++;
    return n;
  }

  /** Takes an HTTP upgrade: a WebSocket on `/` and `/ws`, 404 elsewhere; refused once closing. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.options.logger.debug({ err }, 'gateway: socket error during upgrade'));
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (!WS_PATHS.has(pathOf(req.url))) {
      const body = '{"error":"Not found"}';
      socket.end(
        `HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, socket));
  }

  /** Closes every client with 1001 (cut off after CLOSE_WAIT_MS), stops the heartbeat and takes no new ones. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.options.clock.clearTimer(this.heartbeatTimer);
    const closed: Promise<void>[] = [];
    for (const client of this.clients) {
      closed.push(new Promise((resolve) => client.ws.once('close', () => resolve())));
      this.closeClient(client, CLOSE_CODES.GOING_AWAY, 'server shutting down');
    }
    await waitAtMost(Promise.all(closed), CLOSE_WAIT_MS, this.options.clock);
    for (const client of this.clients) client.ws.terminate();
    await new Promise<void>((resolve) => {
      this.wss.close(() => resolve());
    });
  }

  private onConnection(ws: WebSocket, socket: Duplex): void {
    const { limits, logger } = this.options;
    const client = new ClientConnection(
      this.nextClientId++,
      ws,
      socket,
      limits.maxMessagesPerSecond,
      limits.maxBufferedBytes,
      (slow) => this.onSlow(slow),
      this.sent,
    );
    this.clients.add(client);
    this.counters.connectionsOpened++;
    ws.on('message', (data, isBinary) => {
      try {
        this.onMessage(client, data, isBinary);
      } catch (err) {
        logger.error({ err, client: client.id }, 'gateway: message handling failed');
      }
    });
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.counters.closedForOversizedFrame++;
      logger.debug({ err, client: client.id }, 'gateway: client connection error');
    });
    ws.on('close', () => {
      client.closing = true;
      this.detach(client);
      this.clients.delete(client);
    });
  }

  private onMessage(client: ClientConnection, data: RawData, isBinary: boolean): void {
    if (client.closing) return;
    const { limits, rules, clock } = this.options;
    this.counters.messagesReceived++;
    switch (client.limiter.hit(clock.now())) {
      case 'ok':
        break;
      case 'limited':
        this.sendError(client, 'RATE_LIMITED', rateLimitedText(limits.maxMessagesPerSecond));
        return;
      case 'ignored':
        return;
      case 'flooding':
        this.counters.closedForFlooding++;
        this.closeClient(client, CLOSE_CODES.FLOODING, 'rate limit exceeded');
        return;
    }
    if (isBinary) {
      this.sendError(client, 'INVALID_MESSAGE', 'Invalid message format');
      return;
    }
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    const parsed = parseClientMessage(text, rules);
    if (!parsed.ok) {
      this.sendError(client, parsed.error.code, parsed.error.message);
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'ping') client.send(PONG);
    else this.handlers.get(msg.type)?.(client, msg);
  }

  /** The one subscription limit: a subscribe that would add one past the limit is refused, on any channel. */
  private subscribe(channel: Channel, client: ClientConnection, msg: ClientMessage): void {
    const max = this.options.limits.maxSubscriptionsPerConnection;
    if (!channel.holds(client, msg) && this.subscriptionCount(client) >= max) {
      const code = 'TOO_MANY_SUBSCRIPTIONS';
      this.options.errors.send(client, code, channel.encodeError(code, tooManySubscriptionsText(max), msg));
      return;
    }
    channel.subscribe(client, msg);
  }

  private subscriptionCount(client: ClientConnection): number {
    let n = 0;
    for (const channel of this.options.channels) n += channel.subscriptionCount(client);
    return n;
  }

  private sendError(client: ClientConnection, code: ErrorCode, message: string): void {
    this.options.errors.send(client, code, encodeError(code, message));
  }

  private detach(client: ClientConnection): void {
    for (const channel of this.options.channels) channel.leaveAll(client);
  }

  private closeClient(client: ClientConnection, code: number, reason: string): void {
    if (client.closing) return;
    client.closing = true;
    this.detach(client);
    client.ws.close(code, reason);
  }

  private onSlow(client: ClientConnection): void {
    this.counters.droppedSlowClients++;
    this.options.logger.info(
      { client: client.id, buffered: client.ws.bufferedAmount },
      'gateway: slow client closed',
    );
    this.closeClient(client, CLOSE_CODES.SLOW_CONSUMER, 'slow consumer');
  }

  private heartbeat(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        this.counters.terminatedByHeartbeat++;
        client.closing = true;
        this.detach(client);
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      try {
        client.ws.ping();
      } catch (err) {
        this.options.logger.debug({ err, client: client.id }, 'gateway: ping failed');
      }
    }
  }
}
