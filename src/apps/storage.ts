import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import type { AlertInput } from '../domain/alert.ts';
import type { Trade } from '../domain/trade.ts';
import { BufferedCandleStore, BufferedTradeWriter } from '../store/buffered-candle-store.ts';
import type { AccountStore } from '../store/account-store.ts';
import type { CandleStore } from '../store/candle-store.ts';
import type { CandleRowStore } from '../store/candle-row.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { openPgliteCandleStore } from '../store/pglite-candle-store.ts';
import { OpeningCandleStore } from '../store/opening-candle-store.ts';
import type { SqlCandleStore } from '../store/sql-candle-store.ts';
import { TieredCandleStore } from '../store/tiered-candle-store.ts';
import type { TradeStore } from '../store/trade-store.ts';
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
   * Resolves once fewer than HISTORY_BACKLOG_BARS bars wait for the database (at once for a process that only
   * reads). The background history waits on it before each piece (HistoryLoaderOptions.room).
   */
  historyRoom(): Promise<void>;
  /**
   * Records `upstreams` as where this process's history comes from; bars filled from another upstream are taken
   * out of service first (store/upstreams.ts). Called by a writing process before it serves or writes history;
   * a process that only reads does nothing.
   */
  adoptUpstreams(upstreams: Upstreams): Promise<void>;
  /**
   * The account history (fills, equity samples) in the same database, once it is open. Close the accounts before
   * the storage: closing the storage closes their database.
   */
  accountStore(): Promise<AccountStore>;
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
 * Bars that may wait for the database before the background history fetches its next piece (a piece is at most
 * 1,440 bars; the write buffer writes 1,000 a batch). The history of 20 instruments used to run far ahead of the
 * embedded database: 70,000 bars and more waited as objects, which is what the heap grew to while history loaded,
 * and V8 kept that heap long after (docs/PERFORMANCE.md, "Idle stack memory").
 */
export const HISTORY_BACKLOG_BARS = 5000;

/** Opens the history database of a process, migrated: PostgreSQL at `url`, else the embedded one under DATA_DIR. */
export async function openDatabase(config: Config, logger: Logger, url?: string): Promise<SqlCandleStore> {
  if (url === undefined)
    return openPgliteCandleStore({ dataDir: join(config.storage.dataDir, 'pglite'), logger });
  // PostgreSQL's client is loaded only when a process uses it (docs/PERFORMANCE.md, "Module loading").
  const { openPostgresCandleStore } = await import('../store/postgres-candle-store.ts');
  return openPostgresCandleStore({ url, logger });
}

/**
 * Opens the history store of a process: the database (migrated), a write-behind buffer in front of it that rides
 * out outages, and the in-memory recent window in front of both.
 */
export async function openStorage(config: Config, logger: Logger, options: StorageOptions): Promise<Storage> {
  const database = await openDatabase(config, logger, options.databaseUrl ?? config.storage.databaseUrl);
  return storageOver(
    database,
    database,
    async () => database.accounts(),
    config,
    logger,
    options,
    async (upstreams) => {
      await database.adoptUpstreams(upstreams, {
        mismatched: options.mismatchedHistory ?? 'archive',
        logger,
      });
    },
  );
}

/** A writing process's history store whose database is still opening; see startStorage. */
export interface StartingStorage extends Omit<Storage, 'adoptUpstreams'> {
  /**
   * Resolves once the database has opened and adopted the upstreams; rejects with why it could not (reads and
   * writes that need it reject too, and the write buffer keeps retrying until `close()`).
   */
  readonly opened: Promise<void>;
}

export interface StartingStorageOptions extends Omit<StorageOptions, 'writes'> {
  /** Where this process's history comes from (see Storage.adoptUpstreams); adopted before the database is used. */
  readonly upstreams: Upstreams;
  /** Opens the database; default openDatabase (tests hold it back to see the process work before it is open). */
  readonly openDatabase?: typeof openDatabase;
}

/**
 * The history store of a writing process (`tickwire all`), usable at once while its database opens (creating a
 * first embedded database takes seconds): writes go to memory at once and queue in the write buffer, which
 * writes them in order once the database is there (nothing is lost, as through an outage); reads are answered
 * from memory meanwhile, the database's history counting as not readable yet (OpeningCandleStore's
 * 'nothing-yet': the caller must take such answers as partial, as `tickwire all` does while history loads).
 */
export function startStorage(
  config: Config,
  logger: Logger,
  options: StartingStorageOptions,
): StartingStorage {
  const opening = (async () => {
    const database = await (options.openDatabase ?? openDatabase)(
      config,
      logger,
      options.databaseUrl ?? config.storage.databaseUrl,
    );
    // Before any history is read or written: bars of another upstream must never be served as this one's.
    try {
      await database.adoptUpstreams(options.upstreams, {
        mismatched: options.mismatchedHistory ?? 'archive',
        logger,
      });
    } catch (err) {
      await database.close();
      throw err;
    }
    return database;
  })();
  const candles = new OpeningCandleStore(opening, { readsWhileOpening: 'nothing-yet' });
  const trades: TradeStore = { writeTrades: async (batch) => (await opening).writeTrades(batch) };
  const storage = storageOver(
    candles,
    trades,
    async () => (await opening).accounts(),
    config,
    logger,
    { ...options, writes: true },
    async () => undefined,
  );
  return Object.assign(storage, { opened: opening.then(() => undefined) });
}

/** The tiers of a history store in front of `database` (see openStorage). */
function storageOver(
  database: CandleRowStore,
  tradeStore: TradeStore,
  accountStore: () => Promise<AccountStore>,
  config: Config,
  logger: Logger,
  options: StorageOptions,
  adoptUpstreams: (upstreams: Upstreams) => Promise<void>,
): Storage {
  const memory = new MemoryCandleStore(config.candles.memoryBars);
  if (!options.writes) {
    // Memory follows the bus from this process's start (run-gateway.ts): database reads extend it back.
    const store = new TieredCandleStore({
      memory,
      persistent: database,
      logger,
      extendMemoryFromReads: true,
    });
    return {
      store,
      memory,
      registerMetrics() {},
      historyRoom: async () => undefined,
      adoptUpstreams: async () => undefined,
      accountStore,
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
    ? new BufferedTradeWriter(tradeStore, { logger, flushMs: config.storage.flushMs })
    : undefined;
  const store = new TieredCandleStore({ memory, persistent: buffered, logger });
  return {
    store,
    memory,
    ...(trades ? { tradeSink: (batch: readonly Trade[]) => trades.write(batch) } : {}),
    adoptUpstreams,
    accountStore,
    async historyRoom() {
      // flushed() waits for what is waiting now, not for what live bars add meanwhile. It rejects only when bars
      // were dropped or the store closed: the caller goes on, and its own writes report the failure.
      while (buffered.stats().pending >= HISTORY_BACKLOG_BARS) {
        try {
          await buffered.flushed();
        } catch {
          return;
        }
      }
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
