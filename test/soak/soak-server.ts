/**
 * The gateway under soak, in a child process of its own so that its memory and handles are its own: a real
 * gateway (startGateway over the in-process bus and a memory store) fed the way the ingest feeds it, every second:
 * a candle update for every (symbol, interval) room, a ticker and a batch of trades per (venue, symbol).
 * Talks to the driver over IPC: {cmd:'sample'} → a Sample; {cmd:'stop'} → closes the gateway and exits.
 * Run with --expose-gc: each sample is taken after a full collection, so the heap figure is what is retained.
 */
import { CANDLE_CHANNEL } from '../../src/bus/bus.ts';
import { encodeCandleUpdate } from '../../src/bus/candle-message.ts';
import { encodeTicker, encodeTrades, TICKER_CHANNEL, TRADES_CHANNEL } from '../../src/bus/market-message.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import { bucketStart, INTERVALS } from '../../src/domain/interval.ts';
import type { Trade } from '../../src/domain/trade.ts';
import { startGateway } from '../../src/gateway/gateway.ts';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { makeBar, makeUpdate, testConfig } from '../gateway/helpers.ts';
import { SOAK_SYMBOLS, SOAK_VENUES, type Sample } from './soak-shared.ts';

const config = testConfig(
  {
    // Low, so that the slow clients of the soak are closed as slow consumers within seconds.
    maxBufferedBytes: 256 * 1024,
    maxMessagesPerSecond: 200,
    // Every soak client comes from 127.0.0.1: with the per-address defaults (100 connections, a history budget
    // shared by the address) most of them would be refused or starved, and the soak would prove nothing about
    // the clients it claims to run. The per-connection limits stay at their defaults.
    maxConnectionsPerIp: 1_000_000,
    historyBarsPerSecondPerIp: 100_000_000,
    historyBurstBarsPerIp: 100_000_000,
  },
  SOAK_SYMBOLS,
);
const bus = new MemoryBus();
const store = new MemoryCandleStore();
/**
 * 1m bars of history per symbol: enough that a slow client's `initialBars: 5000` subscribes (~0.6 MB each) fill
 * the kernel's socket buffers and then the gateway's within seconds, so that it is closed as a slow consumer
 * rather than by the heartbeat or the end of its life.
 */
const HISTORY_BARS = 5000;
const start = Math.floor(Date.now() / 60_000) * 60_000 - HISTORY_BARS * 60_000;
for (const symbol of SOAK_SYMBOLS) {
  for (let i = 0; i < HISTORY_BARS; i++)
    store.put(symbol, '1m', makeBar(start + i * 60_000, (100 + (i % 13)).toFixed(2), 5), ['binance']);
}
const gateway = await startGateway({
  config: { ...config, venues: SOAK_VENUES },
  bus,
  store,
  logger: silentLogger(),
});

let tick = 0;
let tradeId = 1;
const feed = setInterval(() => {
  tick++;
  const now = Date.now();
  const price = (100 + (tick % 50) / 10).toFixed(2);
  for (const symbol of SOAK_SYMBOLS) {
    for (const interval of INTERVALS) {
      const bar = makeBar(bucketStart(interval, now), price, tick);
      store.put(symbol, interval, bar, ['binance']);
      bus.publish(CANDLE_CHANNEL, encodeCandleUpdate(makeUpdate(bar, 'live', symbol, interval)));
    }
    for (const venue of SOAK_VENUES) {
      bus.publish(
        TICKER_CHANNEL,
        encodeTicker({ venue, symbol, last: parseDecimal(price), time: now, receivedAt: now }),
      );
      const trades: Trade[] = Array.from({ length: 5 }, () => ({
        venue,
        symbol,
        id: String(tradeId++),
        price: parseDecimal(price),
        size: parseDecimal('0.01'),
        side: 'buy' as const,
        fills: 1,
        time: now,
        receivedAt: now,
      }));
      bus.publish(TRADES_CHANNEL, encodeTrades(venue, symbol, trades));
    }
  }
}, 1000);

function sample(): Sample {
  (globalThis as { gc?: () => void }).gc?.();
  const resources: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
  const stats = gateway.stats();
  const memory = process.memoryUsage();
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    resources,
    connections: stats.connections,
    rooms: stats.broadcaster.totalRooms,
    slowClosed: stats.gateway.droppedSlowClients,
  };
}

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'sample') process.send?.({ sample: sample() });
  else if (msg.cmd === 'stop') {
    clearInterval(feed);
    void gateway.close().then(() => process.exit(0));
  }
});
process.send?.({ ready: true, url: gateway.url });
