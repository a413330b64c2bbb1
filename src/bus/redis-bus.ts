import { Redis, type RedisOptions } from 'ioredis';
import { backoffDelay } from '../util/backoff.ts';
import { positiveInteger } from '../util/options.ts';
import { waitAtMost } from '../util/wait-at-most.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ALERT_CHANNEL } from './alert-message.ts';
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
 * was down is not delivered to it, except on the durable channels (below).
 *
 * Durable channels (`durableChannels`, default the alerts): a message is also appended to a capped Redis Stream
 * (`<channel>:log`, XADD MAXLEN ~ `durableMaxLen`) by the same script that publishes it, with the stream id in
 * front of the published text, so both carry one order. A subscriber remembers the id of the last message it
 * delivered; after a reconnect it reads what the stream holds after that id (XRANGE) and delivers it, in order,
 * before the live messages that arrived meanwhile (held until then), skipping every id it already delivered.
 * The bus reports itself up only once this catch-up is done. What was trimmed from the stream (more than
 * `durableMaxLen` messages missed) cannot be replayed. A first subscription starts at the stream's end, or, with
 * `durableBacklog`, that many messages before it: the channel's recent past (a gateway that starts learns the
 * recent alerts), delivered oldest first before the live ones.
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
  /** Channels whose messages a subscriber gets after a reconnect (see above). Default: the alerts channel. */
  readonly durableChannels?: readonly string[];
  /** Messages each durable channel's stream keeps (approximately: MAXLEN ~). Default 1,000. */
  readonly durableMaxLen?: number;
  /**
   * The last messages of a durable channel's stream that its first subscription delivers, oldest first, before
   * the live ones (at most what the stream keeps). Default 0: a first subscription gets only what comes next.
   */
  readonly durableBacklog?: number;
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
  /** Messages of durable channels delivered from their stream after a reconnect (missed while away). */
  readonly replayed: number;
  /** Messages of durable channels delivered from their stream's recent past to a first subscription. */
  readonly backlog: number;
  readonly status: BusStatus;
}

const DEFAULTS = {
  prefix: '',
  maxQueued: 10_000,
  maxReconnectDelayMs: 2_000,
  connectTimeoutMs: 10_000,
  heartbeatMs: 5_000,
  closeTimeoutMs: 2_000,
  durableChannels: [ALERT_CHANNEL],
  durableMaxLen: 1_000,
  durableBacklog: 0,
} as const;

/** Appends to the stream and publishes `<id> <message>`, atomically: the stream and the channel share one order. */
const DURABLE_PUBLISH = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
return id`;

/** Orders two stream ids (`<ms>-<seq>`): negative when a comes first. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

/**
 * `command`'s answer, or a rejection when the connection closes first. ioredis never settles a command that was
 * on the wire when its connection broke (it does not resend them, as configured here), so whoever waits for an
 * answer must also wait for the close.
 */
export function answerOrClose<T>(redis: Redis, command: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const closed = (): void => reject(new Error('the Redis connection closed before the answer'));
    redis.once('close', closed);
    command.then(resolve, reject).finally(() => redis.off('close', closed));
  });
}

/** What a subscriber keeps of one durable channel. */
interface DurableChannel {
  /** The stream's key (prefixed). */
  readonly stream: string;
  /** Id of the last message delivered (at first, the stream's end when subscribed); null before it is known. */
  lastId: string | null;
  /** (Re)subscribed and not yet caught up with the stream: live messages wait in `held`. */
  catchingUp: boolean;
  held: { readonly id: string; readonly message: string }[];
}

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
  /** The subscriber connection is ready and Redis confirmed every subscription (catch-ups may still run). */
  private subscribed = false;
  /** Durable channel names (prefixed) and their stream keys. */
  private readonly durableStreams = new Map<string, string>();
  private readonly durableMaxLen: number;
  private readonly durableBacklog: number;
  /** The durable channels subscribed here, by prefixed name. */
  private readonly durable = new Map<string, DurableChannel>();
  private catchUpRunning = false;
  private readonly everReady = { publisher: false, subscriber: false };
  private readonly lastError: Record<Side, string | undefined> = {
    publisher: undefined,
    subscriber: undefined,
  };
  private current: BusStatus = { state: 'down', error: 'connecting' };
  private dropLogged = false;
  private readonly heartbeat: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private readonly counts = { published: 0, received: 0, dropped: 0, reconnects: 0, replayed: 0, backlog: 0 };

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
    this.durableMaxLen = positiveInteger(
      owner,
      'durableMaxLen',
      options.durableMaxLen ?? DEFAULTS.durableMaxLen,
    );
    const backlog = options.durableBacklog ?? DEFAULTS.durableBacklog;
    if (!Number.isSafeInteger(backlog) || backlog < 0 || backlog > this.durableMaxLen) {
      throw new RangeError(
        `${owner}: durableBacklog must be an integer from 0 to durableMaxLen, got ${backlog}`,
      );
    }
    this.durableBacklog = backlog;
    for (const channel of options.durableChannels ?? DEFAULTS.durableChannels) {
      this.durableStreams.set(this.prefix + channel, `${this.prefix}${channel}:log`);
    }
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
    this.sub.on('message', (channel: string, message: string) => this.receive(channel, message));

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
      const stream = this.durableStreams.get(full);
      const durable = stream === undefined ? undefined : this.durableState(full, stream);
      // When the connection is not ready, the resubscribe on 'ready' covers this channel.
      if (this.sub.status === 'ready') {
        const epoch = this.subEpoch;
        if (durable) durable.catchingUp = true;
        this.sub.subscribe(full).then(
          () => {
            if (durable && epoch === this.subEpoch) this.runCatchUps();
          },
          (err: Error) => this.commandFailed('SUBSCRIBE', full, err),
        );
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
    const stream = this.durableStreams.get(item.channel);
    const sent =
      stream === undefined
        ? this.pub.publish(item.channel, item.message)
        : this.pub.eval(DURABLE_PUBLISH, 2, stream, item.channel, item.message, this.durableMaxLen);
    sent.then(
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
    // A catch-up reads the streams over this connection: it may have waited for it.
    this.runCatchUps();
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
    for (const channel of channels) {
      const durable = this.durable.get(channel);
      if (durable) durable.catchingUp = true;
    }
    if (channels.length === 0) {
      this.subscribed = true;
      this.runCatchUps();
      return;
    }
    // Up only once Redis confirmed the subscriptions, so that "up" means messages published from now on arrive,
    // and once the durable channels caught up with what was published while away.
    this.sub.subscribe(...channels).then(
      () => {
        if (epoch !== this.subEpoch || this.closing) return;
        this.subscribed = true;
        this.runCatchUps();
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
    this.subscribed = false;
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

  private receive(channel: string, text: string): void {
    this.counts.received++;
    const durable = this.durable.get(channel);
    if (durable === undefined) {
      this.deliver(channel, text);
      return;
    }
    const space = text.indexOf(' ');
    const id = text.slice(0, Math.max(space, 0));
    if (!/^\d+-\d+$/.test(id)) {
      this.logger.warn({ channel, sample: text.slice(0, 80) }, 'durable bus message without a stream id');
      this.deliver(channel, text);
      return;
    }
    const message = text.slice(space + 1);
    if (durable.catchingUp) durable.held.push({ id, message });
    else this.deliverDurable(channel, durable, id, message);
  }

  /** Delivers a durable channel's message unless an id as late was delivered already (a repeat). */
  private deliverDurable(channel: string, durable: DurableChannel, id: string, message: string): boolean {
    if (durable.lastId !== null && compareStreamIds(id, durable.lastId) <= 0) return false;
    durable.lastId = id;
    this.deliver(channel, message);
    return true;
  }

  private durableState(channel: string, stream: string): DurableChannel {
    let state = this.durable.get(channel);
    if (!state) {
      state = { stream, lastId: null, catchingUp: true, held: [] };
      this.durable.set(channel, state);
    }
    return state;
  }

  /**
   * Brings every durable channel that was (re)subscribed up to date with its stream, one at a time, over the
   * publisher connection; the bus is up once none is left. A catch-up cut short by the connection is run again
   * when it is back.
   */
  private runCatchUps(): void {
    if (this.catchUpRunning || this.closing || !this.subscribed) return;
    const pending = [...this.durable].filter(([channel, d]) => d.catchingUp && this.handlers.has(channel));
    if (pending.length === 0) {
      this.subUp = true;
      this.updateStatus();
      return;
    }
    if (!this.pubUp || this.pub.status !== 'ready') return;
    this.catchUpRunning = true;
    void (async () => {
      let retry = true;
      try {
        for (const [channel, durable] of pending) await this.catchUp(channel, durable);
      } catch (err) {
        if ((err as Error).name === 'ReplyError') {
          this.logger.error({ err }, 'redis refused to read a durable channel; its missed messages are lost');
          for (const [channel, durable] of pending) this.release(channel, durable);
        } else {
          // The connection went: the catch-up runs again once it is back.
          this.logger.debug({ err }, 'durable channel catch-up interrupted');
          retry = false;
        }
      } finally {
        this.catchUpRunning = false;
      }
      if (retry) this.runCatchUps();
    })();
  }

  private async catchUp(channel: string, durable: DurableChannel): Promise<void> {
    if (durable.lastId === null) {
      // First subscription: nothing was missed; the stream's end is where this subscriber starts, after the
      // backlog (its last messages) if one is asked for.
      const count = Math.max(1, this.durableBacklog);
      const last = await answerOrClose(
        this.pub,
        this.pub.xrevrange(durable.stream, '+', '-', 'COUNT', count),
      );
      const end = last[0]?.[0] ?? '0-0';
      const backlog = this.durableBacklog === 0 ? [] : last.flatMap(([id, fields]) => entryOf(id, fields));
      // Held messages arrived after the subscription took effect: every one is new, whatever its id; those the
      // stream's end already holds go in id order with the backlog (each once).
      const upToEnd = [...backlog, ...durable.held.filter((h) => compareStreamIds(h.id, end) <= 0)];
      upToEnd.sort((a, b) => compareStreamIds(a.id, b.id));
      for (const e of upToEnd) {
        if (this.deliverDurable(channel, durable, e.id, e.message) && backlog.includes(e))
          this.counts.backlog++;
      }
      if (durable.lastId === null || compareStreamIds(end, durable.lastId) > 0) durable.lastId = end;
    } else {
      const entries = await answerOrClose(
        this.pub,
        this.pub.xrange(durable.stream, `(${durable.lastId}`, '+', 'COUNT', this.durableMaxLen),
      );
      let replayed = 0;
      for (const [id, fields] of entries) {
        for (const e of entryOf(id, fields))
          if (this.deliverDurable(channel, durable, e.id, e.message)) replayed++;
      }
      this.counts.replayed += replayed;
      if (replayed > 0) {
        this.logger.info(
          { channel: channel.slice(this.prefix.length), replayed },
          'redis bus: delivered the messages missed while away',
        );
      }
    }
    this.release(channel, durable);
  }

  /** Ends a catch-up: delivers the live messages held meanwhile (those not delivered already), in order. */
  private release(channel: string, durable: DurableChannel): void {
    const held = durable.held;
    durable.held = [];
    durable.catchingUp = false;
    for (const h of held) this.deliverDurable(channel, durable, h.id, h.message);
  }

  private deliver(channel: string, message: string): void {
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

/** The message of one durable stream entry (field `m`); none for an entry without it. */
function entryOf(id: string, fields: readonly string[]): { id: string; message: string }[] {
  const at = fields.indexOf('m');
  const message = at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
  return message === undefined ? [] : [{ id, message }];
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
