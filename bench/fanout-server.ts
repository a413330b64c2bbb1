/**
 * Server side of the fan-out benchmark, run as a child process so its memory is measured on its own.
 * argv[2] = "tickwire" (the real gateway fed through the in-process bus) or "naive" (the seed document's
 * style: a plain ws server that calls JSON.stringify for every client in a loop).
 * Talks to the parent over IPC: {cmd:'publish', rooms, ratePerRoom, seconds} → {done, published};
 * {cmd:'rss'} → {rss}; {cmd:'stop'}.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { CANDLE_CHANNEL } from '../src/bus/bus.ts';
import { encodeCandleUpdate } from '../src/bus/candle-message.ts';
import { MemoryBus } from '../src/bus/memory-bus.ts';
import { configSchema, DEFAULT_CONFIG } from '../src/config/config.ts';
import type { Candle } from '../src/domain/candle.ts';
import { parseDecimal } from '../src/domain/decimal.ts';
import type { Interval } from '../src/domain/interval.ts';
import { startGateway } from '../src/gateway/gateway.ts';
import { MemoryCandleStore } from '../src/store/memory-candle-store.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

export const BENCH_SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT'];
export const BENCH_INTERVALS: Interval[] = ['1m', '5m', '15m', '1h', '4h'];

type Publish = (room: number, bar: Candle) => void;

const kind = process.argv[2];
const BAR_TIME = Date.UTC(2026, 0, 5);

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function benchBar(stamp: number, seq: number): Candle {
  const price = parseDecimal((67000 + (seq % 1000) / 100).toFixed(2));
  return {
    time: BAR_TIME,
    open: parseDecimal('67000.00'),
    high: price,
    low: parseDecimal('66900.00'),
    close: price,
    // The publish time travels in `volume` (ms with µs decimals) so clients can measure latency.
    volume: parseDecimal(stamp.toFixed(3)),
    quoteVolume: parseDecimal('1234567.89'),
    takerBuyVolume: parseDecimal('1'),
    takerBuyQuoteVolume: parseDecimal('67000'),
    trades: seq,
  };
}

function roomKey(room: number): { symbol: string; interval: Interval } {
  return {
    symbol: BENCH_SYMBOLS[room % BENCH_SYMBOLS.length] as string,
    interval: BENCH_INTERVALS[Math.floor(room / BENCH_SYMBOLS.length) % BENCH_INTERVALS.length] as Interval,
  };
}

async function startTickwire(): Promise<{ port: number; publish: Publish }> {
  const config = configSchema.parse({
    ...DEFAULT_CONFIG,
    port: 0,
    host: '127.0.0.1',
    symbols: BENCH_SYMBOLS,
    logLevel: 'silent',
    gateway: { ...DEFAULT_CONFIG.gateway, throttleMs: 0, maxBufferedBytes: 64 * 1024 * 1024 },
  });
  const bus = new MemoryBus();
  const store = new MemoryCandleStore();
  const gateway = await startGateway({ config, bus, store, logger: silentLogger() });
  return {
    port: gateway.port,
    publish: (room, bar) => {
      const update = { ...roomKey(room), state: 'live' as const, bar, sources: ['binance' as const] };
      store.put(update.symbol, update.interval, bar, update.sources);
      bus.publish(CANDLE_CHANNEL, encodeCandleUpdate(update));
    },
  };
}

/** The seed document's broadcaster: rooms of clients, JSON.stringify per client per update. */
async function startNaive(): Promise<{ port: number; publish: Publish }> {
  const rooms = new Map<string, Set<WebSocket>>();
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { type: string; symbol: string; interval: string };
      if (msg.type !== 'subscribe') return;
      const key = `${msg.symbol}:${msg.interval}`;
      let set = rooms.get(key);
      if (!set) rooms.set(key, (set = new Set()));
      set.add(ws);
      ws.send(JSON.stringify({ type: 'initial', symbol: msg.symbol, interval: msg.interval, bars: [] }));
    });
    ws.on('close', () => {
      for (const set of rooms.values()) set.delete(ws);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    publish: (room, bar) => {
      const { symbol, interval } = roomKey(room);
      const clients = rooms.get(`${symbol}:${interval}`);
      if (!clients) return;
      for (const ws of clients) {
        ws.send(
          JSON.stringify({
            type: 'update',
            symbol,
            interval,
            bar: {
              time: new Date(bar.time).toISOString(),
              open: Number(`${bar.open.coef}e-${bar.open.scale}`),
              high: Number(`${bar.high.coef}e-${bar.high.scale}`),
              low: Number(`${bar.low.coef}e-${bar.low.scale}`),
              close: Number(`${bar.close.coef}e-${bar.close.scale}`),
              volume: Number(`${bar.volume.coef}e-${bar.volume.scale}`),
              quoteVolume: Number(`${bar.quoteVolume.coef}e-${bar.quoteVolume.scale}`),
            },
          }),
        );
      }
    },
  };
}

const server = kind === 'naive' ? await startNaive() : await startTickwire();
process.send?.({ ready: true, port: server.port, rss: process.memoryUsage().rss });

process.on('message', (msg: { cmd: string; rooms?: number; ratePerRoom?: number; seconds?: number }) => {
  if (msg.cmd === 'rss') {
    globalThis.gc?.();
    process.send?.({ rss: process.memoryUsage().rss });
  } else if (msg.cmd === 'publish') {
    const rooms = msg.rooms ?? 20;
    const periodMs = 1000 / (msg.ratePerRoom ?? 10);
    const until = Date.now() + (msg.seconds ?? 10) * 1000;
    let seq = 0;
    let published = 0;
    // Rooms tick at their own phase over the period, as market updates would arrive.
    const timers = Array.from({ length: rooms }, (_, room) =>
      setTimeout(
        () => {
          const t = setInterval(() => {
            if (Date.now() >= until) return;
            server.publish(room, benchBar(nowMs(), seq++));
            published++;
          }, periodMs);
          timers.push(t);
        },
        (room * periodMs) / rooms,
      ),
    );
    setTimeout(
      () => {
        for (const t of timers) clearTimeout(t);
        process.send?.({ done: true, published });
      },
      (msg.seconds ?? 10) * 1000 + periodMs + 50,
    );
  } else if (msg.cmd === 'stop') {
    process.exit(0);
  }
});
