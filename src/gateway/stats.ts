import type { ErrorCode } from '../domain/errors.ts';

/** One room in /health/ws-stats (the original API's shape). */
export interface RoomStats {
  readonly key: string;
  readonly clientCount: number;
  readonly hasCandle: boolean;
  /** Time (ms since epoch) of the room's last sent message; null before the first. */
  readonly lastBroadcast: number | null;
}

/** Counters the gateway keeps since start (the `gateway` key of /health/ws-stats, a Tickwire addition). */
export interface GatewayCounters {
  connectionsOpened: number;
  messagesReceived: number;
  /** Error messages sent to clients, by catalogue code. */
  errorsByCode: Partial<Record<ErrorCode, number>>;
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
  /** Clients closed with 4008 because their send buffer passed maxBufferedBytes. */
  droppedSlowClients: number;
  /** Clients terminated because they did not answer the previous heartbeat ping. */
  terminatedByHeartbeat: number;
  /** Clients closed with 4029 for flooding. */
  closedForFlooding: number;
  /** Clients closed with 1009 for a frame over maxPayloadBytes. */
  closedForOversizedFrame: number;
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
  readonly gateway: Readonly<GatewayCounters> & Readonly<MarketCounters> & Readonly<AlertCounters>;
}

export function newCounters(): GatewayCounters {
  return {
    connectionsOpened: 0,
    messagesReceived: 0,
    errorsByCode: {},
    initialsSent: 0,
    partialInitialsSent: 0,
    initialsRefilled: 0,
    updatesBroadcast: 0,
    revisionsBroadcast: 0,
    droppedSlowClients: 0,
    terminatedByHeartbeat: 0,
    closedForFlooding: 0,
    closedForOversizedFrame: 0,
    badBusMessages: 0,
  };
}
