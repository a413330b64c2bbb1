import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { positiveInteger } from '../util/options.ts';
import { waitAtMost } from '../util/wait-at-most.ts';
import { checkedRedisUrl, closeRedis, redisConnectionOptions } from './redis-bus.ts';

/** The `ingest` section of the configuration (src/config/config.ts) that sets the lock's timing. */
export interface IngestLockSettings {
  readonly lockTtlMs: number;
  readonly lockRetryMs: number;
  readonly lockSafetyMarginMs?: number | undefined;
}

/** The lock options a configuration's `ingest` section sets. */
export function lockTimingOf(
  settings: IngestLockSettings,
): Pick<LeaderLockOptions, 'ttlMs' | 'retryMs' | 'safetyMarginMs'> {
  return {
    ttlMs: settings.lockTtlMs,
    retryMs: settings.lockRetryMs,
    ...(settings.lockSafetyMarginMs === undefined ? {} : { safetyMarginMs: settings.lockSafetyMarginMs }),
  };
}

/**
 * The lock that keeps one `ingest` process active while standbys wait (high availability without a home-made
 * cluster protocol).
 *
 * Mechanics. The lock is one Redis key whose value is the holder's token. A process that does not hold it tries
 * `SET key token NX PX ttlMs` every `retryMs`. The holder renews every ttlMs/5 with a compare-and-pexpire
 * script (the TTL is reset only while the key still holds its token) and on `stop()` releases with a
 * compare-and-del script, so a holder never extends or deletes a lock that is no longer its own.
 *
 * The lease. Redis sets the key's expiry when it runs a command, which is after the holder sent it; so the key
 * lives at least ttlMs after the send time of the last SET or renewal that Redis confirmed. The holder counts its
 * lease from that send time, on its own clock, and holds it until `ttlMs - safetyMarginMs` later. The margin
 * covers the clocks' drift and the time the process needs to stop working once it stepped down.
 *
 * Semantics.
 * - Acquired (`onAcquired`): the SET succeeded; this process is now the one to ingest.
 * - Redis unreachable for a moment (a blip): the holder keeps the lead and keeps working while its lease runs;
 *   renewals are retried at once when the connection is back (the connection itself retries every
 *   `maxReconnectDelayMs` at most). A blip that ends before the lease does moves nothing: the key still holds the
 *   holder's token, so no standby could take it, and the first renewal after the blip extends it.
 * - Lost (`onLost(reason)`): the process must stop ingesting at once; the lock goes back to trying like a
 *   standby and may fire `onAcquired` again. `'unreachable'`: no renewal was confirmed within the lease (Redis
 *   unreachable for longer than ttlMs - safetyMarginMs - the time since the last renewal): the holder steps
 *   down before its key can expire, so a standby that takes the expired key never works beside it. `'taken'`:
 *   a renewal found another token in the key; `'expired'`: a renewal found the key gone (Redis lost it).
 * - A standby takes the lock only through SET NX, that is only once the key is gone: never while the holder's
 *   lease runs. After an outage, a holder that stepped down for `'unreachable'` tries again as soon as its
 *   connection is back, while standbys keep their pace, so the lock usually returns to the same process.
 * - Killed holder (kill -9, machine gone): nothing renews, the key expires ttlMs after the last renewal, and a
 *   standby takes it at its next try: a takeover within ttlMs + retryMs (6 s with the defaults).
 * - `stop()` releases the lock (if still ours) so that a standby takes over within retryMs; it fires no
 *   `onLost`.
 */

/** The ingest lock's key (after the deployment's prefix). */
export const INGEST_LOCK_KEY = 'tickwire:ingest:leader';

export type LeaderLostReason = 'taken' | 'expired' | 'unreachable';

export interface LeaderLockOptions {
  /** `redis://` or `rediss://` URL. */
  readonly url: string;
  /** The deployment's namespace, prepended to `key`. Default ''. */
  readonly prefix?: string;
  /** Default INGEST_LOCK_KEY. */
  readonly key?: string;
  /** How long the lock outlives its holder's last renewal, ms. Default 5,000. */
  readonly ttlMs?: number;
  /**
   * How long before the key could expire in Redis a holder that cannot renew steps down, ms. Default ttlMs / 5
   * (1,000 with the default TTL).
   */
  readonly safetyMarginMs?: number;
  /** How often a process without the lock tries to take it, ms. Default 1,000. */
  readonly retryMs?: number;
  /** This process's token, to be seen in the key by operators. Default `<hostname>:<pid>:<random>`. */
  readonly token?: string;
  readonly logger: Logger;
  /** Longest wait between two reconnect attempts, ms. Default 500: a blip must end in a renewal soon after. */
  readonly maxReconnectDelayMs?: number;
  /** `stop()` waits at most this long for Redis (release, then QUIT). Default 2,000. */
  readonly closeTimeoutMs?: number;
  /** The time and the timers of the lease, renewals and tries (default the system clock). */
  readonly clock?: Clock;
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

const DEFAULTS = { ttlMs: 5_000, retryMs: 1_000, maxReconnectDelayMs: 500, closeTimeoutMs: 2_000 } as const;

export class LeaderLock {
  /** The Redis key (prefix included). */
  readonly key: string;
  readonly token: string;
  private readonly ttlMs: number;
  private readonly leaseMs: number;
  private readonly retryMs: number;
  private readonly renewMs: number;
  private readonly closeTimeoutMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly redis: Redis;
  private readonly acquiredHandlers = new Set<() => void>();
  private readonly lostHandlers = new Set<(reason: LeaderLostReason) => void>();
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private leader = false;
  /** While leader: when the lease ends by our clock (the send time of the last confirmed command + leaseMs). */
  private leaseEnd = 0;
  /** Ends the lease at `leaseEnd` when no renewal came in time. */
  private leaseTimer: Timer | undefined;
  /** Renewals have been failing since this time (ms), while we hold the lock. */
  private unreachableSince: number | undefined;
  /** We stepped down for 'unreachable' and have not tried since: try as soon as Redis answers. */
  private steppedDown = false;
  private timer: Timer | undefined;
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
    const margin = options.safetyMarginMs ?? Math.floor(this.ttlMs / 5);
    if (!Number.isSafeInteger(margin) || margin < 0 || margin > this.ttlMs / 2) {
      throw new RangeError(`${owner}: safetyMarginMs must be an integer from 0 to ttlMs / 2, got ${margin}`);
    }
    this.leaseMs = this.ttlMs - margin;
    this.renewMs = Math.floor(this.ttlMs / 5);
    this.closeTimeoutMs = positiveInteger(
      owner,
      'closeTimeoutMs',
      options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
    );
    this.key = (options.prefix ?? '') + (options.key ?? INGEST_LOCK_KEY);
    this.token = options.token ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
    if (this.token === '') throw new RangeError(`${owner}: token must not be empty`);
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
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
    // Redis (back) at hand: the holder renews now rather than at the next tick (its lease is running out), a
    // holder that had to step down tries now (the lock most likely is free, and it was the one working), and so
    // does a process that has not tried yet (start-up). Other standbys keep their pace, which gives the former
    // holder the first try after an outage.
    this.redis.on('ready', () => {
      const now = this.leader || this.steppedDown || this.counts.attempts === 0;
      if (this.state !== 'running' || this.busy || !now) return;
      this.clock.clearTimer(this.timer);
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

  /** Whether this process holds the lock: it took it and its lease has not run out by its clock. */
  isLeader(): boolean {
    return this.leader && this.clock.now() < this.leaseEnd;
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
    this.clock.clearTimer(this.timer);
    this.clock.clearTimer(this.leaseTimer);
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

  /**
   * `command`'s answer, or a rejection when the connection closes first: ioredis never settles a command that was
   * on the wire when its connection broke (it does not resend them, on purpose), and a step waiting for one would
   * stop every later renewal.
   */
  private untilClosed<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const closed = (): void =>
        reject(new Error('leader lock: the connection closed before Redis answered'));
      this.redis.once('close', closed);
      command.then(resolve, reject).finally(() => this.redis.off('close', closed));
    });
  }

  private schedule(delayMs: number): void {
    this.timer = this.clock.setTimeout(() => {
      this.busy = true;
      this.step = (this.leader ? this.renew() : this.tryAcquire()).finally(() => {
        this.busy = false;
        if (this.state === 'running') this.schedule(this.leader ? this.renewMs : this.retryMs);
      });
    }, delayMs);
  }

  private async tryAcquire(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    this.steppedDown = false;
    this.counts.attempts++;
    const sentAt = this.clock.now();
    let reply: string | null;
    try {
      reply = await this.untilClosed(this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX'));
    } catch (err) {
      this.logger.debug({ err }, 'leader lock: try failed');
      return;
    }
    if (reply !== 'OK' || this.state !== 'running') return;
    this.acquired(sentAt);
  }

  private acquired(sentAt: number): void {
    this.leader = true;
    this.unreachableSince = undefined;
    this.extendLease(sentAt);
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

  /** Redis confirmed a command sent at `sentAt` that set the key's TTL: the lease runs from then. */
  private extendLease(sentAt: number): void {
    this.leaseEnd = Math.max(this.leaseEnd, sentAt + this.leaseMs);
    this.clock.clearTimer(this.leaseTimer);
    this.leaseTimer = this.clock.setTimeout(() => this.leaseRanOut(), this.leaseEnd - this.clock.now());
  }

  private leaseRanOut(): void {
    if (!this.leader || this.state !== 'running') return;
    if (this.clock.now() < this.leaseEnd) {
      this.extendLease(this.leaseEnd - this.leaseMs);
      return;
    }
    this.logger.warn(
      {
        key: this.key,
        unreachableMs: this.unreachableSince === undefined ? null : this.clock.now() - this.unreachableSince,
      },
      'leader lock: no renewal reached Redis within the lease; stepping down before the key can expire',
    );
    this.steppedDown = true;
    this.lose('unreachable');
  }

  private async renew(): Promise<void> {
    const sentAt = this.clock.now();
    let reply: unknown;
    try {
      reply = await this.untilClosed(this.redis.eval(RENEW, 1, this.key, this.token, this.ttlMs));
    } catch (err) {
      this.counts.renewFailures++;
      if (this.unreachableSince === undefined && this.leader) {
        this.unreachableSince = sentAt;
        this.logger.warn(
          { err, key: this.key, leaseLeftMs: this.leaseEnd - this.clock.now() },
          'leader lock cannot reach Redis; keeping the lead while the lease runs',
        );
      }
      return;
    }
    if (this.state !== 'running') return;
    if (reply === 1) {
      this.counts.renewals++;
      // The lease ran out while this renewal was on its way, and Redis still had our key: it is ours again.
      if (!this.leader) {
        this.acquired(sentAt);
        return;
      }
      this.extendLease(sentAt);
      if (this.unreachableSince !== undefined) {
        this.logger.info(
          { key: this.key, unreachableMs: this.clock.now() - this.unreachableSince },
          'leader lock: Redis answers again and the lock is still ours',
        );
        this.unreachableSince = undefined;
      }
      return;
    }
    if (this.leader) this.lose(reply === -1 ? 'taken' : 'expired');
  }

  private lose(reason: LeaderLostReason): void {
    this.leader = false;
    this.leaseEnd = 0;
    this.clock.clearTimer(this.leaseTimer);
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
