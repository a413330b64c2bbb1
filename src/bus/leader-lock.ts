import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';
import { positiveInteger } from '../util/options.ts';
import { waitAtMost } from '../util/wait-at-most.ts';
import { checkedRedisUrl, closeRedis, redisConnectionOptions } from './redis-bus.ts';

/**
 * The lock that keeps one `ingest` process active while standbys wait (high availability without a home-made
 * cluster protocol).
 *
 * Mechanics. The lock is one Redis key whose value is the holder's token. A process that does not hold it tries
 * `SET key token NX PX ttlMs` every `retryMs`. The holder renews every ttlMs/3 with a compare-and-pexpire
 * script (the TTL is reset only while the key still holds its token) and on `stop()` releases with a
 * compare-and-del script, so a holder never extends or deletes a lock that is no longer its own.
 *
 * Semantics.
 * - Acquired (`onAcquired`): the SET succeeded; this process is now the one to ingest.
 * - Lost (`onLost(reason)`), decided only from what Redis answers to a renewal: `'taken'` when the key now holds
 *   another token (someone else took over), `'expired'` when the key is gone (the renewals stopped reaching
 *   Redis for longer than the TTL, or Redis lost the key). The process must stop ingesting at once; the lock goes
 *   back to trying every `retryMs`, like a standby, and may fire `onAcquired` again.
 * - Redis unreachable: the holder keeps the lead and keeps working. If Redis itself is down, no standby can take
 *   the lock either, and stopping would leave nobody ingesting. When Redis answers again, the next renewal
 *   re-checks ownership and reports a loss if there was one. The price: in a network split that cuts off only
 *   the holder, a standby takes over after the TTL while the holder still runs, and both ingest until the holder
 *   reaches Redis again (the store's upserts are idempotent, so the cost is duplicate work, not wrong data).
 * - Killed holder (kill -9, machine gone): nothing renews, the key expires ttlMs after the last renewal, and a
 *   standby takes it at its next try: a takeover within ttlMs + retryMs (6 s with the defaults).
 * - `stop()` releases the lock (if still ours) so that a standby takes over within retryMs; it fires no
 *   `onLost`.
 */

/** The ingest lock's key (after the deployment's prefix). */
export const INGEST_LOCK_KEY = 'tickwire:ingest:leader';

export type LeaderLostReason = 'taken' | 'expired';

export interface LeaderLockOptions {
  /** `redis://` or `rediss://` URL. */
  readonly url: string;
  /** The deployment's namespace, prepended to `key`. Default ''. */
  readonly prefix?: string;
  /** Default INGEST_LOCK_KEY. */
  readonly key?: string;
  /** How long the lock outlives its holder's last renewal, ms. Default 5,000. */
  readonly ttlMs?: number;
  /** How often a process without the lock tries to take it, ms. Default 1,000. */
  readonly retryMs?: number;
  /** This process's token, to be seen in the key by operators. Default `<hostname>:<pid>:<random>`. */
  readonly token?: string;
  readonly logger: Logger;
  /** Longest wait between two reconnect attempts, ms. Default 2,000. */
  readonly maxReconnectDelayMs?: number;
  /** `stop()` waits at most this long for Redis (release, then QUIT). Default 2,000. */
  readonly closeTimeoutMs?: number;
}

export interface LeaderLockStats {
  /** SET NX tries made while not holding the lock. */
  readonly attempts: number;
  /** Times the lock was taken. */
  readonly acquired: number;
  /** Times it was lost (onLost). */
  readonly lost: number;
  /** Renewals Redis confirmed. */
  readonly renewals: number;
  /** Renewals that did not reach Redis (it was unreachable). */
  readonly renewFailures: number;
}

/** 1 renewed; 0 the key is gone; -1 the key holds another token. */
const RENEW = `
local current = redis.call('get', KEYS[1])
if current == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if current then return -1 end
return 0`;

/** Deletes the key only while it holds our token. */
const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

const DEFAULTS = { ttlMs: 5_000, retryMs: 1_000, maxReconnectDelayMs: 2_000, closeTimeoutMs: 2_000 } as const;

export class LeaderLock {
  /** The Redis key (prefix included). */
  readonly key: string;
  readonly token: string;
  private readonly ttlMs: number;
  private readonly retryMs: number;
  private readonly renewMs: number;
  private readonly closeTimeoutMs: number;
  private readonly logger: Logger;
  private readonly redis: Redis;
  private readonly acquiredHandlers = new Set<() => void>();
  private readonly lostHandlers = new Set<(reason: LeaderLostReason) => void>();
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private leader = false;
  /** Renewals have been failing since this time (ms), while we hold the lock. */
  private unreachableSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** A step (try or renewal) is waiting for Redis. */
  private busy = false;
  /** The step in progress, so that `stop()` releases only after it (its SET may yet take the lock). */
  private step: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private readonly counts = { attempts: 0, acquired: 0, lost: 0, renewals: 0, renewFailures: 0 };

  /** Connects; call `start()` to begin taking part. */
  constructor(options: LeaderLockOptions) {
    const owner = 'LeaderLock';
    const where = checkedRedisUrl(options.url, owner);
    this.ttlMs = positiveInteger(owner, 'ttlMs', options.ttlMs ?? DEFAULTS.ttlMs);
    this.retryMs = positiveInteger(owner, 'retryMs', options.retryMs ?? DEFAULTS.retryMs);
    if (this.ttlMs < 30) throw new RangeError(`${owner}: ttlMs must be at least 30, got ${this.ttlMs}`);
    this.renewMs = Math.floor(this.ttlMs / 3);
    this.closeTimeoutMs = positiveInteger(
      owner,
      'closeTimeoutMs',
      options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
    );
    this.key = (options.prefix ?? '') + (options.key ?? INGEST_LOCK_KEY);
    this.token = options.token ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
    if (this.token === '') throw new RangeError(`${owner}: token must not be empty`);
    this.logger = options.logger;
    this.redis = new Redis(
      options.url,
      redisConnectionOptions({
        name: 'tickwire-leader-lock',
        maxReconnectDelayMs: positiveInteger(
          owner,
          'maxReconnectDelayMs',
          options.maxReconnectDelayMs ?? DEFAULTS.maxReconnectDelayMs,
        ),
        // A command that outlives a renewal period is of no use to the next one.
        connectTimeoutMs: Math.max(this.renewMs, 1000),
        socketTimeoutMs: Math.max(this.renewMs, 1000),
      }),
    );
    // Connection errors surface as failed commands below; ioredis needs a listener so as not to print them.
    this.redis.on('error', (err: Error) => this.logger.debug({ err }, 'leader lock connection error'));
    // Redis (back) at hand: try, or re-check ownership, now rather than at the next tick.
    this.redis.on('ready', () => {
      if (this.state !== 'running' || this.busy) return;
      clearTimeout(this.timer);
      this.schedule(0);
    });
    this.logger.info({ redis: where, key: this.key, token: this.token }, 'leader lock created');
  }

  /** Calls `handler` each time this process takes the lock; returns a function that removes it. */
  onAcquired(handler: () => void): () => void {
    const entry = (): void => handler();
    this.acquiredHandlers.add(entry);
    return () => {
      this.acquiredHandlers.delete(entry);
    };
  }

  /** Calls `handler` each time this process loses the lock (see the semantics above). */
  onLost(handler: (reason: LeaderLostReason) => void): () => void {
    const entry = (reason: LeaderLostReason): void => handler(reason);
    this.lostHandlers.add(entry);
    return () => {
      this.lostHandlers.delete(entry);
    };
  }

  /** Whether this process holds the lock, as far as it knows (see the semantics above). */
  isLeader(): boolean {
    return this.leader;
  }

  stats(): LeaderLockStats {
    return { ...this.counts };
  }

  /** Begins trying to take the lock (at once, then every retryMs). Once only. */
  start(): void {
    if (this.state !== 'idle') throw new Error(`LeaderLock: start() when ${this.state}`);
    this.state = 'running';
    this.schedule(0);
  }

  /**
   * Stops trying and renewing, releases the lock if it still holds our token, and closes the connection; within
   * three `closeTimeoutMs` (the step in progress, the release, QUIT) whatever Redis does.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    clearTimeout(this.timer);
    this.stopping = (async () => {
      await this.bounded(this.step);
      if (wasRunning) {
        const released = await this.bounded(this.redis.eval(RELEASE, 1, this.key, this.token));
        if (released === 1) this.logger.info({ key: this.key }, 'leader lock released');
        else if (released === undefined && this.leader) {
          this.logger.warn(
            { key: this.key },
            'leader lock not released (Redis unreachable); it expires by its TTL',
          );
        }
      }
      this.leader = false;
      await closeRedis(this.redis, this.closeTimeoutMs);
    })();
    return this.stopping;
  }

  /** `promise`'s value, or undefined when it fails or takes longer than closeTimeoutMs. */
  private async bounded<T>(promise: Promise<T>): Promise<T | undefined> {
    let value: T | undefined;
    const settled = promise.then(
      (v) => {
        value = v;
      },
      () => undefined,
    );
    return (await waitAtMost(settled, this.closeTimeoutMs)) ? value : undefined;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.busy = true;
      this.step = (this.leader ? this.renew() : this.tryAcquire()).finally(() => {
        this.busy = false;
        if (this.state === 'running') this.schedule(this.leader ? this.renewMs : this.retryMs);
      });
    }, delayMs);
  }

  private async tryAcquire(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    this.counts.attempts++;
    let reply: string | null;
    try {
      reply = await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX');
    } catch (err) {
      this.logger.debug({ err }, 'leader lock: try failed');
      return;
    }
    if (reply !== 'OK' || this.state !== 'running') return;
    this.leader = true;
    this.unreachableSince = undefined;
    this.counts.acquired++;
    this.logger.info({ key: this.key, token: this.token }, 'leader lock acquired');
    for (const handler of this.acquiredHandlers) {
      try {
        handler();
      } catch (err) {
        this.logger.error({ err }, 'leader lock onAcquired handler threw');
      }
    }
  }

  private async renew(): Promise<void> {
    let reply: unknown;
    try {
      reply = await this.redis.eval(RENEW, 1, this.key, this.token, this.ttlMs);
    } catch (err) {
      this.counts.renewFailures++;
      if (this.unreachableSince === undefined) {
        this.unreachableSince = Date.now();
        this.logger.warn(
          { err, key: this.key },
          'leader lock cannot reach Redis; keeping the lead until Redis answers',
        );
      }
      return;
    }
    if (this.state !== 'running') return;
    if (reply === 1) {
      this.counts.renewals++;
      if (this.unreachableSince !== undefined) {
        this.logger.info(
          { key: this.key, unreachableMs: Date.now() - this.unreachableSince },
          'leader lock: Redis answers again and the lock is still ours',
        );
        this.unreachableSince = undefined;
      }
      return;
    }
    this.lose(reply === -1 ? 'taken' : 'expired');
  }

  private lose(reason: LeaderLostReason): void {
    this.leader = false;
    this.unreachableSince = undefined;
    this.counts.lost++;
    this.logger.warn({ key: this.key, reason }, 'leader lock lost');
    for (const handler of this.lostHandlers) {
      try {
        handler(reason);
      } catch (err) {
        this.logger.error({ err }, 'leader lock onLost handler threw');
      }
    }
  }
}
