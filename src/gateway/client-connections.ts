import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Config } from '../config/config.ts';
import type { ErrorCode } from '../domain/errors.ts';
import {
  parseClientMessage,
  rateLimitedText,
  type AuthMessage,
  tooManySubscriptionsText,
  type ClientMessage,
  type ProtocolRules,
} from '../protocol/client-messages.ts';
import { CLOSE_CODES } from '../protocol/close-codes.ts';
import { encodeError, PONG_TEXT } from '../protocol/server-messages.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock } from '../util/clock.ts';
import { clientInputTurns, type TurnBudget } from '../util/turn-budget.ts';
import { waitAtMost } from '../util/wait-at-most.ts';
import type { Channel } from './channel.ts';
import { ClientConnection, type ConnectionSettings, type ReceivedMessage } from './client-connection.ts';
import type { ClientErrors } from './client-errors.ts';
import type { ConnectionAdmission } from './connection-admission.ts';
import { HeartbeatSweep } from './heartbeat-sweep.ts';
import type { HistoryBudget } from './history-budget.ts';
import { LoopStalls } from './loop-stalls.ts';
import { pathOf } from './request-url.ts';
import type { ConnectionCounters } from './stats.ts';

export interface ClientConnectionsOptions {
  readonly limits: Pick<
    Config['gateway'],
    | 'maxPayloadBytes'
    | 'maxMessagesPerSecond'
    | 'maxBufferedBytes'
    | 'maxQueuedBytes'
    | 'heartbeatMs'
    | 'maxSubscriptionsPerConnection'
    | 'perMessageDeflate'
  >;
  /** Which upgrades are taken: allowed origins, connections in total and per client address. */
  readonly admission: ConnectionAdmission;
  /** The history bars each connection and client address may ask for per second. */
  readonly historyBudget: HistoryBudget;
  /** What a client message is checked against. */
  readonly rules: ProtocolRules;
  /** Every channel a client can subscribe to; a client message goes to the one whose type it has. */
  readonly channels: readonly Channel[];
  readonly errors: ClientErrors;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The account side (src/gateway/account-channels.ts): who each connection is. */
  readonly accounts?: ConnectionHooks;
  /** The turn budget handshakes and client messages are handled under (default `clientInputTurns`). */
  readonly inputTurns?: TurnBudget;
}

/** Hook points for the account side: extra upgrade paths, each new connection, and `auth` messages. */
export interface ConnectionHooks {
  /** Upgrade paths taken besides `/` and `/ws`. */
  readonly paths: readonly string[];
  /** A connection opened: its upgrade request (path, `?token=`), and how to close it with a code. */
  opened(client: ClientConnection, req: IncomingMessage, close: CloseConnection): void;
  auth(client: ClientConnection, msg: AuthMessage, close: CloseConnection): void;
}

/** Closes a connection with a code: one function for every connection, the hooks keep none of their own. */
type CloseConnection = (client: ClientConnection, code: number, reason: string) => void;

const PONG = Buffer.from(PONG_TEXT);
const WS_PATHS = new Set(['/', '/ws']);
/** How long close() waits for clients to answer the 1001 close before cutting them off. */
const CLOSE_WAIT_MS = 1000;
/**
 * permessage-deflate when `gateway.perMessageDeflate` is on. Messages under 1 KiB (updates, trades, tickers) are
 * sent as they are: compressing them would cost CPU for every client and save little; `initial` history, books
 * and snapshots are compressed. No context takeover: each message is compressed on its own, so the gateway keeps
 * no compression window per connection between messages. Level 1 (fastest): on a 1,000-bar `initial` it saves
 * about as much as zlib's default level 6 (224 KB to 25 KB against 22 KB) for a tenth of the CPU.
 */
const PER_MESSAGE_DEFLATE = {
  threshold: 1024,
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  zlibDeflateOptions: { level: 1 },
} as const;

type Handler = (client: ClientConnection, msg: ClientMessage) => void;

/**
 * The WebSocket clients of one gateway: the upgrade, each connection's message limit, parsing and dispatch of
 * client messages to the channels, the subscription limit (counted over every channel), the heartbeat (ping,
 * mark alive on pong, terminate the ones that did not answer; spread over its interval), slow consumers and the
 * close on shutdown.
 *
 * An idle connection costs little: the listeners on its WebSocket are the same four functions for every
 * connection (they find the connection by its WebSocket), its settings are one shared object, and its rate
 * limiter and history budget are made on first use.
 *
 * Handshakes and client messages are handled under a turn budget (`inputTurns`): at once while the event loop's
 * turn has budget left, in the next turns otherwise, in arrival order. A burst of thousands of clients connecting
 * and subscribing together then never holds the loop for the whole burst, and the clients already connected get
 * their updates meanwhile. A client's messages of one socket read are handled together, so that their replies
 * leave in one write.
 */
export class ClientConnections {
  readonly counters: ConnectionCounters = {
    connectionsOpened: 0,
    messagesReceived: 0,
    droppedSlowClients: 0,
    sendQueueDropped: 0,
    terminatedByHeartbeat: 0,
    closedForFlooding: 0,
    closedForOversizedFrame: 0,
  };
  /** Messages and bytes handed to client sockets since start (GET /metrics). */
  readonly sent = { messagesSent: 0, bytesSent: 0 };
  /** Open connections by their WebSocket (the shared listeners' way to their connection). */
  private readonly clients = new Map<WebSocket, ClientConnection>();
  private readonly handlers = new Map<ClientMessage['type'], Handler>();
  private readonly wss: WebSocketServer;
  private readonly heartbeat: HeartbeatSweep<ClientConnection>;
  private readonly settings: ConnectionSettings;
  /** The listeners of every client's WebSocket (`this` is the WebSocket that emitted). */
  private readonly wsListeners: {
    readonly message: (this: WebSocket, data: RawData, isBinary: boolean) => void;
    readonly pong: (this: WebSocket) => void;
    readonly error: (this: WebSocket, err: Error & { code?: string }) => void;
    readonly close: (this: WebSocket) => void;
  };
  /** Logs a socket error during the upgrade (one listener for every socket). */
  private readonly onUpgradeSocketError: (err: Error) => void;
  /** Server stalls, which the message limit does not charge to the clients whose frames they bunched. */
  private readonly loopStalls: LoopStalls;
  private readonly inputTurns: TurnBudget;
  private nextClientId = 1;
  private closing = false;
  /** How the account hooks close a connection (4401, 4440). */
  private readonly closeForHooks: CloseConnection = (client, code, reason) =>
    this.closeClient(client, code, reason);

  constructor(private readonly options: ClientConnectionsOptions) {
    for (const channel of options.channels) {
      this.handlers.set(channel.subscribeType, (client, msg) => this.subscribe(channel, client, msg));
      this.handlers.set(channel.unsubscribeType, (client, msg) => channel.unsubscribe(client, msg));
    }
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.limits.maxPayloadBytes,
      // Negotiated per client: one that does not offer the extension is sent plain frames.
      perMessageDeflate: options.limits.perMessageDeflate ? PER_MESSAGE_DEFLATE : false,
      clientTracking: false,
    });
    this.heartbeat = new HeartbeatSweep(options.clock, options.limits.heartbeatMs, {
      ping: (client) => this.ping(client),
      dead: (client) => this.terminateDead(client),
    });
    this.loopStalls = new LoopStalls(options.clock);
    const { limits, logger } = options;
    this.settings = {
      maxMessagesPerSecond: limits.maxMessagesPerSecond,
      maxBufferedBytes: limits.maxBufferedBytes,
      maxQueuedBytes: limits.maxQueuedBytes,
      events: {
        onSlow: (slow) => this.onSlow(slow),
        onConflated: () => {
          this.counters.sendQueueDropped++;
        },
      },
      sent: this.sent,
    };
    this.onUpgradeSocketError = (err) => logger.debug({ err }, 'gateway: socket error during upgrade');
    const clients = this.clients;
    const inputTurns = (this.inputTurns = options.inputTurns ?? clientInputTurns);
    /** Handles the messages a client sent since its input was last handled, in order, their replies in one write. */
    const handleInput = (client: ClientConnection): void => {
      const input = client.input;
      client.input = undefined;
      if (input === undefined || client.closing) return;
      client.corkForThisRead();
      for (const message of input) {
        try {
          this.handleMessage(client, message);
        } catch (err) {
          logger.error({ err, client: client.id }, 'gateway: message handling failed');
        }
      }
    };
    const queueInput = (client: ClientConnection): void => inputTurns.run(client, () => handleInput(client));
    const { clock } = options;
    const counters = this.counters;
    const onMessage = (client: ClientConnection, data: RawData, isBinary: boolean): void => {
      if (client.closing) return;
      counters.messagesReceived++;
      // The message limit counts each message when it is read, so what waits for its turn is bounded: a refused
      // message waits only to be answered in order, one past the flood line is the last kept.
      const now = clock.now();
      const verdict = client.hitRateLimit(now, this.loopStalls.recentStallMs(now));
      if (verdict === 'ignored') return;
      const message: ReceivedMessage = { data, isBinary, verdict };
      const input = client.input;
      if (input !== undefined) {
        // Its turn is coming: this message joins the ones waiting, unless the connection is to close for flooding.
        if (input[input.length - 1]?.verdict !== 'flooding') input.push(message);
        return;
      }
      client.input = [message];
      // ws emits the messages of one socket read in one callback: they are all read before the next tick.
      process.nextTick(queueInput, client);
    };
    const onClose = (client: ClientConnection): void => {
      client.closing = true;
      this.detach(client);
      clients.delete(client.ws);
      this.heartbeat.delete(client);
      this.options.admission.release(client.address);
    };
    this.wsListeners = {
      message(data, isBinary) {
        const client = clients.get(this);
        if (client) onMessage(client, data, isBinary);
      },
      pong() {
        const client = clients.get(this);
        if (client) client.alive = true;
      },
      error(err) {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') counters.closedForOversizedFrame++;
        logger.debug({ err, client: clients.get(this)?.id }, 'gateway: client connection error');
      },
      close() {
        const client = clients.get(this);
        if (client) onClose(client);
      },
    };
  }

  /** Open connections. */
  get size(): number {
    return this.clients.size;
  }

  /** Connections holding at least one subscription. */
  get subscribedCount(): number {
    let n = 0;
    for (const client of this.clients.values()) if (this.subscriptionCount(client) > 0) n++;
    return n;
  }

  /**
   * Takes an HTTP upgrade: a WebSocket on `/` and `/ws`, 404 elsewhere; refused once closing, and refused with
   * 403, 429 or 503 when the connection admission says so (origin, connections per address, in total).
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', this.onUpgradeSocketError);
    if (this.closing) {
      socket.destroy();
      return;
    }
    const path = pathOf(req.url);
    if (!WS_PATHS.has(path) && !(this.options.accounts?.paths.includes(path) ?? false)) {
      refuseUpgrade(socket, 404, '{"error":"Not found"}');
      return;
    }
    const admission = this.options.admission.admit(req);
    if (!admission.ok) {
      const { status, code, message } = admission;
      this.options.logger.debug({ status, code, origin: req.headers.origin }, 'gateway: upgrade refused');
      refuseUpgrade(socket, status, JSON.stringify({ error: { code, message } }));
      return;
    }
    // The place is held from the upgrade on (a handshake waiting for its turn or in progress counts) until the
    // socket closes; an open connection gives it back when its WebSocket closes (the close listener). Node stops
    // reading an upgraded socket until it is handed on, so nothing the client sends is lost while it waits.
    const { address } = admission;
    const release = (): void => this.options.admission.release(address);
    socket.once('close', release);
    this.inputTurns.run(socket, () => {
      if (this.closing) {
        socket.destroy();
        return;
      }
      // ws completes or refuses the handshake before handleUpgrade returns; a refused one's socket is closing (and
      // a closed one's is destroyed), and gives the place back on close.
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        socket.removeListener('close', release);
        this.onConnection(ws, socket, address, req);
      });
    });
  }

  /** Closes every client with 1001 (cut off after CLOSE_WAIT_MS), stops the heartbeat and takes no new ones. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.heartbeat.stop();
    this.loopStalls.stop();
    const closed: Promise<void>[] = [];
    for (const client of this.clients.values()) {
      closed.push(new Promise((resolve) => client.ws.once('close', () => resolve())));
      this.closeClient(client, CLOSE_CODES.GOING_AWAY, 'server shutting down');
    }
    await waitAtMost(Promise.all(closed), CLOSE_WAIT_MS, this.options.clock);
    for (const client of this.clients.values()) client.ws.terminate();
    await new Promise<void>((resolve) => {
      this.wss.close(() => resolve());
    });
  }

  private onConnection(ws: WebSocket, socket: Duplex, address: string, req: IncomingMessage): void {
    const client = new ClientConnection(this.nextClientId++, ws, socket, address, this.settings);
    this.clients.set(ws, client);
    this.heartbeat.add(client);
    this.counters.connectionsOpened++;
    const listeners = this.wsListeners;
    ws.on('message', listeners.message);
    ws.on('pong', listeners.pong);
    ws.on('error', listeners.error);
    ws.on('close', listeners.close);
    this.options.accounts?.opened(client, req, this.closeForHooks);
  }

  private handleMessage(client: ClientConnection, { data, isBinary, verdict }: ReceivedMessage): void {
    if (client.closing) return;
    const { limits, rules } = this.options;
    switch (verdict) {
      case 'ok':
        break;
      case 'limited':
        this.sendError(client, 'RATE_LIMITED', rateLimitedText(limits.maxMessagesPerSecond));
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
    else if (msg.type === 'auth') this.options.accounts?.auth(client, msg, this.closeForHooks);
    else this.handlers.get(msg.type)?.(client, msg);
  }

  /**
   * The one subscription limit: a subscribe that would add one past the limit is refused, on any channel. Then
   * the history budget: a candle subscribe's `initialBars` are charged, and it is refused when over budget.
   */
  private subscribe(channel: Channel, client: ClientConnection, msg: ClientMessage): void {
    const max = this.options.limits.maxSubscriptionsPerConnection;
    if (!channel.holds(client, msg) && this.subscriptionCount(client) >= max) {
      const code = 'TOO_MANY_SUBSCRIPTIONS';
      this.options.errors.send(client, code, channel.encodeError(code, tooManySubscriptionsText(max), msg));
      return;
    }
    if (msg.type === 'subscribe' && msg.initialBars > 0) {
      const verdict = client.chargeHistory(this.options.historyBudget, msg.initialBars);
      if (!verdict.ok) {
        const code = 'HISTORY_BUDGET_EXCEEDED';
        this.options.errors.send(client, code, channel.encodeError(code, verdict.message, msg));
        return;
      }
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
    // Replies held for this turn go before the close frame (nothing may follow it).
    client.uncork();
    this.detach(client);
    client.ws.close(code, reason);
  }

  private onSlow(client: ClientConnection): void {
    this.counters.droppedSlowClients++;
    this.options.logger.info(
      { client: client.id, buffered: client.ws.bufferedAmount, queued: client.queued },
      'gateway: slow client closed',
    );
    this.closeClient(client, CLOSE_CODES.SLOW_CONSUMER, 'slow consumer');
  }

  private ping(client: ClientConnection): void {
    try {
      client.ws.ping();
    } catch (err) {
      this.options.logger.debug({ err, client: client.id }, 'gateway: ping failed');
    }
  }

  /** No pong since the previous ping: cut off without a close frame (docs/PROTOCOL.md, "Heartbeat"). */
  private terminateDead(client: ClientConnection): void {
    this.counters.terminatedByHeartbeat++;
    client.closing = true;
    this.detach(client);
    client.ws.terminate();
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Answers an upgrade with a plain HTTP error and a JSON body, and closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\nConnection: close\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
