import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import type { AlertInput } from '../domain/alert.ts';
import type { Trade } from '../domain/trade.ts';
import { BufferedCandleStore, BufferedTradeWriter } from '../store/buffered-candle-store.ts';
import type { CandleStore } from '../store/candle-store.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { openPgliteCandleStore } from '../store/pglite-candle-store.ts';
import { openPostgresCandleStore } from '../store/postgres-candle-store.ts';
import { TieredCandleStore } from '../store/tiered-candle-store.ts';
import type { MismatchedHistory, Upstreams } from '../store/upstreams.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface Storage {
  /** Reads: memory for the recent window, the database beyond it. Writes: memory at once, the database batched. */
  readonly store: CandleStore;
  /** The recent window (the gateway role fills it from the bus). */
  readonly memory: MemoryCandleStore;
  /** Present when trades are stored (STORE_TRADES). */
  readonly tradeSink?: (trades: readonly Trade[]) => void;
  registerMetrics(metrics: Metrics): void;
  /**
   * Records `upstreams` as where this process's history comes from; bars filled from another upstream are taken
   * out of service first (store/upstreams.ts). Called by a writing process before it serves or writes history;
   * a process that only reads does nothing.
   */
  adoptUpstreams(upstreams: Upstreams): Promise<void>;
  /** Writes what is buffered (bounded wait) and closes the database. */
  close(): Promise<void>;
}

export interface StorageOptions {
  /** PostgreSQL; without it, the embedded database under `storage.dataDir`. */
  readonly databaseUrl?: string;
  /** False for a process that only reads (gateway role): no write buffer, no trade storage. */
  readonly writes: boolean;
  /** Raises storage_down / storage_recovered / storage_overflow. */
  readonly alert?: (input: AlertInput) => void;
  /** What adoptUpstreams does with bars of another upstream; default 'archive'. */
  readonly mismatchedHistory?: MismatchedHistory;
}

/**
 * Opens the history store of a process: the database (migrated), a write-behind buffer in front of it that rides
 * out outages, and the in-memory recent window in front of both.
 */
export async function openStorage(config: Config, logger: Logger, options: StorageOptions): Promise<Storage> {
  const url = options.databaseUrl ?? config.storage.databaseUrl;
  const database =
    url !== undefined
      ? await openPostgresCandleStore({ url, logger })
      : await openPgliteCandleStore({ dataDir: join(config.storage.dataDir, 'pglite'), logger });
  const memory = new MemoryCandleStore(config.candles.memoryBars);
  if (!options.writes) {
    const store = new TieredCandleStore({ memory, persistent: database, logger });
    return {
      store,
      memory,
      registerMetrics() {},
      adoptUpstreams: async () => undefined,
      close: () => database.close(),
    };
  }
  // Batch write times, observed once /metrics is registered.
  let observeWrite: ((ms: number, ok: boolean) => void) | undefined;
  const buffered = new BufferedCandleStore(database, {
    flushMs: config.storage.flushMs,
    maxPending: config.storage.maxPendingBars,
    logger,
    onBatchWritten: (ms, ok) => observeWrite?.(ms, ok),
  });
  const stopWatching = watchOutages(buffered, config, options.alert);
  const trades = config.storage.storeTrades
    ? new BufferedTradeWriter(database, { logger, flushMs: config.storage.flushMs })
    : undefined;
  const store = new TieredCandleStore({ memory, persistent: buffered, logger });
  return {
    store,
    memory,
    ...(trades ? { tradeSink: (batch: readonly Trade[]) => trades.write(batch) } : {}),
    async adoptUpstreams(upstreams) {
      await database.adoptUpstreams(upstreams, {
        mismatched: options.mismatchedHistory ?? 'archive',
        logger,
      });
    },
    registerMetrics(metrics) {
      const writeSeconds = metrics.histogram(
        'tickwire_store_write_seconds',
        'Time of one batch write of bars to the database, s',
        [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      );
      const writeFailures = metrics.histogram(
        'tickwire_store_failed_write_seconds',
        'Time of one batch write that failed (retried), s',
        [0.01, 0.1, 1, 5, 10, 30],
      );
      observeWrite = (ms, ok) => (ok ? writeSeconds : writeFailures).observe(ms / 1000);
      metrics.gauge(
        'tickwire_store_pending_bars',
        'Bars waiting to be written',
        () => buffered.stats().pending,
      );
      metrics.counter('tickwire_store_written_bars_total', 'Bars written', () => buffered.stats().written);
      metrics.counter(
        'tickwire_store_dropped_bars_total',
        'Bars dropped: the write buffer was full during an outage',
        () => buffered.stats().dropped,
      );
      metrics.gauge('tickwire_store_up', '1 while database writes succeed', () =>
        buffered.stats().status === 'up' ? 1 : 0,
      );
      if (trades) {
        metrics.gauge(
          'tickwire_store_pending_trades',
          'Trades waiting to be written',
          () => trades.stats().pending,
        );
      }
    },
    async close() {
      stopWatching();
      await trades?.close();
      await store.close();
    },
  };
}

/** How often a full write buffer is checked for dropped bars. */
const OVERFLOW_CHECK_MS = 5000;

/**
 * Database outages become alerts: once when writes start failing, once when they succeed again, and whenever
 * bars had to be dropped from a full buffer since the last check. Returns the function that stops watching.
 */
function watchOutages(
  buffered: BufferedCandleStore,
  config: Config,
  alert: ((input: AlertInput) => void) | undefined,
): () => void {
  let downAt: number | null = null;
  const stopStatus = buffered.onStatus((status) => {
    const stats = buffered.stats();
    if (status.state === 'down') {
      downAt = Date.now();
      alert?.({
        severity: 'critical',
        kind: 'storage_down',
        message: 'candle writes to the database fail; they are buffered and retried',
        details: { error: status.error ?? null, pending: stats.pending },
      });
      return;
    }
    alert?.({
      severity: 'info',
      kind: 'storage_recovered',
      message: 'the database accepts writes again; the buffered bars were written',
      details: { downMs: downAt === null ? null : Date.now() - downAt, written: stats.written },
    });
    downAt = null;
  });
  let droppedReported = 0;
  const timer = setInterval(() => {
    const { dropped } = buffered.stats();
    if (dropped <= droppedReported) return;
    droppedReported = dropped;
    alert?.({
      severity: 'critical',
      kind: 'storage_overflow',
      message: `the write buffer is full: ${dropped} oldest bars dropped so far (refilled from the venues at restart)`,
      details: { dropped, maxPendingBars: config.storage.maxPendingBars },
    });
  }, OVERFLOW_CHECK_MS);
  timer.unref();
  return () => {
    stopStatus();
    clearInterval(timer);
  };
}
