import { Redis, type RedisOptions } from 'ioredis';
import { backoffDelay } from '../util/backoff.ts';
import { positiveInteger } from '../util/options.ts';
import { waitAtMost } from '../util/wait-at-most.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Bus, BusStatus } from './bus.ts';

/**
 * Bus over Redis pub/sub, for an ingest process and gateways in other processes (centrifuge's broker_redis
 * beside broker_memory).
 *
 * Two connections: one publishes, one is the subscriber. Every channel name is prefixed with `prefix`, so
 * that deployments (and test suites) sharing one Redis never see each other. Local handlers of one channel
 * share one Redis SUBSCRIBE, sent with the first handler and withdrawn with the last.
 *
 * Outages: ioredis reconnects each connection with capped exponential backoff. The bus is down from the
 * moment either connection is lost until both are back and every channel is subscribed again; `onStatus`
 * handlers hear each transition once. While the publisher connection is down, `publish` stays synchronous and
 * puts messages in a queue of our own, bounded by `maxQueued` (past it the oldest are dropped and counted),
 * flushed in order when the connection is back; ioredis's own offline queue, which is unbounded, is disabled.
 * Redis pub/sub keeps nothing for a subscriber that is away, so what was published elsewhere while this bus
 * was down is not delivered to it.
 *
 * Delivery: in publish order, once. The exception is a PUBLISH that was on the wire, unanswered, when the
 * publisher connection broke: Redis may or may not have carried it, so it is sent again after the reconnect,
 * ahead of the queue (order holds), and a subscriber may see it twice. Handlers run in arrival order; one
 * that throws is logged and the others still run.
 */

export interface RedisBusOptions {
  /** `redis://` or `rediss://` URL (user, password and database number included). */
  readonly url: string;
  /** Namespace prepended to every channel name. Default '' (Tickwire's channel names start with 'tickwire:'). */
  readonly prefix?: string;
  readonly logger: Logger;
  /** Messages kept while the publisher is down (and the most in flight while it is up). Default 10,000. */
  readonly maxQueued?: number;
  /** Longest wait between two reconnect attempts, ms. Default 2,000. */
  readonly maxReconnectDelayMs?: number;
  /**
   * A connection attempt that takes longer is abandoned (and retried), ms; also how long `createRedisBus` waits for
   * the bus to come up. Default 10,000.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Each connection is PINGed this often, and one that leaves a command unanswered this long is reset, so a
   * connection that died silently (no reset from the network) is noticed. Default 5,000.
   */
  readonly heartbeatMs?: number;
  /** `close()` waits at most this long for Redis to answer QUIT before dropping the sockets. Default 2,000. */
  readonly closeTimeoutMs?: number;
}

export interface RedisBusStats {
  /** Messages Redis acknowledged. */
  readonly published: number;
  /** Messages that arrived on subscribed channels. */
  readonly received: number;
  /** Messages waiting for the publisher connection. */
  readonly queued: number;
  /** Messages given up: the oldest of a full queue, those Redis refused, those still queued at close. */
  readonly dropped: number;
  /** Connections re-established after a loss (each of the two counts). */
  readonly reconnects: number;
  readonly status: BusStatus;
}

const DEFAULTS = {
  prefix: '',
  maxQueued: 10_000,
  maxReconnectDelayMs: 2_000,
  connectTimeoutMs: 10_000,
  heartbeatMs: 5_000,
  closeTimeoutMs: 2_000,
} as const;

/** Throws a TypeError unless `url` is a redis:// or rediss:// URL; returns it with the password hidden, for logs. */
export function checkedRedisUrl(url: string, owner: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.protocol !== 'redis:' && parsed?.protocol !== 'rediss:') {
    throw new TypeError(`${owner}: url must be a redis:// or rediss:// URL`);
  }
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

/**
 * ioredis settings shared by Tickwire's Redis connections: no offline queue (a command sent while disconnected
 * fails at once, so callers decide what to keep, and nothing grows without bound), no replay of unanswered
 * commands after a reconnect (callers do it where it is safe), capped backoff, and a socket timeout.
 */
export function redisConnectionOptions(o: {
  readonly name: string;
  readonly maxReconnectDelayMs: number;
  readonly connectTimeoutMs: number;
  readonly socketTimeoutMs: number;
}): RedisOptions {
  return {
    connectionName: o.name,
    enableOfflineQueue: false,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: null,
    connectTimeout: o.connectTimeoutMs,
    socketTimeout: o.socketTimeoutMs,
    retryStrategy: (attempt) =>
      backoffDelay(attempt, { minMs: 100, maxMs: o.maxReconnectDelayMs, jitter: 'proportional' }),
  };
}

/**
 * Closes a connection within `timeoutMs`: QUIT when it is ready (Redis answers the commands sent before it
 * first), then the socket is dropped whatever happened.
 */
export async function closeRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready')
    await waitAtMost(
      redis.quit().catch(() => undefined),
      timeoutMs,
    );
  redis.disconnect();
}

interface Outgoing {
  /** Prefixed channel name. */
  readonly channel: string;
  readonly message: string;
}

/** FIFO of outgoing messages; shift is O(1) amortized. */
class OutgoingQueue {
  private items: Outgoing[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: Outgoing): void {
    this.items.push(item);
  }

  /** Puts `items` (in their order) ahead of everything queued. */
  pushFront(items: readonly Outgoing[]): void {
    this.items = items.concat(this.items.slice(this.head));
    this.head = 0;
  }

  shift(): Outgoing | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head++];
    // Compact once the consumed part dominates, so a long-lived queue does not keep every message it ever held.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

type Handler = (message: string) => void;
type Side = 'publisher' | 'subscriber';

export class RedisBus implements Bus {
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly maxQueued: number;
  private readonly closeTimeoutMs: number;
  private readonly pub: Redis;
  private readonly sub: Redis;
  /** Local handlers by prefixed channel name; a channel is in this map exactly while it has a handler. */
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly statusHandlers = new Set<(status: BusStatus) => void>();
  private readonly queue = new OutgoingQueue();
  /** PUBLISHes written and not yet answered, in send order. */
  private readonly inFlight = new Map<number, Outgoing>();
  private nextId = 0;
  /** Bumped when the publisher connection is lost: answers from before belong to a dead connection. */
  private pubEpoch = 0;
  /** Bumped when the subscriber connection is lost or back: a resubscribe answer from before is stale. */
  private subEpoch = 0;
  private pubUp = false;
  /** The subscriber connection is ready and every channel of `handlers` is subscribed on it. */
  private subUp = false;
  private readonly everReady = { publisher: false, subscriber: false };
  private readonly lastError: Record<Side, string | undefined> = {
    publisher: undefined,
    subscriber: undefined,
  };
  private current: BusStatus = { state: 'down', error: 'connecting' };
  private dropLogged = false;
  private readonly heartbeat: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private readonly counts = { published: 0, received: 0, dropped: 0, reconnects: 0 };

  /** Starts connecting; the bus is down until both connections are ready (`createRedisBus` waits for that). */
  constructor(options: RedisBusOptions) {
    const owner = 'RedisBus';
    const where = checkedRedisUrl(options.url, owner);
    this.prefix = options.prefix ?? DEFAULTS.prefix;
    this.logger = options.logger;
    this.maxQueued = positiveInteger(owner, 'maxQueued', options.maxQueued ?? DEFAULTS.maxQueued);
    this.closeTimeoutMs = positiveInteger(
      owner,
      'closeTimeoutMs',
      options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
    );
    const heartbeatMs = positiveInteger(owner, 'heartbeatMs', options.heartbeatMs ?? DEFAULTS.heartbeatMs);
    const connection = {
      maxReconnectDelayMs: positiveInteger(
        owner,
        'maxReconnectDelayMs',
        options.maxReconnectDelayMs ?? DEFAULTS.maxReconnectDelayMs,
      ),
      connectTimeoutMs: positiveInteger(
        owner,
        'connectTimeoutMs',
        options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      ),
      socketTimeoutMs: heartbeatMs,
    };
    this.logger.info({ redis: where, prefix: this.prefix }, 'redis bus connecting');

    this.pub = new Redis(options.url, redisConnectionOptions({ ...connection, name: 'tickwire-bus-pub' }));
    this.sub = new Redis(options.url, redisConnectionOptions({ ...connection, name: 'tickwire-bus-sub' }));
    this.pub.on('ready', () => this.onPublisherReady());
    this.pub.on('close', () => this.onPublisherClosed());
    this.pub.on('error', (err: Error) => this.onError('publisher', err));
    this.sub.on('ready', () => this.onSubscriberReady());
    this.sub.on('close', () => this.onSubscriberClosed());
    this.sub.on('error', (err: Error) => this.onError('subscriber', err));
    this.sub.on('message', (channel: string, message: string) => this.deliver(channel, message));

    this.heartbeat = setInterval(() => {
      for (const redis of [this.pub, this.sub]) {
        // A failed PING needs no handling here: the socket timeout or the close event does the work.
        if (redis.status === 'ready') redis.ping().catch(() => undefined);
      }
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /** Queues while the publisher is down (bounded: the oldest are dropped past `maxQueued`); never throws. */
  publish(channel: string, message: string): void {
    if (this.closing) {
      this.counts.dropped++;
      return;
    }
    const item: Outgoing = { channel: this.prefix + channel, message };
    if (this.queue.length === 0 && this.canSend()) {
      this.send(item);
      return;
    }
    this.queue.push(item);
    this.trimQueue();
    this.drain();
  }

  subscribe(channel: string, handler: (message: string) => void): () => void {
    if (this.closing) throw new Error('RedisBus: subscribe after close');
    const full = this.prefix + channel;
    let set = this.handlers.get(full);
    if (!set) {
      set = new Set();
      this.handlers.set(full, set);
      // When the connection is not ready, the resubscribe on 'ready' covers this channel.
      if (this.sub.status === 'ready') {
        this.sub.subscribe(full).catch((err: Error) => this.commandFailed('SUBSCRIBE', full, err));
      }
    }
    // Wrap so the same function can be subscribed twice and removed once each.
    const entry: Handler = (message) => handler(message);
    set.add(entry);
    return () => {
      if (!set.delete(entry) || set.size > 0 || this.handlers.get(full) !== set) return;
      this.handlers.delete(full);
      if (this.sub.status === 'ready' && !this.closing) {
        this.sub.unsubscribe(full).catch((err: Error) => this.commandFailed('UNSUBSCRIBE', full, err));
      }
    };
  }

  onStatus(handler: (status: BusStatus) => void): () => void {
    const entry = (status: BusStatus): void => handler(status);
    this.statusHandlers.add(entry);
    return () => {
      this.statusHandlers.delete(entry);
    };
  }

  status(): BusStatus {
    return this.current;
  }

  stats(): RedisBusStats {
    return { ...this.counts, queued: this.queue.length, status: this.current };
  }

  /**
   * Resolves once the bus is up; rejects with the last connection errors after `timeoutMs`.
   */
  untilUp(timeoutMs: number): Promise<void> {
    if (this.current.state === 'up') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.onStatus((s) => {
        if (s.state !== 'up') return;
        finish();
        resolve();
      });
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`redis bus not up within ${timeoutMs} ms: ${this.downReason()}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        off();
      };
    });
  }

  /**
   * Quits both connections, waiting at most `closeTimeoutMs` for Redis: messages already written are sent first,
   * messages still queued are dropped (counted). No status change is reported from here on.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    clearInterval(this.heartbeat);
    this.statusHandlers.clear();
    this.counts.dropped += this.queue.length;
    this.queue.clear();
    this.current = { state: 'down', error: 'closed' };
    this.closing = Promise.all([
      closeRedis(this.pub, this.closeTimeoutMs),
      closeRedis(this.sub, this.closeTimeoutMs),
    ]).then(() => {
      this.handlers.clear();
    });
    return this.closing;
  }

  private canSend(): boolean {
    return this.pubUp && this.pub.status === 'ready' && this.inFlight.size < this.maxQueued;
  }

  private send(item: Outgoing): void {
    const id = this.nextId++;
    const epoch = this.pubEpoch;
    this.inFlight.set(id, item);
    this.pub.publish(item.channel, item.message).then(
      () => {
        if (epoch !== this.pubEpoch) return;
        this.inFlight.delete(id);
        this.counts.published++;
        this.drain();
      },
      (err: Error) => {
        if (epoch !== this.pubEpoch) return;
        // Anything but a reply from Redis means the connection is going: the message stays in flight and is
        // queued again, in order, when the close arrives.
        if (err.name !== 'ReplyError') return;
        this.inFlight.delete(id);
        this.counts.dropped++;
        this.logger.error({ err, channel: item.channel }, 'redis refused a bus message; dropped');
        this.drain();
      },
    );
  }

  /** Sends queued messages while the publisher can take them. */
  private drain(): void {
    while (this.queue.length > 0 && this.canSend()) this.send(this.queue.shift() as Outgoing);
  }

  private trimQueue(): void {
    let over = this.queue.length - this.maxQueued;
    if (over <= 0) return;
    this.counts.dropped += over;
    while (over-- > 0) this.queue.shift();
    if (!this.dropLogged) {
      this.dropLogged = true;
      this.logger.warn(
        { maxQueued: this.maxQueued },
        'redis bus queue full; dropping the oldest messages until Redis is back',
      );
    }
  }

  private onPublisherReady(): void {
    if (this.closing) return;
    if (this.everReady.publisher) this.counts.reconnects++;
    this.everReady.publisher = true;
    this.lastError.publisher = undefined;
    this.pubUp = true;
    this.drain();
    this.updateStatus();
  }

  private onPublisherClosed(): void {
    if (this.closing) return;
    this.pubUp = false;
    this.pubEpoch++;
    if (this.inFlight.size > 0) {
      this.queue.pushFront([...this.inFlight.values()]);
      this.inFlight.clear();
      this.trimQueue();
    }
    this.lastError.publisher ??= 'connection closed';
    this.updateStatus();
  }

  private onSubscriberReady(): void {
    if (this.closing) return;
    if (this.everReady.subscriber) this.counts.reconnects++;
    this.everReady.subscriber = true;
    this.lastError.subscriber = undefined;
    const epoch = ++this.subEpoch;
    const channels = [...this.handlers.keys()];
    if (channels.length === 0) {
      this.subUp = true;
      this.updateStatus();
      return;
    }
    // Up only once Redis confirmed the subscriptions, so that "up" means messages published from now on arrive.
    this.sub.subscribe(...channels).then(
      () => {
        if (epoch !== this.subEpoch || this.closing) return;
        this.subUp = true;
        this.updateStatus();
      },
      (err: Error) => {
        if (epoch !== this.subEpoch || this.closing) return;
        this.lastError.subscriber = `resubscribe failed: ${err.message}`;
        this.logger.error({ err, channels: channels.length }, 'redis bus could not resubscribe');
        this.updateStatus();
      },
    );
  }

  private onSubscriberClosed(): void {
    if (this.closing) return;
    this.subUp = false;
    this.subEpoch++;
    this.lastError.subscriber ??= 'connection closed';
    this.updateStatus();
  }

  private onError(side: Side, err: Error): void {
    if (this.closing) return;
    this.lastError[side] = err.message;
    // Every failed reconnect attempt raises one; the status transition is what operators need to see.
    this.logger.debug({ err, side }, 'redis bus connection error');
  }

  private commandFailed(command: string, channel: string, err: Error): void {
    // A connection that is going down fails its commands; the resubscribe after reconnect sets things right.
    if (err.name === 'ReplyError') this.logger.error({ err, channel }, `redis refused ${command}`);
    else this.logger.debug({ err, channel }, `${command} not sent; the connection is down`);
  }

  private downReason(): string {
    const parts: string[] = [];
    for (const side of ['publisher', 'subscriber'] as const) {
      const error = this.lastError[side];
      if (error !== undefined) parts.push(`${side}: ${error}`);
    }
    return parts.length > 0 ? parts.join('; ') : 'connecting';
  }

  private updateStatus(): void {
    const up = this.pubUp && this.subUp;
    if (up === (this.current.state === 'up')) {
      if (!up) this.current = { state: 'down', error: this.downReason() };
      return;
    }
    this.current = up ? { state: 'up' } : { state: 'down', error: this.downReason() };
    if (up) {
      this.logger.info({ queued: this.queue.length, dropped: this.counts.dropped }, 'redis bus up');
      this.dropLogged = false;
    } else {
      this.logger.warn({ error: this.current.error }, 'redis bus down; publishing into the bounded queue');
    }
    for (const handler of this.statusHandlers) {
      try {
        handler(this.current);
      } catch (err) {
        this.logger.error({ err }, 'bus status handler threw');
      }
    }
  }

  private deliver(channel: string, message: string): void {
    this.counts.received++;
    const set = this.handlers.get(channel);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(message);
      } catch (err) {
        this.logger.error(
          { err, channel: channel.slice(this.prefix.length) },
          'bus subscriber threw; the other subscribers still got the message',
        );
      }
    }
  }
}

/**
 * A RedisBus that is up: resolves once both connections are ready, or closes it and rejects after
 * `connectTimeoutMs` (so that a process started against a wrong or dead Redis says so instead of waiting).
 */
export async function createRedisBus(options: RedisBusOptions): Promise<RedisBus> {
  const bus = new RedisBus(options);
  try {
    await bus.untilUp(options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs);
  } catch (err) {
    await bus.close();
    throw new Error(`redis bus at ${checkedRedisUrl(options.url, 'RedisBus')}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return bus;
}
