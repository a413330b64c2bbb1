import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestClient } from '../../test/gateway/helpers.ts';
import { encodeCandleUpdate } from '../bus/candle-message.ts';
import { CANDLE_CHANNEL } from '../bus/bus.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import { configSchema, DEFAULT_CONFIG } from '../config/config.ts';
import { parseDecimal } from '../domain/decimal.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { startGateway, type Gateway } from './gateway.ts';
import { WARM_UP_SUBSCRIBE_ROUNDS, warmUpConnectionPath, type StartWarmUpTarget } from './warm-up.ts';

const config = configSchema.parse({ ...DEFAULT_CONFIG, port: 0, host: '127.0.0.1', logLevel: 'silent' });

describe('gateway warm-up', () => {
  it('connects, subscribes (every round) and updates every warm-up client in two passes, each on a throwaway gateway closed after it', async () => {
    // A message limit below one client's rounds: the throwaway gateway lifts it for its own clients.
    const limited = configSchema.parse({
      ...config,
      gateway: { ...config.gateway, maxMessagesPerSecond: 10 },
    });
    // Each pass's throwaway gateway, as it was when closed.
    const passes: ReturnType<Gateway['stats']>[] = [];
    const start: StartWarmUpTarget = async (warmConfig, bus, store) => {
      const target = await startGateway({ config: warmConfig, bus, store, logger: silentLogger() });
      return {
        url: target.url,
        stats: () => target.stats(),
        close: async () => {
          passes.push(target.stats());
          await target.close();
        },
      };
    };
    // The throwaway gateway's bus and store are made for it and closed with it.
    const made: string[] = [];
    const ended: string[] = [];
    await warmUpConnectionPath(start, limited, {
      connections: 30,
      bus: () => {
        made.push('bus');
        const bus = new MemoryBus();
        const close = bus.close.bind(bus);
        bus.close = () => (ended.push('bus'), close());
        return bus;
      },
      store: () => {
        made.push('store');
        const store = new MemoryCandleStore();
        const close = store.close.bind(store);
        store.close = () => (ended.push('store'), close());
        return store;
      },
    });
    // The second pass has half the first's connections (rounded up).
    assert.deepEqual(
      passes.map((p) => p.gateway.connectionsOpened),
      [30, 15],
    );
    // Each pass's clients were cut off from their side, and gone when its throwaway gateway was closed.
    assert.deepEqual(
      passes.map((p) => p.connections),
      [0, 0],
    );
    assert.deepEqual(
      passes.map((p) => p.gateway.initialsSent),
      [30 * 7 * WARM_UP_SUBSCRIBE_ROUNDS, 15 * 7 * WARM_UP_SUBSCRIBE_ROUNDS],
    );
    // Every room of every symbol ticked its one update.
    assert.deepEqual(
      passes.map((p) => p.gateway.updatesBroadcast),
      [config.symbols.length * 7, config.symbols.length * 7],
    );
    assert.deepEqual(made, ['bus', 'store', 'bus', 'store']);
    assert.deepEqual(ended.sort(), ['bus', 'bus', 'store', 'store']);
  });

  it('leaves nothing behind: no connection, room or count of its own, and the gateway serves as usual', async () => {
    const bus = new MemoryBus();
    const gateway = await startGateway({
      config,
      bus,
      store: new MemoryCandleStore(),
      logger: silentLogger(),
      // More connections than one address may hold: the throwaway gateway lifts its own limit.
      warmUp: {
        connections: config.gateway.maxConnectionsPerIp + 20,
        bus: () => new MemoryBus(),
        store: () => new MemoryCandleStore(),
      },
    });
    try {
      const stats = gateway.stats();
      assert.equal(stats.connections, 0);
      assert.equal(stats.broadcaster.totalRooms, 0);
      assert.equal(stats.gateway.connectionsOpened, 0);
      assert.equal(stats.gateway.initialsSent, 0);
      assert.equal(stats.gateway.updatesBroadcast, 0);

      const symbol = config.symbols[0] as string;
      const client = await TestClient.connect(gateway.url);
      client.send({ type: 'subscribe', symbol, interval: '1m', initialBars: 0 });
      await client.next((m) => m.type === 'initial');
      const one = parseDecimal('1');
      bus.publish(
        CANDLE_CHANNEL,
        encodeCandleUpdate({
          symbol,
          interval: '1m',
          state: 'live',
          bar: {
            time: Date.UTC(2026, 0, 5),
            open: one,
            high: one,
            low: one,
            close: one,
            volume: one,
            quoteVolume: one,
            takerBuyVolume: one,
            takerBuyQuoteVolume: one,
            trades: 1,
          },
          sources: ['binance'],
        }),
      );
      const update = await client.next((m) => m.type === 'update');
      assert.equal(update['symbol'], symbol);
      assert.equal(gateway.stats().gateway.connectionsOpened, 1);
      client.close();
    } finally {
      await gateway.close();
    }
  });
});
