import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CANDLE_CHANNEL, type Bus } from '../bus/bus.ts';
import { ALERT_CHANNEL, decodeAlert } from '../bus/alert-message.ts';
import { ALERT_LOG_LEVEL, newAlert, type AlertInput } from '../domain/alert.ts';
import { decodeCandleUpdate } from '../bus/candle-message.ts';
import {
  BOOK_CHANNEL,
  BOOK_SNAPSHOT_LEVELS,
  decodeBookSnapshot,
  decodeTicker,
  decodeTrades,
  TICKER_CHANNEL,
  TRADES_CHANNEL,
} from '../bus/market-message.ts';
import type { Config } from '../config/config.ts';
import type { CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { ErrorCode } from '../domain/errors.ts';
import { bucketEnd, type Interval } from '../domain/interval.ts';
import {
  DEFAULT_BOOK_DEPTH,
  historyUnavailableText,
  parseClientMessage,
  rateLimitedText,
  tooManySubscriptionsText,
  type ProtocolRules,
  type AlertsSubscribeMessage,
  type ChannelSubscribeMessage,
  type ChannelUnsubscribeMessage,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from '../protocol/client-messages.ts';
import { CLOSE_CODES } from '../protocol/close-codes.ts';
import {
  encodeAlertsChannelError,
  encodeChannelError,
  encodeError,
  encodeInitial,
  PONG_TEXT,
  type BarView,
} from '../protocol/server-messages.ts';
import type { SourcesView } from '../protocol/source-status.ts';
import { IncompleteHistoryError, type CandleStore, type StoredCandle } from '../store/candle-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { AlertFeed, type AlertChannelOptions } from './alert-feed.ts';
import { ApiRateLimiter } from './api-rate-limit.ts';
import { ClientConnection } from './client-connection.ts';
import { answerHealth } from './health.ts';
import { answerHistoryRequest, HISTORY_PATH } from './history-endpoint.ts';
import { HistoryLoadWait, type HistoryLoadOptions } from './history-loading.ts';
import { HistoryRefill, type HistoryRetryOptions } from './history-refill.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import {
  MarketRooms,
  marketSubscriptionKey,
  type CompositeTickerResolver,
  type MarketRoomOptions,
} from './market-rooms.ts';
import { resolveTicker } from '../feed/conflict-resolution.ts';
import { Room } from './room.ts';
import { answerSourceRequest, SOURCE_PATHS } from './source-endpoints.ts';
import { newCounters, type RoomStats, type WsStats } from './stats.ts';
import { Subscription } from './subscription.ts';
import { TickScheduler } from './tick-scheduler.ts';

export type { WsStats } from './stats.ts';

export interface GatewayOptions {
  /** Uses port, host, symbols, candles.closeGraceMs and gateway.*. */
  readonly config: Config;
  readonly bus: Bus;
  readonly store: CandleStore;
  readonly logger: Logger;
  /** Reported under `aggregator` in /health/ws-stats when the aggregator runs in this process. */
  readonly aggregatorStats?: () => { oneMinuteCandlesCount: number } & Record<string, unknown>;
  /** Wall clock for stats and bar state; timers always use the real clock. */
  readonly now?: () => number;
  /** The trades, ticker and book channels; every field has a default. */
  readonly market?: MarketChannelOptions;
  /** The `alerts` channel; every field has a default. */
  readonly alerts?: AlertChannelOptions;
  /**
   * The multi-source feed's status, read on each request to /health and /api/websocket/{health,sources,
   * active-source}. Every role gives it (a gateway process: from the ingest's snapshots); without it those
   * endpoints answer 503 and /health reports the gateway alone.
   */
  readonly sources?: () => SourcesView;
  /**
   * The failover's active source of a symbol, read for each composite ticker as the tie-breaker of the conflict
   * resolution; the configured primary when absent or unknown.
   */
  readonly activeSource?: (symbol: string) => VenueId | undefined;
  /** Given every candle update taken from the bus, decoded, before any room sends it (a process's memory). */
  readonly onCandle?: (update: CandleUpdate) => void;
  /** Served at GET /metrics; the gateway registers its own metrics in it. */
  readonly metrics?: Metrics;
  /** How often a partial `initial` retries the history store (backoff, 1 s doubling to 15 s by default). */
  readonly historyRetry?: HistoryRetryOptions;
  /** How a partial `initial` sent while start-up history loads (judged from `sources`) polls the status. */
  readonly historyLoad?: HistoryLoadOptions;
}

/** Limits of the market channels (docs/PROTOCOL.md, "Market channels"). */
export interface MarketChannelOptions extends MarketRoomOptions {
  /** Deepest `book` a client may ask for (default and maximum: the levels the ingest side publishes, 50). */
  readonly maxBookDepth?: number;
  /** `depth` of a book subscribe that names none (default 10). */
  readonly defaultBookDepth?: number;
}

export interface Gateway {
  readonly port: number;
  /** ws://host:port (a wildcard listen host is given as the loopback address). */
  readonly url: string;
  stats(): WsStats;
  /**
   * Re-sends every open candle room's newest bars from the store (after the bus lost messages): the bar in
   * progress as an update, the one before it as its final state. Rooms drop what their clients already have.
   */
  resync(): Promise<void>;
  /** Closes every client with 1001, stops timers and the bus subscription, and stops listening. */
  close(): Promise<void>;
}

/** Phases per throttle period: rooms created one after another tick 1/20 of a period apart. */
const ROOM_PHASES = 20;
/** After the bus is back, wait for the store's next flush plus this before re-reading bars. */
const RESYNC_SETTLE_MS = 250;
/** How long close() waits for clients to answer the 1001 close before cutting them off. */
const CLOSE_WAIT_MS = 1000;
const PONG = Buffer.from(PONG_TEXT);
const WS_PATHS = new Set(['/', '/ws']);

/**
 * The composite ticker: CONFLICT_RESOLUTION applied to every venue's latest ticker of the instrument, with the
 * failover's active source (the configured primary when unknown) as the tie-breaker.
 */
function compositeTickerResolver(
  config: Config,
  activeSource: ((symbol: string) => VenueId | undefined) | undefined,
): CompositeTickerResolver {
  const { conflictResolution, staleAfterMs, outlierBandBps, primary } = config.failover;
  return (tickers, at) => {
    const symbol = tickers[0]?.symbol;
    const active = (symbol !== undefined ? activeSource?.(symbol) : undefined) ?? primary;
    const resolved = resolveTicker(conflictResolution, tickers, at, { active, staleAfterMs, outlierBandBps });
    if (resolved === undefined) return undefined;
    return {
      ticker: resolved.ticker,
      info: {
        resolution: conflictResolution,
        sources: resolved.sources,
        baseVenue: resolved.ticker.venue,
        fallback: resolved.fallback,
      },
    };
  };
}

/**
 * Starts the HTTP + WebSocket gateway: candle rooms fed by the bus, `initial` history from the store, the market
 * and alerts channels, the limits of `config.gateway`, and /health, /health/ws-stats and the source status
 * endpoints. Resolves once listening (port 0 picks a free port).
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, bus, store, logger } = options;
  const limits = config.gateway;
  const now = options.now ?? Date.now;
  const startedAt = now();
  const marketOptions = options.market ?? {};
  const maxBookDepth = Math.min(marketOptions.maxBookDepth ?? BOOK_SNAPSHOT_LEVELS, BOOK_SNAPSHOT_LEVELS);
  const rules: ProtocolRules = {
    symbols: config.symbols,
    maxInitialBars: limits.maxInitialBars,
    defaultInitialBars: limits.defaultInitialBars,
    venues: config.venues,
    maxBookDepth,
    defaultBookDepth: Math.min(marketOptions.defaultBookDepth ?? DEFAULT_BOOK_DEPTH, maxBookDepth),
  };
  // First: a bad option throws here, before any timer or bus subscription exists.
  const alerts = new AlertFeed(options.alerts);
  const rooms = new Map<string, Room<Subscription>>();
  const clients = new Set<ClientConnection>();
  const counters = newCounters();
  const historyRefill = new HistoryRefill<Subscription>(options.historyRetry, (err, attempt, waiting) =>
    logger.debug(
      { err, attempt, waiting },
      'gateway: history store still unavailable; partial initials wait',
    ),
  );
  const historyLoad = new HistoryLoadWait<Subscription>(
    {
      view: options.sources ?? (() => ({ instruments: [] })),
      // Without a feed to ask, nothing is known to be loading: the store's history is the whole of it.
      inStartup: (view) =>
        options.sources !== undefined &&
        (view?.inStartupGrace ?? now() - startedAt < config.failover.startupGraceMs),
      onError: (err) => logger.warn({ err }, 'gateway: source status provider failed'),
      now,
    },
    options.historyLoad,
  );
  let nextClientId = 1;
  let shuttingDown = false;

  const scheduler = new TickScheduler<Room<Subscription>>(
    limits.throttleMs,
    ROOM_PHASES,
    flushRooms,
    (room) => room.hasPending && room.members.size > 0,
  );

  function flushRooms(batch: readonly Room<Subscription>[]): void {
    const corked: ClientConnection[] = [];
    const at = now();
    for (const room of batch) {
      const messages = room.tick(at);
      for (const m of messages) {
        if (m.kind === 'update') counters.updatesBroadcast++;
        else counters.revisionsBroadcast++;
      }
      if (messages.length === 0) continue;
      for (const sub of room.members) {
        const client = sub.sink as ClientConnection;
        if (client.cork()) corked.push(client);
        for (const m of messages) sub.offer(m);
      }
    }
    for (const client of corked) client.uncork();
  }

  const stopBus = bus.subscribe(CANDLE_CHANNEL, (message) => {
    try {
      const update = decodeCandleUpdate(message);
      options.onCandle?.(update);
      const room = rooms.get(`${update.symbol}:${update.interval}`);
      if (!room) return;
      room.push(update);
      scheduler.schedule(room);
    } catch (err) {
      counters.badBusMessages++;
      logger.warn({ err, sample: message.slice(0, 200) }, 'gateway: undecodable candle message skipped');
    }
  });

  /**
   * The bus between processes (Redis) can drop: clients stay connected, are told on the alerts channel, and get
   * the current bars again once it is back. The wait lets the ingest's buffered writes of the outage land first.
   */
  let busDownAt: number | null = null;
  let resyncTimer: ReturnType<typeof setTimeout> | undefined;
  const stopBusStatus = bus.onStatus((status) => {
    if (status.state === 'down' && busDownAt === null) {
      busDownAt = now();
      localAlert({
        severity: 'critical',
        kind: 'redis_down',
        message: 'the gateway lost the bus; clients stay connected while it reconnects',
        details: { error: status.error ?? null, process: 'gateway' },
      });
    } else if (status.state === 'up' && busDownAt !== null) {
      const downMs = now() - busDownAt;
      busDownAt = null;
      localAlert({
        severity: 'info',
        kind: 'redis_recovered',
        message: `the gateway is back on the bus after ${downMs} ms; current bars are re-sent`,
        details: { downMs, process: 'gateway' },
      });
      clearTimeout(resyncTimer);
      resyncTimer = setTimeout(() => void resync(), config.storage.flushMs + RESYNC_SETTLE_MS);
    }
  });

  /** An alert about this gateway itself: logged and sent to its own alerts subscribers (not over the bus). */
  function localAlert(input: AlertInput): void {
    const alert = newAlert(input, now);
    logger[ALERT_LOG_LEVEL[alert.severity]]({ alert }, alert.message);
    alerts.onAlert(alert, now());
  }

  async function resync(): Promise<void> {
    const open = [...rooms.values()].filter((room) => room.members.size > 0);
    let bars = 0;
    for (const room of open) {
      let stored: StoredCandle[];
      try {
        stored = await store.recent(room.symbol, room.interval, 2);
      } catch (err) {
        logger.warn({ err, room: room.key }, 'gateway: resync could not read the store');
        continue;
      }
      const at = now();
      stored.forEach((s, i) => {
        const newest = i === stored.length - 1;
        const closed = !newest || at >= bucketEnd(room.interval, s.bar.time) + config.candles.closeGraceMs;
        room.push({
          symbol: room.symbol,
          interval: room.interval,
          state: closed ? 'closed' : 'live',
          bar: s.bar,
          sources: s.sources,
          backfilled: s.backfilled === true,
        });
        bars++;
      });
      scheduler.schedule(room);
    }
    logger.info({ rooms: open.length, bars }, 'gateway: rooms resynced from the store');
  }

  const market = new MarketRooms(
    marketOptions,
    undefined,
    compositeTickerResolver(config, options.activeSource),
  );
  function onMarketMessage(kind: string, message: string, take: (message: string) => void): void {
    try {
      take(message);
    } catch (err) {
      counters.badBusMessages++;
      logger.warn({ err, sample: message.slice(0, 200) }, `gateway: undecodable ${kind} message skipped`);
    }
  }
  const stopAlertBus = bus.subscribe(ALERT_CHANNEL, (m) =>
    onMarketMessage('alert', m, (t) => alerts.onAlert(decodeAlert(t), now())),
  );

  const stopMarketBus = [
    bus.subscribe(TRADES_CHANNEL, (m) =>
      onMarketMessage('trades', m, (t) => market.onTrades(decodeTrades(t))),
    ),
    bus.subscribe(TICKER_CHANNEL, (m) =>
      onMarketMessage('ticker', m, (t) => market.onTicker(decodeTicker(t))),
    ),
    bus.subscribe(BOOK_CHANNEL, (m) =>
      onMarketMessage('book', m, (t) => market.onBook(decodeBookSnapshot(t))),
    ),
  ];

  function sendError(
    client: ClientConnection,
    code: ErrorCode,
    message: string,
    about?: { symbol: string; interval: Interval },
  ): void {
    counters.errorsByCode[code] = (counters.errorsByCode[code] ?? 0) + 1;
    client.send(encodeError(code, message, about));
  }

  function removeSubscription(client: ClientConnection, sub: Subscription): void {
    sub.end();
    historyRefill.remove(sub);
    historyLoad.remove(sub);
    const room = sub.room;
    client.subscriptions.delete(room.key);
    room.members.delete(sub);
    if (room.members.size === 0) {
      scheduler.cancel(room);
      rooms.delete(room.key);
    }
  }

  function detach(client: ClientConnection): void {
    for (const sub of [...client.subscriptions.values()]) removeSubscription(client, sub);
    for (const room of client.marketSubscriptions.values()) market.leave(client, room);
    client.marketSubscriptions.clear();
    alerts.leave(client);
  }

  function subscriptionCount(client: ClientConnection): number {
    return client.subscriptions.size + client.marketSubscriptions.size + (alerts.has(client) ? 1 : 0);
  }

  function subscribeAlerts(client: ClientConnection, msg: AlertsSubscribeMessage): void {
    if (!alerts.has(client) && subscriptionCount(client) >= limits.maxSubscriptionsPerConnection) {
      const text = tooManySubscriptionsText(limits.maxSubscriptionsPerConnection);
      counters.errorsByCode.TOO_MANY_SUBSCRIPTIONS = (counters.errorsByCode.TOO_MANY_SUBSCRIPTIONS ?? 0) + 1;
      client.send(encodeAlertsChannelError('TOO_MANY_SUBSCRIPTIONS', text));
      return;
    }
    alerts.join(client, msg);
  }

  function subscribeChannel(client: ClientConnection, msg: ChannelSubscribeMessage): void {
    const key = marketSubscriptionKey(msg.channel, msg.venue, msg.symbol);
    const held = client.marketSubscriptions.get(key);
    if (held === undefined && subscriptionCount(client) >= limits.maxSubscriptionsPerConnection) {
      const text = tooManySubscriptionsText(limits.maxSubscriptionsPerConnection);
      counters.errorsByCode.TOO_MANY_SUBSCRIPTIONS = (counters.errorsByCode.TOO_MANY_SUBSCRIPTIONS ?? 0) + 1;
      client.send(encodeChannelError('TOO_MANY_SUBSCRIPTIONS', text, msg));
      return;
    }
    // A repeated subscribe (same or another book depth) replaces the membership: never two rooms of one stream.
    if (held !== undefined) market.leave(client, held);
    client.marketSubscriptions.set(key, market.join(client, msg));
  }

  function unsubscribeChannel(client: ClientConnection, msg: ChannelUnsubscribeMessage): void {
    const key = marketSubscriptionKey(msg.channel, msg.venue, msg.symbol);
    const room = client.marketSubscriptions.get(key);
    if (room === undefined) return;
    client.marketSubscriptions.delete(key);
    market.leave(client, room);
  }

  function closeClient(client: ClientConnection, code: number, reason: string): void {
    if (client.closing) return;
    client.closing = true;
    detach(client);
    client.ws.close(code, reason);
  }

  function onSlow(client: ClientConnection): void {
    counters.droppedSlowClients++;
    logger.info({ client: client.id, buffered: client.ws.bufferedAmount }, 'gateway: slow client closed');
    closeClient(client, CLOSE_CODES.SLOW_CONSUMER, 'slow consumer');
  }

  function barViews(room: Room<Subscription>, interval: Interval, bars: readonly StoredCandle[]): BarView[] {
    const at = now();
    const grace = config.candles.closeGraceMs;
    const views: BarView[] = [];
    for (let i = 0; i < bars.length; i++) {
      const { bar, sources, backfilled } = bars[i] as StoredCandle;
      // History has no state: all but the newest bar are final; the newest is final once the stream said so or
      // its interval plus the close grace has passed.
      const closed =
        i < bars.length - 1 || room.isKnownClosed(bar.time) || at >= bucketEnd(interval, bar.time) + grace;
      views.push({ bar, closed, sources, backfilled: backfilled === true });
    }
    return views;
  }

  /** Sends `initial` (marked partial when `partialReason` is given) and the room's messages held meanwhile. */
  function completeInitial(
    client: ClientConnection,
    sub: Subscription,
    generation: number,
    bars: StoredCandle[],
    partialReason?: ErrorCode,
  ): void {
    if (client.closing || !sub.isCurrent(generation)) return;
    const { symbol, interval } = sub.room;
    const views = barViews(sub.room, interval, bars);
    counters.initialsSent++;
    if (partialReason !== undefined) counters.partialInitialsSent++;
    sub.complete(encodeInitial(symbol, interval, views, partialReason), views);
  }

  /**
   * Reads `initialBars` of history and sends `initial`. When it cannot be the whole history, `initial` is marked
   * partial and the subscription waits to be refilled: it loads `initial` anew, the same way as a subscribe (the
   * room's messages held while it loads), so the whole history and the stream fit together without a gap or a
   * repeat.
   * - The store cannot answer the whole window (its database failed): the client gets HISTORY_UNAVAILABLE and
   *   the bars memory holds; `historyRefill` retries the store.
   * - The instrument's start-up history is still loading: the client gets the bars the store holds so far, with
   *   reason HISTORY_LOADING; `historyLoad` watches the feed's status until it says the history has loaded.
   */
  function loadInitial(
    client: ClientConnection,
    sub: Subscription,
    generation: number,
    initialBars: number,
    refilling: boolean,
  ): void {
    const { symbol, interval } = sub.room;
    const refill = (): void => {
      if (client.closing || !sub.isActive) return;
      loadInitial(client, sub, sub.beginLoading(), initialBars, true);
    };
    // Judged before the read: history that finishes loading during the read is then refilled, never missed.
    const loading = historyLoad.isLoading(symbol);
    store
      .recent(symbol, interval, initialBars)
      .then(
        (bars) => {
          if (client.closing || !sub.isCurrent(generation)) return;
          if (loading) {
            completeInitial(client, sub, generation, bars, 'HISTORY_LOADING');
            historyLoad.add(sub, symbol, refill);
            return;
          }
          if (refilling) counters.initialsRefilled++;
          completeInitial(client, sub, generation, bars);
        },
        (err: unknown) => {
          if (client.closing || !sub.isCurrent(generation)) return;
          const available = err instanceof IncompleteHistoryError ? err.available : [];
          logger.warn(
            { err, symbol, interval, available: available.length },
            'gateway: history read failed; initial is partial until the store answers',
          );
          sendError(client, 'HISTORY_UNAVAILABLE', historyUnavailableText(symbol, interval), {
            symbol,
            interval,
          });
          completeInitial(client, sub, generation, available, 'HISTORY_UNAVAILABLE');
          historyRefill.add(sub, { probe: () => store.recent(symbol, interval, initialBars), refill });
        },
      )
      .catch((err: unknown) => logger.error({ err }, 'gateway: sending initial failed'));
  }

  function subscribe(client: ClientConnection, msg: SubscribeMessage): void {
    const key = `${msg.symbol}:${msg.interval}`;
    let sub = client.subscriptions.get(key);
    if (!sub) {
      if (subscriptionCount(client) >= limits.maxSubscriptionsPerConnection) {
        sendError(
          client,
          'TOO_MANY_SUBSCRIPTIONS',
          tooManySubscriptionsText(limits.maxSubscriptionsPerConnection),
          {
            symbol: msg.symbol,
            interval: msg.interval,
          },
        );
        return;
      }
      let room = rooms.get(key);
      if (!room) {
        room = new Room<Subscription>(msg.symbol, msg.interval);
        scheduler.assignSlot(room);
        rooms.set(key, room);
      }
      sub = new Subscription(client, room);
      room.members.add(sub);
      client.subscriptions.set(key, sub);
    }
    // Joined before reading history: whatever the room sends from now on is held until `initial` is out.
    // A new subscribe answers for itself: an earlier partial initial no longer waits for its refill.
    historyRefill.remove(sub);
    historyLoad.remove(sub);
    const generation = sub.beginLoading();
    if (msg.initialBars === 0) {
      completeInitial(client, sub, generation, []);
      return;
    }
    loadInitial(client, sub, generation, msg.initialBars, false);
  }

  function unsubscribe(client: ClientConnection, msg: UnsubscribeMessage): void {
    const sub = client.subscriptions.get(`${msg.symbol}:${msg.interval}`);
    if (sub) removeSubscription(client, sub);
  }

  function onMessage(client: ClientConnection, data: RawData, isBinary: boolean): void {
    if (client.closing) return;
    counters.messagesReceived++;
    switch (client.limiter.hit(now())) {
      case 'ok':
        break;
      case 'limited':
        sendError(client, 'RATE_LIMITED', rateLimitedText(limits.maxMessagesPerSecond));
        return;
      case 'ignored':
        return;
      case 'flooding':
        counters.closedForFlooding++;
        closeClient(client, CLOSE_CODES.FLOODING, 'rate limit exceeded');
        return;
    }
    if (isBinary) {
      sendError(client, 'INVALID_MESSAGE', 'Invalid message format');
      return;
    }
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    const parsed = parseClientMessage(text, rules);
    if (!parsed.ok) {
      sendError(client, parsed.error.code, parsed.error.message);
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'ping') client.send(PONG);
    else if (msg.type === 'subscribe') subscribe(client, msg);
    else if (msg.type === 'unsubscribe') unsubscribe(client, msg);
    else if (msg.type === 'channel-subscribe') subscribeChannel(client, msg);
    else if (msg.type === 'channel-unsubscribe') unsubscribeChannel(client, msg);
    else if (msg.type === 'alerts-subscribe') subscribeAlerts(client, msg);
    else alerts.leave(client);
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayloadBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  function onConnection(ws: WebSocket, socket: Duplex): void {
    const client = new ClientConnection(
      nextClientId++,
      ws,
      socket,
      limits.maxMessagesPerSecond,
      limits.maxBufferedBytes,
      onSlow,
    );
    clients.add(client);
    counters.connectionsOpened++;
    ws.on('message', (data, isBinary) => {
      try {
        onMessage(client, data, isBinary);
      } catch (err) {
        logger.error({ err, client: client.id }, 'gateway: message handling failed');
      }
    });
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') counters.closedForOversizedFrame++;
      logger.debug({ err, client: client.id }, 'gateway: client connection error');
    });
    ws.on('close', () => {
      client.closing = true;
      detach(client);
      clients.delete(client);
    });
  }

  function heartbeat(): void {
    for (const client of clients) {
      if (!client.alive) {
        counters.terminatedByHeartbeat++;
        client.closing = true;
        detach(client);
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      try {
        client.ws.ping();
      } catch (err) {
        logger.debug({ err, client: client.id }, 'gateway: ping failed');
      }
    }
  }
  const heartbeatTimer = setInterval(heartbeat, limits.heartbeatMs);

  function stats(): WsStats {
    const roomStats: RoomStats[] = [];
    const subscribed = new Set<ClientConnection>();
    for (const room of rooms.values()) {
      for (const sub of room.members) subscribed.add(sub.sink as ClientConnection);
      roomStats.push({
        key: room.key,
        clientCount: room.members.size,
        hasCandle: room.hasCandle,
        lastBroadcast: room.lastBroadcast,
      });
    }
    for (const room of market.allRooms()) {
      for (const member of room.members) subscribed.add(member as ClientConnection);
      roomStats.push({
        key: room.key,
        clientCount: room.members.size,
        hasCandle: room.lastBroadcast !== null,
        lastBroadcast: room.lastBroadcast,
      });
    }
    if (alerts.size > 0) {
      for (const client of clients) if (alerts.has(client)) subscribed.add(client);
      roomStats.push({
        key: 'alerts',
        clientCount: alerts.size,
        hasCandle: alerts.lastBroadcast !== null,
        lastBroadcast: alerts.lastBroadcast,
      });
    }
    let aggregator: WsStats['aggregator'];
    try {
      aggregator = options.aggregatorStats?.() ?? { oneMinuteCandlesCount: 0, inProcess: false };
    } catch (err) {
      logger.warn({ err }, 'gateway: aggregator stats failed');
      aggregator = { oneMinuteCandlesCount: 0, inProcess: true, error: 'unavailable' };
    }
    return {
      connections: clients.size,
      broadcaster: {
        totalRooms: rooms.size + market.size + (alerts.size > 0 ? 1 : 0),
        totalClients: subscribed.size,
        rooms: roomStats,
      },
      aggregator,
      gateway: {
        ...counters,
        ...market.counters,
        ...alerts.counters,
        errorsByCode: { ...counters.errorsByCode },
      },
    };
  }

  /** The seed's fields, then the verdict on the feed (src/gateway/health.ts): 503 unless every instrument is live. */
  function health(): { status: number; body: unknown } {
    const uptimeMs = now() - startedAt;
    const fields = { uptimeMs, connections: clients.size, rooms: rooms.size, symbols: config.symbols };
    const { sources } = options;
    const feed = sources
      ? { sources, symbols: config.symbols, uptimeMs, startupGraceMs: config.failover.startupGraceMs }
      : null;
    return answerHealth(fields, feed, (err) =>
      logger.warn({ err }, 'gateway: source status provider failed'),
    );
  }

  const apiRateLimit = new ApiRateLimiter({
    max: limits.apiRateLimit,
    windowMs: limits.apiRateLimitWindowMs,
    trustedProxies: limits.trustedProxies,
    now,
  });

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = pathOf(req.url);
    if (path.startsWith('/api/') && !apiRateLimit.admit(req, res)) return;
    if (path === '/health' || path === '/health/ws-stats') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: 'Method not allowed', allow: 'GET, HEAD' });
        return;
      }
      const answer = path === '/health' ? health() : { status: 200, body: stats() };
      sendJson(res, answer.status, answer.body);
      return;
    }
    if (SOURCE_PATHS.has(path)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: 'Method not allowed', allow: 'GET, HEAD' });
        return;
      }
      const answer = answerSourceRequest(path, queryOf(req.url), options.sources, (err) =>
        logger.warn({ err, path }, 'gateway: source status provider failed'),
      );
      sendJson(res, answer.status, answer.body);
      return;
    }
    if (path === '/metrics' && options.metrics) {
      const metrics = options.metrics;
      void metrics.text().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        },
        (err: unknown) => {
          logger.warn({ err }, 'gateway: metrics failed');
          sendJson(res, 500, { error: 'metrics unavailable' });
        },
      );
      return;
    }
    if (path === HISTORY_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: 'Method not allowed', allow: 'GET, HEAD' });
        return;
      }
      const loading = (symbol: string): boolean => historyLoad.isLoading(symbol);
      void answerHistoryRequest(queryOf(req.url), store, historyRules, now(), loading).then((answer) => {
        if (answer.status >= 500) logger.warn({ url: req.url }, 'gateway: history request failed');
        for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
        sendText(res, answer.status, answer.body);
      });
      return;
    }
    sendJson(res, 404, { error: 'Not found' });
  }

  if (options.metrics) registerGatewayMetrics(options.metrics);

  function registerGatewayMetrics(metrics: Metrics): void {
    metrics.gauge('tickwire_gateway_connections', 'Open client connections', () => clients.size);
    metrics.gauge('tickwire_gateway_candle_rooms', 'Candle rooms with members', () => rooms.size);
    metrics.gauge('tickwire_gateway_market_rooms', 'Market-channel rooms with members', () => market.size);
    metrics.gauge(
      'tickwire_gateway_connections_opened_total',
      'Client connections opened since start',
      () => counters.connectionsOpened,
    );
    metrics.gauge(
      'tickwire_gateway_updates_broadcast_total',
      'Candle room ticks that sent an update',
      () => counters.updatesBroadcast,
    );
    metrics.gauge(
      'tickwire_gateway_slow_clients_dropped_total',
      'Clients closed with 4008 (too slow)',
      () => counters.droppedSlowClients,
    );
    metrics.gauge(
      'tickwire_gateway_bad_bus_messages_total',
      'Bus messages that could not be decoded',
      () => counters.badBusMessages,
    );
    metrics.gauge('tickwire_gateway_bus_up', '1 when the bus is connected', () =>
      bus.status().state === 'up' ? 1 : 0,
    );
  }

  const historyRules = {
    symbols: config.symbols,
    maxBars: limits.maxInitialBars,
    defaultBars: Math.max(1, limits.defaultInitialBars),
    closeGraceMs: config.candles.closeGraceMs,
  };
  const server = createServer(onRequest);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => logger.debug({ err }, 'gateway: socket error during upgrade'));
    if (shuttingDown) {
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
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // A port that is taken: stop the timers and bus subscriptions started above, so the process can end.
    await close();
    throw err;
  }
  server.on('error', (err) => logger.error({ err }, 'gateway: server error'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `ws://${urlHost(config.host)}:${port}`;
  logger.info({ url }, 'gateway: listening');

  async function close(): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(heartbeatTimer);
    scheduler.stop();
    market.stop();
    stopBus();
    stopBusStatus();
    clearTimeout(resyncTimer);
    historyRefill.stop();
    historyLoad.stop();
    stopAlertBus();
    for (const stop of stopMarketBus) stop();
    const closed: Promise<void>[] = [];
    for (const client of clients) {
      closed.push(new Promise((resolve) => client.ws.once('close', () => resolve())));
      closeClient(client, CLOSE_CODES.GOING_AWAY, 'server shutting down');
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    for (const client of clients) client.ws.terminate();
    await new Promise<void>((resolve) => {
      wss.close(() => resolve());
    });
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  return { port, url, stats, resync, close };
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function queryOf(url: string | undefined): URLSearchParams {
  const q = url === undefined ? -1 : url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : (url as string).slice(q + 1));
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body));
}

/** Sends JSON text as it is. */
function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
