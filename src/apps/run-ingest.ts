import { createServer, type Server } from 'node:http';
import { LeaderLock, lockTimingOf } from '../bus/leader-lock.ts';
import { createRedisBus } from '../bus/redis-bus.ts';
import { encodeSourcesView, SOURCES_CHANNEL } from '../bus/sources-message.ts';
import type { Config } from '../config/config.ts';
import { answerHealth } from '../gateway/health.ts';
import { answerLogsRequest, LOGS_PATH } from '../gateway/logs-endpoint.ts';
import { pathOf, queryOf } from '../gateway/request-url.ts';
import type { LogRing } from '../telemetry/log-ring.ts';
import type { Logger } from '../telemetry/logger.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { IngestPipeline } from '../ingest/ingest-pipeline.ts';
import { raiseAlert } from '../ingest/raise-alert.ts';
import { registerSourceMetrics } from '../ingest/source-metrics.ts';
import { registerVenueMetrics } from '../ingest/venue-metrics.ts';
import { registerBusMetrics, requireScaleOutServices } from './backends.ts';
import { createPipeline } from './pipeline.ts';
import { openStorage } from './storage.ts';
import { checkSymbolsListed } from '../venues/registry.ts';

/** How often the active ingest publishes the source status for the gateways. */
const SOURCES_EVERY_MS = 1000;

export type IngestState = 'standby' | 'starting' | 'active';

export interface IngestProcess {
  /** Port of the /health and /metrics server. */
  readonly port: number;
  state(): IngestState;
  close(): Promise<void>;
}

/**
 * `tickwire ingest`: venues → candles → database + Redis. Only the holder of the Redis lock works; the others
 * wait as standbys and take over when it stops renewing (killed) or releases (stopped). A process that takes over
 * loads every venue's history first, which backfills the minutes nobody ingested. Serves /health, /metrics and,
 * given the logger's ring of recent warnings and errors, GET /api/logs.
 */
export async function startIngestProcess(
  config: Config,
  logger: Logger,
  deps: { readonly clock?: Clock; readonly recentLogs?: LogRing } = {},
): Promise<IngestProcess> {
  checkSymbolsListed(config);
  if (config.accounts.length > 0)
    logger.warn('accounts are followed by `tickwire all` only (docs/ACCOUNTS.md); this ingest follows none');
  const clock = deps.clock ?? systemClock;
  const { redisUrl, databaseUrl } = requireScaleOutServices(config, 'ingest');
  const bus = await createRedisBus({ url: redisUrl, prefix: config.redis.prefix, logger });
  const alert = (input: Parameters<typeof raiseAlert>[2]): void => raiseAlert(bus, logger, input, clock.now);
  let storage;
  try {
    storage = await openStorage(config, logger, { databaseUrl, writes: true, alert });
  } catch (err) {
    await bus.close();
    throw err;
  }
  const lock = new LeaderLock({
    url: redisUrl,
    prefix: config.redis.prefix,
    ...lockTimingOf(config.ingest),
    logger,
  });
  let pipeline: IngestPipeline | null = null;
  let state: IngestState = 'standby';
  let closing: Promise<void> | null = null;
  let sourcesTimer: ReturnType<typeof setInterval> | undefined;
  // Start and stop of the pipeline run one at a time, in the order the lock decided them.
  let transitions: Promise<void> = Promise.resolve();
  const serially = (task: () => Promise<void>): void => {
    transitions = transitions.then(task, task).catch((err: unknown) => {
      logger.error({ err }, 'ingest: start or stop of the pipeline failed');
    });
  };

  lock.onAcquired(() =>
    serially(async () => {
      if (pipeline !== null || closing !== null) return;
      state = 'starting';
      const takeover = lock.stats().attempts > 1;
      alert({
        severity: 'info',
        kind: 'ingest_active',
        message: takeover
          ? 'a standby ingest took the lock and is taking over'
          : 'this ingest holds the lock and starts',
        details: { instance: process.pid, takeover },
      });
      // Before this process writes: the history it continues must come from its own upstreams.
      await storage.adoptUpstreams(config.urls);
      if (closing !== null) return;
      const running = createPipeline({
        config,
        bus,
        store: storage.store,
        logger,
        clock,
        ...(storage.tradeSink ? { tradeSink: storage.tradeSink } : {}),
        historyRoom: () => storage.historyRoom(),
      });
      pipeline = running;
      const publishSources = (): void =>
        bus.publish(SOURCES_CHANNEL, encodeSourcesView(running.sources(), clock.now()));
      running.monitor.onSwitch(publishSources);
      running.monitor.onSwitch(venueMetrics.countFailover);
      sourcesTimer = setInterval(publishSources, SOURCES_EVERY_MS);
      await running.start();
      if (pipeline !== running) return;
      state = 'active';
      logger.info('ingest: active');
    }),
  );
  lock.onLost((reason) =>
    serially(async () => {
      logger.error({ reason }, 'ingest: lost the lock; stopping and waiting as a standby');
      await stopPipeline();
    }),
  );

  async function stopPipeline(): Promise<void> {
    clearInterval(sourcesTimer);
    const running = pipeline;
    pipeline = null;
    state = 'standby';
    await running?.close();
  }

  const metrics = new Metrics({ role: 'ingest' });
  registerBusMetrics(metrics, bus);
  storage.registerMetrics(metrics);
  registerSourceMetrics(metrics, () => pipeline?.sources(), clock.now);
  const venueMetrics = registerVenueMetrics(metrics, {
    venues: () => pipeline?.aggregatorStats().venues,
    now: clock.now,
  });
  metrics.gauge('tickwire_ingest_active', '1 while this process holds the ingest lock and works', () =>
    state === 'active' ? 1 : 0,
  );
  const startedAt = clock.now();
  const { recentLogs } = deps;
  const server = await listen(config, (path, query) => {
    if (path === '/health') {
      // A standby has no feed to judge and is healthy as a standby; a working ingest is judged like a gateway.
      const running = pipeline;
      const answer = answerHealth(
        {
          role: 'ingest',
          state,
          lock: lock.stats(),
          ...(running ? { aggregator: running.aggregatorStats() } : {}),
        },
        running
          ? {
              sources: () => running.sources(),
              symbols: config.symbols,
              uptimeMs: clock.now() - startedAt,
              startupGraceMs: config.failover.startupGraceMs,
            }
          : null,
        (err) => logger.warn({ err }, 'ingest: source status failed'),
      );
      return { status: answer.status, type: 'application/json', body: JSON.stringify(answer.body) };
    }
    if (path === LOGS_PATH && recentLogs) {
      const logs = answerLogsRequest(query, recentLogs);
      return { status: logs.status, type: 'application/json', body: JSON.stringify(logs.body) };
    }
    if (path === '/metrics')
      return metrics.text().then((body) => ({ status: 200, type: metrics.contentType, body }));
    return { status: 404, type: 'application/json', body: '{"error":"Not found"}' };
  });
  lock.start();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port }, 'ingest: waiting for the lock');

  return {
    port,
    state: () => state,
    close: () =>
      (closing ??= (async () => {
        // A start under way (history loading, or waiting for the database to store it) ends with its pipeline.
        await stopPipeline();
        await transitions;
        await stopPipeline();
        // Released only after the pipeline stopped, so a standby never overlaps with it.
        await lock.stop();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await storage.close();
        await bus.close();
      })()),
  };
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

/** A small HTTP server for operators: GET only. */
async function listen(
  config: Config,
  answer: (path: string, query: URLSearchParams) => Answer | Promise<Answer>,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    void Promise.resolve(answer(pathOf(req.url), queryOf(req.url))).then(
      (a) => res.writeHead(a.status, { 'content-type': a.type }).end(a.body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
