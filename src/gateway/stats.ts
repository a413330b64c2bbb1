import type { ErrorCode } from '../domain/errors.ts';

/** One room in /health/ws-stats (the original API's shape). */
export interface RoomStats {
  readonly key: string;
  readonly clientCount: number;
  /**
   * The original API's name, kept on the wire. A candle room: it has received a bar from the stream. Any other
   * room (market channels, alerts): it has sent a message.
   */
  readonly hasCandle: boolean;
  /** Time (ms since epoch) of the room's last sent message; null before the first. */
  readonly lastBroadcast: number | null;
}

/** Counters of the client connections since start. */
export interface ConnectionCounters {
  connectionsOpened: number;
  messagesReceived: number;
  /** Clients closed with 4008 because their send queue passed maxQueuedBytes or their socket maxBufferedBytes. */
  droppedSlowClients: number;
  /** Queued messages replaced by a newer state of the same bar, ticker or book before a slow client read them. */
  sendQueueDropped: number;
  /** Clients terminated because they did not answer the previous heartbeat ping. */
  terminatedByHeartbeat: number;
  /** Clients closed with 4029 for flooding. */
  closedForFlooding: number;
  /** Clients closed with 1009 for a frame over maxPayloadBytes. */
  closedForOversizedFrame: number;
}

/** WebSocket upgrades refused since start, by reason (connection-admission.ts), merged into the `gateway` key. */
export interface AdmissionCounters {
  /** HTTP 403: the browser origin is not allowed. */
  refusedForOrigin: number;
  /** HTTP 429: the client address holds `maxConnectionsPerIp` connections. */
  refusedForConnectionsPerIp: number;
  /** HTTP 503: the gateway holds `maxConnections` connections. */
  refusedForMaxConnections: number;
}

/** Counters of the candle channel since start. */
export interface CandleCounters {
  initialsSent: number;
  /**
   * `initial` messages marked partial: the history store failed and only memory's bars were sent, or the
   * instrument's start-up history was still loading.
   */
  partialInitialsSent: number;
  /** Whole `initial` messages sent after a partial one, once the store answered again or the history loaded. */
  initialsRefilled: number;
  /** Room ticks that sent an update (once per room, whatever the member count). */
  updatesBroadcast: number;
  revisionsBroadcast: number;
  /** Room messages not sent because the bar's state was the one the room last sent. */
  unchangedBarsSkipped: number;
  /** `initial` messages answered from the room's history in memory, without a store read. */
  initialsFromMemory: number;
  /** `initial` messages answered by a store read another subscribe to the room began (a subscribe burst). */
  storeReadsShared: number;
  /**
   * Pending room states (an `update` or `revision` not yet sent) replaced by a newer state of their bar: what the
   * throttle's conflation merged, data changing faster than once a period.
   */
  updatesMerged: number;
}

/** Counters the gateway keeps since start (the `gateway` key of /health/ws-stats, a Tickwire addition). */
export interface GatewayCounters extends ConnectionCounters, CandleCounters {
  /** Error messages sent to clients, by catalogue code. */
  errorsByCode: Partial<Record<ErrorCode, number>>;
  /** Bus messages that could not be decoded (logged and skipped). */
  badBusMessages: number;
}

/** Market-channel counters (trades, ticker, book), merged into the `gateway` key. */
export interface MarketCounters {
  /** Room ticks that sent a `trades` / `ticker` / `book` message (once per room, whatever the member count). */
  tradesBroadcast: number;
  tickersBroadcast: number;
  booksBroadcast: number;
  /** Trades delivered into trades rooms (each trade counted once per room). */
  tradesRelayed: number;
}

/** Alerts-channel counters, merged into the `gateway` key. */
export interface AlertCounters {
  /** Alerts taken from the bus (repeated deliveries not counted). */
  alertsReceived: number;
  /** `alert` messages sent (one per alert and subscriber it passed). */
  alertsSent: number;
  /** Alerts ignored because their id had already been received. */
  duplicateAlerts: number;
}

/** GET /health/ws-stats and Gateway.stats(). */
export interface WsStats {
  readonly connections: number;
  readonly broadcaster: {
    readonly totalRooms: number;
    /** Connections with at least one subscription. */
    readonly totalClients: number;
    readonly rooms: readonly RoomStats[];
  };
  readonly aggregator: { readonly oneMinuteCandlesCount: number } & Readonly<Record<string, unknown>>;
  readonly gateway: Readonly<GatewayCounters> &
    Readonly<AdmissionCounters> &
    Readonly<MarketCounters> &
    Readonly<AlertCounters>;
}

/** The parts' counters as the `gateway` key lists them (the order /health/ws-stats has always had). */
export function gatewayCounters(
  connections: Readonly<ConnectionCounters>,
  candles: Readonly<CandleCounters>,
  errorsByCode: Readonly<Partial<Record<ErrorCode, number>>>,
  badBusMessages: number,
): GatewayCounters {
  return {
    connectionsOpened: connections.connectionsOpened,
    messagesReceived: connections.messagesReceived,
    errorsByCode: { ...errorsByCode },
    initialsSent: candles.initialsSent,
    partialInitialsSent: candles.partialInitialsSent,
    initialsRefilled: candles.initialsRefilled,
    updatesBroadcast: candles.updatesBroadcast,
    revisionsBroadcast: candles.revisionsBroadcast,
    unchangedBarsSkipped: candles.unchangedBarsSkipped,
    initialsFromMemory: candles.initialsFromMemory,
    storeReadsShared: candles.storeReadsShared,
    updatesMerged: candles.updatesMerged,
    droppedSlowClients: connections.droppedSlowClients,
    sendQueueDropped: connections.sendQueueDropped,
    terminatedByHeartbeat: connections.terminatedByHeartbeat,
    closedForFlooding: connections.closedForFlooding,
    closedForOversizedFrame: connections.closedForOversizedFrame,
    badBusMessages,
  };
}
