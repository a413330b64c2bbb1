import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from '../telemetry/metrics.ts';
import { registerGatewayMetrics, type GatewayReadings } from './gateway-metrics.ts';

describe('registerGatewayMetrics', () => {
  it('reads each gateway metric from its part when scraped', async () => {
    const metrics = new Metrics({ role: 'gateway' });
    const now = {
      connections: 3,
      candleRooms: 2,
      marketRooms: 5,
      connectionsOpened: 11,
      updatesBroadcast: 120,
      updatesMerged: 30,
      droppedSlowClients: 1,
      sendQueueDropped: 7,
      badBusMessages: 4,
      busUp: true,
      messagesSent: 700,
      bytesSent: 70_000,
      messagesReceived: 9,
    };
    const readings: GatewayReadings = {
      connections: () => now.connections,
      candleRooms: () => now.candleRooms,
      marketRooms: () => now.marketRooms,
      connectionsOpened: () => now.connectionsOpened,
      updatesBroadcast: () => now.updatesBroadcast,
      updatesMerged: () => now.updatesMerged,
      droppedSlowClients: () => now.droppedSlowClients,
      sendQueueDropped: () => now.sendQueueDropped,
      badBusMessages: () => now.badBusMessages,
      busUp: () => now.busUp,
      messagesSent: () => now.messagesSent,
      bytesSent: () => now.bytesSent,
      messagesReceived: () => now.messagesReceived,
    };
    registerGatewayMetrics(metrics, readings);
    const value = async (name: string): Promise<number> => {
      const line = (await metrics.text()).split('\n').find((l) => l.startsWith(`${name}{`));
      assert.ok(line !== undefined, `${name} is exported`);
      return Number(line.split(' ').at(-1));
    };
    assert.equal(await value('tickwire_gateway_connections'), 3);
    assert.equal(await value('tickwire_gateway_candle_rooms'), 2);
    assert.equal(await value('tickwire_gateway_market_rooms'), 5);
    assert.equal(await value('tickwire_gateway_connections_opened_total'), 11);
    assert.equal(await value('tickwire_gateway_updates_broadcast_total'), 120);
    assert.equal(await value('tickwire_gateway_updates_merged_total'), 30);
    assert.equal(await value('tickwire_gateway_slow_clients_dropped_total'), 1);
    assert.equal(await value('tickwire_gateway_bad_bus_messages_total'), 4);
    assert.equal(await value('tickwire_send_queue_dropped_total'), 7);
    assert.equal(await value('tickwire_slow_client_closes_total'), 1);
    assert.match(await metrics.text(), /# TYPE tickwire_send_queue_dropped_total counter/);
    assert.equal(await value('tickwire_gateway_bus_up'), 1);
    assert.equal(await value('tickwire_gateway_messages_sent_total'), 700);
    assert.equal(await value('tickwire_gateway_bytes_sent_total'), 70_000);
    assert.equal(await value('tickwire_gateway_messages_received_total'), 9);

    // Counts are Prometheus counters, levels are gauges.
    const text = await metrics.text();
    for (const name of [
      'tickwire_gateway_connections_opened_total',
      'tickwire_gateway_updates_broadcast_total',
      'tickwire_gateway_updates_merged_total',
      'tickwire_gateway_slow_clients_dropped_total',
      'tickwire_gateway_bad_bus_messages_total',
      'tickwire_gateway_messages_sent_total',
      'tickwire_gateway_bytes_sent_total',
      'tickwire_gateway_messages_received_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'));
    }
    for (const name of [
      'tickwire_gateway_connections',
      'tickwire_gateway_candle_rooms',
      'tickwire_gateway_bus_up',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} gauge$`, 'm'));
    }
    now.messagesSent = 750;
    assert.equal(await value('tickwire_gateway_messages_sent_total'), 750, 'a counter follows the count');

    now.connections = 0;
    now.busUp = false;
    assert.equal(await value('tickwire_gateway_connections'), 0, 'read anew at each scrape');
    assert.equal(await value('tickwire_gateway_bus_up'), 0);
  });
});
