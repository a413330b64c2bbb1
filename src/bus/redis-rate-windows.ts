import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';
import { checkedRedisUrl, closeRedis, redisConnectionOptions } from './redis-bus.ts';

/** A count that takes longer than this is given up: the request is counted in the process's memory instead. */
const COMMAND_TIMEOUT_MS = 250;
const CLOSE_TIMEOUT_MS = 1000;
/** How long a starting gateway waits for Redis (the bus it starts with waits as long). */
const CONNECT_TIMEOUT_MS = 5000;
const KEY = 'api-rate:';

/**
 * One request counted in a fixed window (KEYS[1] = the client's key; ARGV = now, window length, max). The window
 * starts at the client's first request on the gateways' clock (`r`, its end) so that every gateway agrees on it;
 * the key's expiry only clears windows nobody asks about any more. The count stops at max + 1, like the memory one.
 */
const HIT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local reset = tonumber(redis.call('HGET', KEYS[1], 'r'))
if reset == nil or reset <= now then
  reset = now + window
  redis.call('HSET', KEYS[1], 'r', string.format('%.0f', reset), 'c', 0)
  redis.call('PEXPIRE', KEYS[1], window)
end
local count = tonumber(redis.call('HGET', KEYS[1], 'c'))
if count <= max then count = redis.call('HINCRBY', KEYS[1], 'c', 1) end
return {count, reset}
`;

/**
 * The `/api/` request windows kept in Redis, shared by every gateway on the same Redis and prefix: a client that
 * reaches several gateways behind a load balancer has one limit, not one per gateway. One connection of its own,
 * with no offline queue: while Redis is unreachable a count fails at once and the limiter counts in memory
 * (src/gateway/api-rate-limit.ts, whose `SharedRateWindows` this is).
 */
export class RedisRateWindows {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly where: string;

  constructor(options: { readonly url: string; readonly prefix: string; readonly logger: Logger }) {
    this.where = checkedRedisUrl(options.url, 'RedisRateWindows');
    this.prefix = options.prefix + KEY;
    this.redis = new Redis(options.url, {
      ...redisConnectionOptions({
        name: 'tickwire-api-rate',
        maxReconnectDelayMs: 5000,
        connectTimeoutMs: 2000,
        socketTimeoutMs: 2000,
      }),
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    // Failures surface as failed counts (the limiter logs them); ioredis needs a listener so as not to print them.
    this.redis.on('error', (err: Error) =>
      options.logger.debug({ err }, 'api rate limit: redis connection error'),
    );
  }

  /** Counts one request of `client` at `now`: the window's count (stops at max + 1) and its end, ms. */
  async hit(
    client: string,
    now: number,
    windowMs: number,
    max: number,
  ): Promise<{ count: number; resetAt: number }> {
    const reply = (await this.redis.eval(HIT, 1, this.prefix + client, now, windowMs, max)) as [
      number,
      number,
    ];
    return { count: Number(reply[0]), resetAt: Number(reply[1]) };
  }

  /** Resolves once Redis answers; rejects after `timeoutMs` without it. */
  untilReady(timeoutMs: number): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const ready = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.redis.off('ready', ready);
        reject(new Error(`api rate limit: redis at ${this.where} not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      this.redis.once('ready', ready);
    });
  }

  close(): Promise<void> {
    return closeRedis(this.redis, CLOSE_TIMEOUT_MS);
  }
}

/** The shared windows, once Redis answers (a gateway starts with them or not at all, as with its bus). */
export async function openRedisRateWindows(options: {
  readonly url: string;
  readonly prefix: string;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
}): Promise<RedisRateWindows> {
  const windows = new RedisRateWindows(options);
  try {
    await windows.untilReady(options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
  } catch (err) {
    await windows.close();
    throw err;
  }
  return windows;
}
