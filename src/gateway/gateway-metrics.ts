import type { Metrics } from '../telemetry/metrics.ts';

/** What the gateway's metrics read at scrape time, from the parts' own counters. */
export interface GatewayReadings {
  /** Open client connections. */
  connections(): number;
  /** Candle rooms (each has members). */
  candleRooms(): number;
  /** Market-channel rooms (each has members). */
  marketRooms(): number;
  connectionsOpened(): number;
  /** Candle room ticks that sent an update. */
  updatesBroadcast(): number;
  /** Pending candle room states replaced by a newer state of their bar before they were sent (conflation). */
  updatesMerged(): number;
  droppedSlowClients(): number;
  /** Queued messages replaced by a newer state of the same bar, ticker or book (send-queue conflation). */
  sendQueueDropped(): number;
  /** Messages handed to client sockets (each client's copy counted). */
  messagesSent(): number;
  /** Their bytes (payload, before framing and compression). */
  bytesSent(): number;
  /** Messages received from clients. */
  messagesReceived(): number;
  badBusMessages(): number;
  busUp(): boolean;
}

/** Registers the gateway's metrics (GET /metrics); they are read when scraped, so sending pays nothing for them. */
export function registerGatewayMetrics(metrics: Metrics, read: GatewayReadings): void {
  metrics.gauge('tickwire_gateway_connections', 'Open client connections', () => read.connections());
  metrics.gauge('tickwire_gateway_candle_rooms', 'Candle rooms with members', () => read.candleRooms());
  metrics.gauge('tickwire_gateway_market_rooms', 'Market-channel rooms with members', () =>
    read.marketRooms(),
  );
  metrics.counter('tickwire_gateway_connections_opened_total', 'Client connections opened since start', () =>
    read.connectionsOpened(),
  );
  metrics.counter('tickwire_gateway_updates_broadcast_total', 'Candle room ticks that sent an update', () =>
    read.updatesBroadcast(),
  );
  metrics.counter(
    'tickwire_gateway_updates_merged_total',
    'Pending candle room states replaced by a newer state of their bar before they were sent',
    () => read.updatesMerged(),
  );
  metrics.counter('tickwire_gateway_slow_clients_dropped_total', 'Clients closed with 4008 (too slow)', () =>
    read.droppedSlowClients(),
  );
  metrics.counter('tickwire_gateway_bad_bus_messages_total', 'Bus messages that could not be decoded', () =>
    read.badBusMessages(),
  );
  metrics.counter(
    'tickwire_send_queue_dropped_total',
    'Queued client messages replaced by a newer state of the same bar, ticker or book',
    () => read.sendQueueDropped(),
  );
  metrics.counter(
    'tickwire_slow_client_closes_total',
    'Clients closed with 4008: send queue or socket buffer over its limit',
    () => read.droppedSlowClients(),
  );
  metrics.counter(
    'tickwire_gateway_messages_sent_total',
    'Messages sent to clients (one per client copy)',
    () => read.messagesSent(),
  );
  metrics.counter(
    'tickwire_gateway_bytes_sent_total',
    'Bytes of the messages sent to clients (payload)',
    () => read.bytesSent(),
  );
  metrics.counter('tickwire_gateway_messages_received_total', 'Messages received from clients', () =>
    read.messagesReceived(),
  );
  metrics.gauge('tickwire_gateway_bus_up', '1 when the bus is connected', () => (read.busUp() ? 1 : 0));
}

/** A Prometheus counter read at scrape time from a count the part keeps (which only grows). */
