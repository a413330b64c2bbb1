/**
 * Server side of the history benchmark, run as a child process so that its event loop and CPU are its own.
 * argv[2] is where `initial` history comes from:
 *   memory         the gateway's memory tier (MemoryCandleStore)
 *   pglite-worker  the embedded database in its worker thread (Tickwire's default)
 *   pglite-main    the embedded database in the server's own thread (the former driver, as a baseline)
 *   postgres       PostgreSQL at BENCH_DATABASE_URL
 *   gateway-postgres  PostgreSQL as `tickwire gateway` reads it (its storage, apps/storage.ts): memory holds each
 *                  room's newest bar, as from the bus, and each read of the database extends it back
 * Every room holds `bars` closed 1m bars. IPC: → {ready, port, symbols} or {unavailable}; {cmd:'burst'} starts
 * the event-loop delay histogram and the CPU count, {cmd:'report'} → {report: {...}}, {cmd:'stop'}.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openStorage } from '../src/apps/storage.ts';
import { MemoryBus } from '../src/bus/memory-bus.ts';
import { configSchema, DEFAULT_CONFIG, loadConfig } from '../src/config/config.ts';
import type { CandleUpdate } from '../src/domain/candle.ts';
import { parseDecimal } from '../src/domain/decimal.ts';
import { startGateway } from '../src/gateway/gateway.ts';
import type { CandleStore } from '../src/store/candle-store.ts';
import { MemoryCandleStore } from '../src/store/memory-candle-store.ts';
import { openPgliteCandleStore } from '../src/store/pglite-candle-store.ts';
import { openPostgresCandleStore } from '../src/store/postgres-candle-store.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

const source = process.argv[2];
const BARS = Number(process.argv[3] ?? 1000);
const ROOMS = Number(process.argv[4] ?? 10);
const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const T0 = Date.UTC(2026, 0, 5);

/** Symbols of the benchmark's own, so that a shared PostgreSQL database keeps them apart from other data. */
const SYMBOLS = Array.from({ length: ROOMS }, (_, i) => `HB${String.fromCharCode(65 + i)}/USDT`);

function send(message: object): void {
  process.send?.(message);
}

/** Bars with the digits of real prices, so that decimal decoding costs what it costs in production. */
function updates(): CandleUpdate[] {
  const out: CandleUpdate[] = [];
  for (const symbol of SYMBOLS) {
    for (let i = 0; i < BARS; i++) {
      const price = (67_000 + Math.sin(i / 7) * 500).toFixed(2);
      out.push({
        symbol,
        interval: '1m',
        state: 'closed',
        sources: ['binance'],
        bar: {
          time: T0 + i * 60_000,
          open: parseDecimal(price),
          high: parseDecimal((Number(price) + 12.5).toFixed(2)),
          low: parseDecimal((Number(price) - 9.25).toFixed(2)),
          close: parseDecimal((Number(price) + 1.75).toFixed(2)),
          volume: parseDecimal((1 + (i % 97) / 13).toFixed(8)),
          quoteVolume: parseDecimal((67_000 * (1 + (i % 97) / 13)).toFixed(8)),
          takerBuyVolume: parseDecimal((0.5 + (i % 31) / 17).toFixed(8)),
          takerBuyQuoteVolume: parseDecimal((33_500 * (1 + (i % 31) / 17)).toFixed(8)),
          trades: 100 + (i % 400),
        },
      });
    }
  }
  return out;
}

interface Opened {
  readonly store: CandleStore;
  /** Puts the benchmark's bars where the source keeps them. */
  seed(bars: readonly CandleUpdate[]): Promise<void>;
  cleanUp(): Promise<void>;
}

async function openStore(): Promise<Opened> {
  const logger = silentLogger();
  const seed = (store: CandleStore) => async (bars: readonly CandleUpdate[]) => store.write(bars);
  if (source === 'memory') {
    const store = new MemoryCandleStore(BARS);
    return { store, seed: seed(store), cleanUp: async () => undefined };
  }
  if (source === 'pglite-worker' || source === 'pglite-main') {
    const dir = await mkdtemp(join(tmpdir(), 'tickwire-bench-history-'));
    const thread = source === 'pglite-worker' ? 'worker' : 'main';
    const store = await openPgliteCandleStore({ dataDir: dir, logger, thread });
    return { store, seed: seed(store), cleanUp: () => rm(dir, { recursive: true, force: true }) };
  }
  if (source === 'postgres') {
    const store = await openPostgresCandleStore({ url: DATABASE_URL, logger, connectTimeoutMs: 2000 });
    return { store, seed: seed(store), cleanUp: async () => undefined };
  }
  if (source === 'gateway-postgres') {
    // The bars go to the database alone; the gateway role's storage is opened as `tickwire gateway` opens it.
    const seeder = await openPostgresCandleStore({ url: DATABASE_URL, logger, connectTimeoutMs: 2000 });
    const storage = await openStorage(loadConfig({ DATABASE_URL }), logger, {
      databaseUrl: DATABASE_URL,
      writes: false,
    });
    return {
      store: storage.store,
      async seed(bars) {
        await seeder.write(bars);
        await seeder.close();
        const newest = new Map(bars.map((u) => [u.symbol, u]));
        for (const update of newest.values()) storage.memory.mirror(update);
      },
      cleanUp: async () => undefined,
    };
  }
  throw new Error(`unknown history source ${String(source)}`);
}

async function main(): Promise<void> {
  let opened: Awaited<ReturnType<typeof openStore>>;
  try {
    opened = await openStore();
  } catch (err) {
    send({ unavailable: (err as Error).message });
    return;
  }
  const { store, cleanUp } = opened;
  await opened.seed(updates());
  const config = configSchema.parse({
    ...DEFAULT_CONFIG,
    port: 0,
    host: '127.0.0.1',
    symbols: SYMBOLS,
    logLevel: 'silent',
    gateway: {
      ...DEFAULT_CONFIG.gateway,
      maxMessagesPerSecond: 100_000,
      maxBufferedBytes: 256 * 1024 * 1024,
      // One address asks for every initial of the burst: the history budget would refuse most of them.
      historyBarsPerSecond: 100_000_000,
      historyBurstBars: 100_000_000,
      historyBarsPerSecondPerIp: 100_000_000,
      historyBurstBarsPerIp: 100_000_000,
    },
  });
  const gateway = await startGateway({ config, bus: new MemoryBus(), store, logger: silentLogger() });
  const delay = monitorEventLoopDelay({ resolution: 5 });
  let cpuAtBurst = process.cpuUsage();
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'burst') {
      delay.reset();
      delay.enable();
      cpuAtBurst = process.cpuUsage();
      send({ burst: true });
    } else if (m.cmd === 'report') {
      delay.disable();
      const cpu = process.cpuUsage(cpuAtBurst);
      send({
        report: {
          delayMaxMs: delay.max / 1e6,
          delayP99Ms: delay.percentile(99) / 1e6,
          cpuMs: (cpu.user + cpu.system) / 1000,
        },
      });
    } else if (m.cmd === 'stop') {
      void gateway
        .close()
        .then(() => store.close())
        .then(cleanUp)
        .finally(() => process.exit(0));
    }
  });
  send({ ready: true, port: gateway.port, symbols: SYMBOLS });
}

await main();
