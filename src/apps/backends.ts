import type { Bus } from '../bus/bus.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import type { RedisBus } from '../bus/redis-bus.ts';
import type { RedisRateWindows } from '../bus/redis-rate-windows.ts';
import type { Config } from '../config/config.ts';
import { TickwireError } from '../domain/errors.ts';
import { DEFAULT_RECENT_ALERTS } from '../gateway/alert-feed.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/**
 * The services a role of several processes cannot do without: the bus between them and a database they share.
 * Throws CONFIG_INVALID naming what is missing.
 */
export function requireScaleOutServices(
  config: Config,
  role: 'ingest' | 'gateway',
): { redisUrl: string; databaseUrl: string } {
  const missing: string[] = [];
  if (config.redis.url === undefined) missing.push('REDIS_URL (the bus between ingest and gateways)');
  if (config.storage.databaseUrl === undefined)
    missing.push('DATABASE_URL (the history they share; the embedded database belongs to one process)');
  if (config.redis.url === undefined || config.storage.databaseUrl === undefined) {
    throw new TickwireError(
      'CONFIG_INVALID',
      `tickwire ${role} needs ${missing.join(' and ')}; or run \`tickwire all\` for one process`,
    );
  }
  return { redisUrl: config.redis.url, databaseUrl: config.storage.databaseUrl };
}

/**
 * The bus of `tickwire all`: Redis when REDIS_URL is set (so that extra gateways can attach), else in-process. On
 * Redis its gateway, like `tickwire gateway`, starts with the alert log's recent entries: a restart does not empty
 * the alerts channel's memory.
 */
export async function openBus(config: Config, logger: Logger): Promise<Bus> {
  if (config.redis.url === undefined) return new MemoryBus({ logger });
  // Redis's client is loaded only when Redis is configured: it took about a sixth of `tickwire all`'s module
  // loading (docs/PERFORMANCE.md, "Module loading").
  const { createRedisBus } = await import('../bus/redis-bus.ts');
  return createRedisBus({
    url: config.redis.url,
    prefix: config.redis.prefix,
    logger,
    durableBacklog: DEFAULT_RECENT_ALERTS,
  });
}

/**
 * Where a gateway counts its `/api/` rate limit: in Redis when the process has it, so that every gateway on the
 * same Redis and prefix shares one limit per client; otherwise (undefined) in the process's memory.
 */
export async function openApiRateWindows(
  config: Config,
  logger: Logger,
): Promise<RedisRateWindows | undefined> {
  if (config.redis.url === undefined) return undefined;
  const { openRedisRateWindows } = await import('../bus/redis-rate-windows.ts');
  return openRedisRateWindows({ url: config.redis.url, prefix: config.redis.prefix, logger });
}

export function registerBusMetrics(metrics: Metrics, bus: Bus): void {
  metrics.gauge('tickwire_bus_up', '1 when the bus delivers between processes', () =>
    bus.status().state === 'up' ? 1 : 0,
  );
  if (!isRedisBus(bus)) return;
  metrics.counter('tickwire_bus_published_total', 'Messages published to Redis', () => bus.stats().published);
  metrics.counter('tickwire_bus_received_total', 'Messages received from Redis', () => bus.stats().received);
  metrics.gauge('tickwire_bus_queued', 'Messages waiting for Redis (an outage)', () => bus.stats().queued);
  metrics.counter('tickwire_bus_dropped_total', 'Messages dropped: queue full', () => bus.stats().dropped);
  metrics.counter(
    'tickwire_bus_reconnects_total',
    'Redis connections re-established',
    () => bus.stats().reconnects,
  );
  metrics.counter(
    'tickwire_bus_replayed_total',
    'Alerts (durable messages) missed during an outage and delivered from the stream',
    () => bus.stats().replayed,
  );
  metrics.counter(
    'tickwire_bus_backlog_total',
    'Alerts (durable messages) from before the start delivered from the stream to a first subscription',
    () => bus.stats().backlog,
  );
}

/** Whether `bus` crosses processes over Redis; told by its counters, not by its class, which loads Redis's client. */
function isRedisBus(bus: Bus): bus is RedisBus {
  return 'stats' in bus;
}
