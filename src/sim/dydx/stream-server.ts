/**
 * The dYdX v4 Indexer socket (`/v4/ws`): `connected` on open, `subscribe`/`unsubscribe` to v4_trades, v4_orderbook,
 * v4_candles, v4_markets and v4_subaccounts (served by the private side, account-side.ts) with `subscribed` initial state, `channel_data` updates or `channel_batch_data` batches
 * (when subscribed with `batched: true`, flushed every `batchFlushMs`), `unsubscribed`, `error` replies, and
 * application `ping` → `pong`. Every message carries the connection's own `message_id`, 0 on `connected` and +1 per
 * message whatever its channel. The server pings every `pingIntervalMs` and terminates a connection whose pong does
 * not come within `pongTimeoutMs`. Limits: subscriptions per channel per connection, subscribe requests per
 * (channel, id) per second, invalid messages per second (then the connection is closed).
 *
 * Faults: pause (no data), stall (nothing at all, client pings unanswered), frozen symbol, skipped message_id on
 * a book (skipBookSeq), rejected subscriptions (the indexer's "could not fetch data" error), forced recycle (a plain
 * close), malformed frames, and slow clients dropped.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../../telemetry/logger.ts';
import type { SimAccountFaults } from '../accounts/faults.ts';
import type { FaultAction, VenueFaultState } from '../faults.ts';
import type { MinuteBar } from '../market/bars.ts';
import { bucketStartOf } from '../market/buckets.ts';
import { barAt, queryBars } from '../market/kline-query.ts';
import type { MarketListener, SimMarket, SimTrade } from '../market/market.ts';
import { rawToString, rejectUpgrade, SimSocketHub } from '../socket-hub.ts';
import { SimBook, type BookDiff } from './book.ts';
import { candleObject, fillTrades, marketObject, RESOLUTIONS, type DydxSimTrade } from './format.ts';
import type { DydxSimInstrument, DydxSimInstruments } from './instruments.ts';

export interface DydxStreamSettings {
  /** Server ping period (indexer: 30 s). */
  readonly pingIntervalMs: number;
  /** A connection that has not answered a ping within this is terminated (indexer: 10 s). */
  readonly pongTimeoutMs: number;
  /** Flush period of batched subscriptions (indexer: 250 ms). */
  readonly batchFlushMs: number;
  /** Period of v4_markets oracle price updates. */
  readonly marketsPushMs: number;
  /** Subscriptions per channel per connection (indexer default: 32). */
  readonly maxSubscriptionsPerChannel: number;
  /** Subscribe requests per (connection, channel, id) per second (indexer: 2). */
  readonly subscribesPerSecond: number;
  /** Invalid messages per connection per second before the connection is closed (indexer: 2). */
  readonly invalidMessagesPerSecond: number;
  /** Levels per side of the simulated book. */
  readonly bookDepth: number;
  /** Recent trades in the v4_trades `subscribed` contents, and candles in the v4_candles one. */
  readonly initialTrades: number;
  readonly initialCandles: number;
  readonly maxPayloadBytes: number;
  /** A client whose unsent data exceeds this is dropped as too slow. */
  readonly maxBufferedBytes: number;
}

type Channel = 'v4_trades' | 'v4_orderbook' | 'v4_candles' | 'v4_markets' | 'v4_subaccounts';

/**
 * The private side's hook into the socket (account-side.ts): the `subscribed` contents of a subaccount id
 * ("address/number"; `{}` for an unknown one, as the indexer answers before it has indexed an address) and its
 * faults (refused connections, dropped subaccount sockets).
 */
export interface DydxSubaccountChannel {
  subscribed(id: string): unknown;
  readonly faults: SimAccountFaults;
}

/** A v4_subaccounts id: a dydx bech32 address and a subaccount number. */
const SUBACCOUNT_ID = /^dydx1[02-9ac-hj-np-z]{38}\/\d{1,3}$/;

const VERSIONS: Readonly<Record<Channel, string>> = {
  v4_trades: '2.1.0',
  v4_orderbook: '1.0.0',
  v4_candles: '1.0.0',
  v4_markets: '1.0.0',
  v4_subaccounts: '3.0.0',
};

const CHANNELS = new Set<string>(Object.keys(VERSIONS));

interface Subscription {
  readonly channel: Channel;
  readonly id: string | undefined;
  readonly batched: boolean;
  /** Serialised contents waiting for the next batch flush. */
  pending: string[];
}

class Connection {
  readonly id = randomUUID();
  messageId = 0;
  readonly subs = new Map<string, Subscription>();
  readonly subscribeTimes = new Map<string, number[]>();
  invalidTimes: number[] = [];
  pongTimer: NodeJS.Timeout | undefined;

  constructor(readonly socket: WebSocket) {}

  /** Set by skipBookSeq: the next message leaves one message_id out (a message lost on the way). */
  skipPending = false;

  next(): number {
    this.messageId += this.skipPending ? 2 : 1;
    this.skipPending = false;
    return this.messageId;
  }

  count(channel: Channel): number {
    let n = 0;
    for (const s of this.subs.values()) if (s.channel === channel) n++;
    return n;
  }
}

/** Appends `now` to `times`, keeping the last second; false when that makes more than `max`. */
function withinRate(times: number[], now: number, max: number): boolean {
  while (times.length > 0 && now - (times[0] as number) >= 1000) times.shift();
  times.push(now);
  return times.length <= max;
}

function keyOf(channel: string, id: string | undefined): string {
  return `${channel}|${id ?? ''}`;
}

export class DydxStreamServer implements MarketListener {
  private readonly hub: SimSocketHub<Connection>;
  /** (channel, id) → subscribed connections. */
  private readonly subscribers = new Map<string, Set<Connection>>();
  readonly books = new Map<DydxSimInstrument, SimBook>();
  private subaccounts: DydxSubaccountChannel | undefined;

  constructor(
    private readonly instruments: DydxSimInstruments,
    private readonly faults: VenueFaultState,
    private readonly now: () => number,
    private readonly settings: DydxStreamSettings,
    private readonly logger: Logger,
    seed: number,
  ) {
    this.hub = new SimSocketHub({ maxPayloadBytes: settings.maxPayloadBytes, faults, autoPong: false });
    for (const instrument of instruments.all()) {
      const book = new SimBook(seed ^ instrument.params.clobPairId, settings.bookDepth);
      book.move(instrument.market.lastTicks);
      this.books.set(instrument, book);
      this.hub.onClose(instrument.market.subscribe(this));
    }
    this.hub.onClose(faults.onAction((action) => this.onFault(action)));
    this.hub.every(settings.pingIntervalMs, () => this.heartbeat());
    this.hub.every(settings.batchFlushMs, () => this.flushBatches());
    this.hub.every(settings.marketsPushMs, () => this.pushOraclePrices());
  }

  /** Serves `v4_subaccounts` from `channel` (the venue's private side). */
  attachSubaccounts(channel: DydxSubaccountChannel): void {
    this.subaccounts = channel;
    channel.faults.onDrop(() => {
      let count = 0;
      for (const conn of [...this.hub.connections]) {
        if (conn.count('v4_subaccounts') === 0) continue;
        conn.socket.terminate();
        count++;
      }
      return count;
    });
  }

  /** Sends a `v4_subaccounts` update of subaccount `id` (contents already serialised). */
  publishSubaccount(id: string, contents: string): void {
    this.publish('v4_subaccounts', id, contents, undefined);
  }

  /**
   * Accepts an upgrade for "/v4/ws"; anything else gets a 404. While the account faults refuse connections, the one
   * socket (it carries v4_subaccounts) answers 503.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): void {
    if (path !== '/v4/ws') {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (this.subaccounts?.faults.refusing === true) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    this.hub.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  /** Terminates every connection; returns how many there were. */
  dropConnections(): number {
    return this.hub.dropConnections();
  }

  close(): Promise<void> {
    return this.hub.close();
  }

  private accept(socket: WebSocket): void {
    const conn = new Connection(socket);
    this.hub.connections.add(conn);
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (!this.faults.streamStalled) this.onMessage(conn, isBinary ? '' : rawToString(data));
    });
    socket.on('ping', (data: Buffer) => {
      if (!this.faults.streamStalled && socket.readyState === socket.OPEN) socket.pong(data);
    });
    socket.on('pong', () => {
      clearTimeout(conn.pongTimer);
      conn.pongTimer = undefined;
    });
    socket.on('error', (err) =>
      this.logger.debug({ venue: 'dydx', err: err.message }, 'sim: client socket error'),
    );
    socket.on('close', () => this.remove(conn));
    this.send(conn, (n) => `{"type":"connected","connection_id":"${conn.id}","message_id":${n}}`, true);
  }

  private remove(conn: Connection): void {
    if (!this.hub.connections.delete(conn)) return;
    clearTimeout(conn.pongTimer);
    for (const [key] of conn.subs) this.subscribers.get(key)?.delete(conn);
    conn.subs.clear();
  }

  /**
   * Sends one message built for this connection's next message_id. `first` is the `connected` message, which is
   * message 0. Nothing is sent while stalled.
   */
  private send(conn: Connection, build: (messageId: number) => string, first = false): void {
    const socket = conn.socket;
    if (socket.readyState !== socket.OPEN || this.faults.streamStalled) return;
    if (socket.bufferedAmount > this.settings.maxBufferedBytes) {
      this.logger.debug({ venue: 'dydx' }, 'sim: client too slow; terminating');
      socket.terminate();
      return;
    }
    socket.send(build(first ? 0 : conn.next()));
  }

  private error(conn: Connection, message: string): void {
    const text = JSON.stringify(message);
    this.send(
      conn,
      (n) => `{"type":"error","message":${text},"connection_id":"${conn.id}","message_id":${n}}`,
    );
  }

  private invalid(conn: Connection, message: string): void {
    this.error(conn, message);
    if (!withinRate(conn.invalidTimes, performance.now(), this.settings.invalidMessagesPerSecond)) {
      conn.socket.close(1008, 'Too many invalid messages');
    }
  }

  private onMessage(conn: Connection, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.invalid(conn, `Invalid message: could not parse: ${text.slice(0, 100)}`);
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.invalid(conn, 'Invalid message: not an object');
      return;
    }
    const m = msg as Record<string, unknown>;
    switch (m['type']) {
      case 'ping': {
        const id = typeof m['id'] === 'number' ? `,"id":${m['id']}` : '';
        this.send(conn, (n) => `{"type":"pong","connection_id":"${conn.id}","message_id":${n}${id}}`);
        return;
      }
      case 'subscribe':
      case 'unsubscribe': {
        const channel = m['channel'];
        if (typeof channel !== 'string' || !CHANNELS.has(channel)) {
          this.invalid(conn, `Invalid channel: ${String(channel)}`);
          return;
        }
        const id = typeof m['id'] === 'string' ? m['id'] : undefined;
        if (m['type'] === 'subscribe') this.subscribe(conn, channel as Channel, id, m['batched'] === true);
        else this.unsubscribe(conn, channel as Channel, id);
        return;
      }
      default:
        this.invalid(conn, `Invalid message type: ${String(m['type'])}`);
    }
  }

  /** Checks the id of a channel; returns the instrument (undefined for v4_markets) or an error text. */
  private resolve(
    channel: Channel,
    id: string | undefined,
  ): { instrument: DydxSimInstrument | undefined; resolution?: string } | string {
    const invalid = `Invalid subscription id for channel: (${channel}-${id ?? 'undefined'})`;
    if (channel === 'v4_markets') return { instrument: undefined };
    if (id === undefined) return invalid;
    if (channel === 'v4_subaccounts')
      return this.subaccounts !== undefined && SUBACCOUNT_ID.test(id) ? { instrument: undefined } : invalid;
    if (channel === 'v4_candles') {
      const slash = id.lastIndexOf('/');
      const instrument = slash > 0 ? this.instruments.get(id.slice(0, slash)) : undefined;
      const resolution = id.slice(slash + 1);
      if (instrument === undefined || !RESOLUTIONS.has(resolution)) return invalid;
      return { instrument, resolution };
    }
    const instrument = this.instruments.get(id);
    return instrument === undefined ? invalid : { instrument };
  }

  private subscribe(conn: Connection, channel: Channel, rawId: string | undefined, batched: boolean): void {
    const id = channel === 'v4_markets' ? undefined : rawId;
    const key = keyOf(channel, id);
    const times = conn.subscribeTimes.get(key) ?? [];
    conn.subscribeTimes.set(key, times);
    if (!withinRate(times, performance.now(), this.settings.subscribesPerSecond)) {
      this.error(conn, `Too many subscribe messages for channel: (${channel}-${id ?? ''}), please wait`);
      return;
    }
    const target = this.resolve(channel, id);
    if (typeof target === 'string') {
      this.invalid(conn, target);
      return;
    }
    if (conn.subs.has(key)) {
      this.error(conn, `Invalid subscribe message: already subscribed (${channel}-${id ?? ''})`);
      return;
    }
    if (conn.count(channel) >= this.settings.maxSubscriptionsPerChannel) {
      this.error(
        conn,
        `Invalid subscribe message: too many subscriptions for channel ${channel} (at most ${this.settings.maxSubscriptionsPerChannel})`,
      );
      return;
    }
    if (this.faults.takeSubscriptionRejection()) {
      this.error(conn, `Internal error, could not fetch data for subscription: ${channel}.`);
      return;
    }
    const contents = JSON.stringify(
      channel === 'v4_subaccounts'
        ? (this.subaccounts?.subscribed(id ?? '') ?? {})
        : this.initialContents(channel, target.instrument, target.resolution),
    );
    const idField = id === undefined ? '' : `,"id":${JSON.stringify(id)}`;
    this.send(
      conn,
      (n) =>
        `{"type":"subscribed","connection_id":"${conn.id}","message_id":${n},"channel":"${channel}"${idField},"contents":${contents}}`,
    );
    conn.subs.set(key, { channel, id, batched, pending: [] });
    let set = this.subscribers.get(key);
    if (set === undefined) this.subscribers.set(key, (set = new Set()));
    set.add(conn);
  }

  private unsubscribe(conn: Connection, channel: Channel, rawId: string | undefined): void {
    const id = channel === 'v4_markets' ? undefined : rawId;
    const key = keyOf(channel, id);
    if (!conn.subs.delete(key)) {
      this.error(conn, `Invalid unsubscribe message: not subscribed (${channel}-${id ?? ''})`);
      return;
    }
    const set = this.subscribers.get(key);
    set?.delete(conn);
    if (set?.size === 0) this.subscribers.delete(key);
    const idField = id === undefined ? '' : `,"id":${JSON.stringify(id)}`;
    this.send(
      conn,
      (n) =>
        `{"type":"unsubscribed","connection_id":"${conn.id}","message_id":${n},"channel":"${channel}"${idField}}`,
    );
  }

  private initialContents(
    channel: Channel,
    instrument: DydxSimInstrument | undefined,
    resolution: string | undefined,
  ): unknown {
    if (channel === 'v4_markets' || instrument === undefined) {
      const markets: Record<string, unknown> = {};
      for (const i of this.instruments.all()) markets[i.ticker] = marketObject(i);
      return { markets };
    }
    switch (channel) {
      case 'v4_trades': {
        const trades = instrument.market.recentTrades();
        const out: DydxSimTrade[] = [];
        for (let i = trades.length - 1; i >= 0 && out.length < this.settings.initialTrades; i--) {
          const fills = fillTrades(instrument, trades[i] as SimTrade, false);
          for (let j = fills.length - 1; j >= 0 && out.length < this.settings.initialTrades; j--)
            out.push(fills[j] as DydxSimTrade);
        }
        return { trades: out };
      }
      case 'v4_orderbook': {
        const levels = this.books.get(instrument)?.sorted() ?? { bids: [], asks: [] };
        return {
          bids: levels.bids.map(([t, l]) => ({ price: instrument.price(t), size: instrument.size(l) })),
          asks: levels.asks.map(([t, l]) => ({ price: instrument.price(t), size: instrument.size(l) })),
        };
      }
      case 'v4_candles': {
        const rule = RESOLUTIONS.get(resolution ?? '');
        if (rule === undefined) return { candles: [] };
        const bars = queryBars(instrument.market, rule, { limit: this.settings.initialCandles });
        return { candles: bars.reverse().map((b) => candleObject(instrument, resolution ?? '', b)) };
      }
    }
  }

  /**
   * Sends `contents` (serialised once) on (channel, id) to every subscriber: as channel_data now, or into the
   * subscription's batch. `symbol` is the canonical symbol, for the frozen-symbol fault.
   */
  private publish(
    channel: Channel,
    id: string | undefined,
    contents: string,
    symbol: string | undefined,
  ): void {
    const key = keyOf(channel, id);
    const set = this.subscribers.get(key);
    if (set === undefined || set.size === 0) return;
    if (this.faults.streamPaused || this.faults.streamStalled) return;
    if (symbol !== undefined && this.faults.isFrozen(symbol)) return;
    const skip = channel === 'v4_orderbook' && symbol !== undefined && this.faults.takeSkipBookSeq(symbol);
    const idField = id === undefined ? '' : `,"id":${JSON.stringify(id)}`;
    const version = VERSIONS[channel];
    for (const conn of set) {
      const sub = conn.subs.get(key);
      if (sub === undefined) continue;
      // Batched or not, the book's next message on this connection is numbered as if one had been lost.
      if (skip) conn.skipPending = true;
      if (sub.batched) {
        sub.pending.push(contents);
        continue;
      }
      this.send(
        conn,
        (n) =>
          `{"type":"channel_data","connection_id":"${conn.id}","message_id":${n}${idField},"channel":"${channel}","version":"${version}","contents":${contents}}`,
      );
    }
  }

  private flushBatches(): void {
    for (const conn of this.hub.connections) {
      for (const sub of conn.subs.values()) {
        if (sub.pending.length === 0) continue;
        const contents = sub.pending.join(',');
        sub.pending = [];
        const idField = sub.id === undefined ? '' : `,"id":${JSON.stringify(sub.id)}`;
        this.send(
          conn,
          (n) =>
            `{"type":"channel_batch_data","connection_id":"${conn.id}","message_id":${n}${idField},"channel":"${sub.channel}","version":"${VERSIONS[sub.channel]}","contents":[${contents}]}`,
        );
      }
    }
  }

  private heartbeat(): void {
    if (this.faults.streamStalled) return;
    for (const conn of this.hub.connections) {
      const socket = conn.socket;
      if (socket.readyState !== socket.OPEN || conn.pongTimer !== undefined) continue;
      socket.ping();
      conn.pongTimer = setTimeout(() => {
        this.logger.debug({ venue: 'dydx' }, 'sim: no pong in time; terminating');
        socket.terminate();
      }, this.settings.pongTimeoutMs);
    }
  }

  private onFault(action: FaultAction): void {
    for (const conn of [...this.hub.connections]) {
      const socket = conn.socket;
      if (socket.readyState !== socket.OPEN) continue;
      if (action.kind === 'recycle') {
        socket.close(1000);
      } else {
        for (let i = 0; i < action.count; i++)
          socket.send(i % 2 === 0 ? '{"type":"channel_data","chan' : 'not json');
      }
    }
  }

  trade(market: SimMarket, trade: SimTrade): void {
    const instrument = this.instruments.of(market);
    const book = this.books.get(instrument);
    book?.move(market.lastTicks);
    if (this.subscribers.size === 0) return;
    const symbol = market.spec.symbol;
    const ticker = instrument.ticker;
    if (this.has('v4_trades', ticker)) {
      const trades = JSON.stringify({ trades: fillTrades(instrument, trade, false) });
      this.publish('v4_trades', ticker, trades, symbol);
    }
    // The book's levels are worked out only here, for its subscribers, and on a snapshot (`sorted`).
    if (book !== undefined && this.has('v4_orderbook', ticker)) {
      const contents = bookContents(instrument, book.changes());
      if (contents !== undefined) this.publish('v4_orderbook', ticker, contents, symbol);
    }
    this.pushCandles(instrument, trade.T, false);
  }

  minuteClosed(market: SimMarket, bar: MinuteBar): void {
    if (this.subscribers.size === 0) return;
    // A new bar opens (flat, empty) at every bucket start, as the indexer's candles do.
    this.pushCandles(this.instruments.of(market), bar.t + 60_000, true);
  }

  /** Pushes the bar containing `time` of every subscribed resolution; `onlyNew`: only where a bucket starts at it. */
  private pushCandles(instrument: DydxSimInstrument, time: number, onlyNew: boolean): void {
    for (const [resolution, rule] of RESOLUTIONS) {
      const id = `${instrument.ticker}/${resolution}`;
      if (!this.has('v4_candles', id)) continue;
      const start = bucketStartOf(rule, time);
      if (onlyNew && start !== time) continue;
      const bar = barAt(instrument.market, rule, start);
      this.publish(
        'v4_candles',
        id,
        JSON.stringify(candleObject(instrument, resolution, bar)),
        instrument.market.spec.symbol,
      );
    }
  }

  private pushOraclePrices(): void {
    if (!this.has('v4_markets', undefined)) return;
    const prices: Record<string, unknown> = {};
    const now = this.now();
    for (const instrument of this.instruments.all()) {
      if (this.faults.isFrozen(instrument.market.spec.symbol)) continue;
      prices[instrument.ticker] = {
        oraclePrice: instrument.price(instrument.market.lastTicks),
        effectiveAt: new Date(now).toISOString(),
        effectiveAtHeight: String(instrument.height(now)),
        marketId: instrument.params.clobPairId,
      };
    }
    if (Object.keys(prices).length > 0) {
      this.publish('v4_markets', undefined, JSON.stringify({ oraclePrices: prices }), undefined);
    }
  }

  private has(channel: Channel, id: string | undefined): boolean {
    return (this.subscribers.get(keyOf(channel, id))?.size ?? 0) > 0;
  }
}

/** The update of a book diff: sides without changes are left out, as the indexer does; undefined when empty. */
function bookContents(instrument: DydxSimInstrument, diff: BookDiff): string | undefined {
  if (diff.bids.length === 0 && diff.asks.length === 0) return undefined;
  const contents: { bids?: [string, string][]; asks?: [string, string][] } = {};
  if (diff.bids.length > 0)
    contents.bids = diff.bids.map(([t, l]) => [instrument.price(t), instrument.size(l)]);
  if (diff.asks.length > 0)
    contents.asks = diff.asks.map(([t, l]) => [instrument.price(t), instrument.size(l)]);
  return JSON.stringify(contents);
}
