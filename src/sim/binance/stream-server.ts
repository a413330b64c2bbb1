/**
 * Binance market streams over WebSocket: raw (`/ws/<stream>`) and combined (`/stream?streams=a/b`) connections,
 * run-time SUBSCRIBE/UNSUBSCRIBE, and Binance's connection rules: a ping frame every 20 s and termination without a
 * matching pong within 60 s, at most 5 incoming messages (frames, pings, pongs) per second, at most 1024 streams,
 * a 24 h lifetime. A client that cannot keep up (send buffer over a bound) is dropped.
 *
 * Every event is serialised once and the same string goes to each subscriber.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { MINUTE_MS } from '../../domain/interval.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { VenueFaultState } from '../faults.ts';
import type { MinuteBar } from '../market/bars.ts';
import { bucketStartOf } from '../market/buckets.ts';
import { barAt } from '../market/kline-query.ts';
import { fillLots, type MarketListener, type SimMarket, type SimTrade } from '../market/market.ts';
import { rawToString, rejectUpgrade, SimSocketHub } from '../socket-hub.ts';
import { klinePayload } from './format.ts';
import { isErrorReply, parseControlMessage, type BinanceControlRequest } from './requests.ts';
import { DepthDiffState } from './book.ts';
import { parseStreamName, type ParsedStream } from './streams.ts';
import { bookTickerOf, tickerEventOf } from './ticker.ts';
import type { BinanceSimInstrument, BinanceSimInstruments } from './symbols.ts';
import type {
  BinanceSimAggTradeEvent,
  BinanceSimErrorReply,
  BinanceSimKlineEvent,
  BinanceSimResult,
  BinanceSimServerShutdown,
  BinanceSimTradeEvent,
} from './wire.ts';

export interface BinanceStreamSettings {
  /** Server ping frame period (Binance: 20 s). */
  readonly pingIntervalMs: number;
  /** A connection whose last matching pong is older than this is terminated (Binance: 60 s). */
  readonly pongTimeoutMs: number;
  /** Period of kline pushes while a bar is open (Binance: 2 s). */
  readonly klinePushMs: number;
  /** Period of 24 h ticker pushes (Binance: 1 s). */
  readonly tickerPushMs: number;
  /** Incoming messages per second before disconnecting (Binance: 5). */
  readonly maxIncomingPerSecond: number;
  /** Streams per connection (Binance: 1024). */
  readonly maxStreamsPerConnection: number;
  /** Largest accepted incoming frame. */
  readonly maxPayloadBytes: number;
  /** A client whose unsent data exceeds this is dropped as too slow. */
  readonly maxBufferedBytes: number;
  /** Connections are closed after this long (Binance: 24 h). */
  readonly connectionLifetimeMs: number;
  /** Levels per side the simulated book keeps (a few more at times); REST depth serves at most these. */
  readonly depthLevels: number;
  /** After `serverShutdown`, a connection the client has not left is closed after this long. */
  readonly recycleCloseDelayMs: number;
}

/** The tick of the `@depth@100ms` streams; `@depth` pushes every tenth. */
const DEPTH_TICK_MS = 100;
/** Binance's documented reply when a stream cannot be subscribed. */
const REFUSED_SUBSCRIPTION = 'Invalid request: invalid stream';

class Connection {
  readonly streams = new Map<string, ParsedStream | undefined>();
  /** Times of the latest incoming messages, as a ring, for the per-second limit. */
  private readonly arrivals: number[];
  private arrivalIndex = 0;
  private readonly outstandingPings: string[] = [];
  lastAliveAt: number;
  lifetimeTimer: NodeJS.Timeout | undefined;
  recycleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: WebSocket,
    public combined: boolean,
    limitPerSecond: number,
  ) {
    this.arrivals = new Array<number>(Math.max(1, limitPerSecond)).fill(Number.NEGATIVE_INFINITY);
    this.lastAliveAt = performance.now();
  }

  /** Records an incoming message; false when it is one too many within the last second. */
  admit(now: number): boolean {
    const oldest = this.arrivals[this.arrivalIndex] as number;
    this.arrivals[this.arrivalIndex] = now;
    this.arrivalIndex = (this.arrivalIndex + 1) % this.arrivals.length;
    return now - oldest >= 1000;
  }

  pinged(payload: string): void {
    this.outstandingPings.push(payload);
    if (this.outstandingPings.length > 8) this.outstandingPings.shift();
  }

  /** Only a pong echoing one of our pings keeps the connection alive; unsolicited pongs do not. */
  ponged(payload: string, now: number): void {
    const i = this.outstandingPings.indexOf(payload);
    if (i < 0) return;
    this.outstandingPings.splice(0, i + 1);
    this.lastAliveAt = now;
  }
}

export class BinanceStreamServer implements MarketListener {
  private readonly hub: SimSocketHub<Connection>;
  /** Stream key → subscribed connections. */
  private readonly subscribers = new Map<string, Set<Connection>>();
  private readonly depthStates = new Map<string, DepthDiffState>();
  private pingCounter = 0;
  private depthTicks = 0;

  constructor(
    private readonly instruments: BinanceSimInstruments,
    private readonly faults: VenueFaultState,
    private readonly now: () => number,
    private readonly settings: BinanceStreamSettings,
    private readonly logger: Logger,
  ) {
    this.hub = new SimSocketHub({ maxPayloadBytes: settings.maxPayloadBytes, faults });
    for (const instrument of instruments.all()) this.hub.onClose(instrument.market.subscribe(this));
    this.hub.every(settings.pingIntervalMs, () => this.heartbeat());
    this.hub.every(settings.klinePushMs, () => this.pushOpenKlines());
    this.hub.every(settings.tickerPushMs, () => this.pushTickers());
    this.hub.every(DEPTH_TICK_MS, () => this.pushDepth());
    this.hub.onClose(
      faults.onAction((action) => {
        if (action.kind === 'recycle') this.recycleAll();
        else this.sendMalformed(action.count);
      }),
    );
  }

  /** Accepts an upgrade for `path` ("/ws", "/ws/<streams>", "/stream?streams=..."); anything else gets a 404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, url: URL): void {
    let names: string[];
    let combined: boolean;
    if (path === '/stream') {
      combined = true;
      names = (url.searchParams.get('streams') ?? '').split('/');
    } else if (path === '/ws' || path.startsWith('/ws/')) {
      combined = false;
      names = path.slice('/ws/'.length).split('/');
    } else {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    names = names.filter((n) => n !== '');
    if (names.length > this.settings.maxStreamsPerConnection) {
      rejectUpgrade(socket, 400, 'Bad Request');
      return;
    }
    this.hub.handleUpgrade(req, socket, head, (ws) => this.accept(ws, combined, names));
  }

  /** Terminates every connection; returns how many there were. */
  dropConnections(): number {
    return this.hub.dropConnections();
  }

  close(): Promise<void> {
    return this.hub.close();
  }

  private accept(socket: WebSocket, combined: boolean, names: readonly string[]): void {
    const conn = new Connection(socket, combined, this.settings.maxIncomingPerSecond);
    this.hub.connections.add(conn);
    for (const name of names) this.subscribe(conn, name);
    conn.lifetimeTimer = setTimeout(
      () => socket.close(1000, 'connection lifetime reached'),
      this.settings.connectionLifetimeMs,
    );
    const overLimit = (): boolean => {
      if (conn.admit(performance.now())) return false;
      this.logger.debug(
        { venue: 'binance' },
        'sim: client exceeded the incoming message rate; disconnecting',
      );
      socket.close(1008, 'Too many requests');
      return true;
    };
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (overLimit()) return;
      this.onControl(conn, isBinary ? '' : rawToString(data));
    });
    socket.on('ping', () => void overLimit());
    socket.on('pong', (data: Buffer) => {
      if (!overLimit()) conn.ponged(data.toString(), performance.now());
    });
    socket.on('error', (err) =>
      this.logger.debug({ venue: 'binance', err: err.message }, 'sim: client socket error'),
    );
    socket.on('close', () => this.remove(conn));
  }

  private remove(conn: Connection): void {
    if (!this.hub.connections.delete(conn)) return;
    clearTimeout(conn.lifetimeTimer);
    clearTimeout(conn.recycleTimer);
    for (const [name] of conn.streams) this.unsubscribe(conn, name);
  }

  private subscribe(conn: Connection, name: string): void {
    if (conn.streams.has(name)) return;
    const parsed = parseStreamName(name);
    conn.streams.set(name, parsed);
    if (parsed === undefined || this.instruments.getByStreamName(parsed.symbol) === undefined) return;
    let set = this.subscribers.get(parsed.key);
    if (set === undefined) this.subscribers.set(parsed.key, (set = new Set()));
    set.add(conn);
    if (parsed.kind.type === 'depth' && !this.depthStates.has(parsed.key)) {
      const instrument = this.instruments.getByStreamName(parsed.symbol);
      if (instrument !== undefined) this.depthStates.set(parsed.key, new DepthDiffState(instrument.book));
    }
  }

  private unsubscribe(conn: Connection, name: string): void {
    const parsed = conn.streams.get(name);
    if (!conn.streams.delete(name) || parsed === undefined) return;
    // Another name of the same stream (e.g. upper-case symbol) may still hold the subscription.
    for (const other of conn.streams.values()) if (other?.key === parsed.key) return;
    const set = this.subscribers.get(parsed.key);
    set?.delete(conn);
    if (set?.size === 0) {
      this.subscribers.delete(parsed.key);
      this.depthStates.get(parsed.key)?.close();
      this.depthStates.delete(parsed.key);
    }
  }

  private onControl(conn: Connection, text: string): void {
    const request = parseControlMessage(text);
    if (isErrorReply(request)) {
      this.reply(conn, request);
      return;
    }
    this.reply(conn, this.execute(conn, request));
  }

  private execute(conn: Connection, request: BinanceControlRequest): BinanceSimResult | BinanceSimErrorReply {
    switch (request.method) {
      case 'SUBSCRIBE': {
        if (this.faults.takeSubscriptionRejection())
          return { error: { code: 2, msg: REFUSED_SUBSCRIPTION }, id: request.id };
        const fresh = request.streams.filter((s) => !conn.streams.has(s));
        if (conn.streams.size + new Set(fresh).size > this.settings.maxStreamsPerConnection) {
          const max = this.settings.maxStreamsPerConnection;
          return {
            error: { code: 2, msg: `Invalid request: too many streams (at most ${max} per connection)` },
            id: request.id,
          };
        }
        for (const s of request.streams) this.subscribe(conn, s);
        return { result: null, id: request.id };
      }
      case 'UNSUBSCRIBE':
        for (const s of request.streams) this.unsubscribe(conn, s);
        return { result: null, id: request.id };
      case 'LIST_SUBSCRIPTIONS':
        return { result: [...conn.streams.keys()], id: request.id };
      case 'SET_PROPERTY':
        conn.combined = request.value;
        return { result: null, id: request.id };
      case 'GET_PROPERTY':
        return { result: conn.combined, id: request.id };
    }
  }

  private reply(conn: Connection, body: BinanceSimResult | BinanceSimErrorReply): void {
    if (this.faults.streamStalled) return;
    if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify(body));
  }

  private heartbeat(): void {
    const now = performance.now();
    const stalled = this.faults.streamStalled;
    for (const conn of this.hub.connections) {
      if (stalled) {
        // A stalled venue neither pings nor judges: the connection is half dead from both ends.
        conn.lastAliveAt = now;
        continue;
      }
      if (now - conn.lastAliveAt > this.settings.pongTimeoutMs) {
        this.logger.debug({ venue: 'binance' }, 'sim: no pong in time; terminating');
        conn.socket.terminate();
        continue;
      }
      const payload = String(++this.pingCounter);
      conn.pinged(payload);
      if (conn.socket.readyState === conn.socket.OPEN) conn.socket.ping(payload);
    }
  }

  /**
   * Sends one event of `instrument` to the subscribers of `key`: serialised once, wrapped once for combined
   * connections. Withheld while the stream is paused or stalled, or the instrument is frozen.
   */
  private publish(key: string, payload: object, instrument: BinanceSimInstrument): void {
    const set = this.subscribers.get(key);
    if (set === undefined || set.size === 0) return;
    const faults = this.faults;
    if (faults.streamPaused || faults.streamStalled || faults.isFrozen(instrument.market.spec.symbol)) return;
    const raw = JSON.stringify(payload);
    let wrapped: string | undefined;
    for (const conn of set) {
      const socket = conn.socket;
      if (socket.readyState !== socket.OPEN) continue;
      if (socket.bufferedAmount > this.settings.maxBufferedBytes) {
        this.logger.debug({ venue: 'binance' }, 'sim: client too slow; terminating');
        socket.terminate();
        continue;
      }
      if (conn.combined) socket.send((wrapped ??= `{"stream":"${key}","data":${raw}}`));
      else socket.send(raw);
    }
  }

  private has(key: string): boolean {
    return (this.subscribers.get(key)?.size ?? 0) > 0;
  }

  trade(market: SimMarket, trade: SimTrade): void {
    if (this.subscribers.size === 0) return;
    const instrument = this.instruments.of(market);
    const sn = instrument.streamName;
    const E = this.now();
    if (this.has(`${sn}@aggTrade`)) {
      const event: BinanceSimAggTradeEvent = {
        e: 'aggTrade',
        E,
        s: instrument.name,
        a: trade.a,
        p: instrument.fmt.price(trade.ticks),
        q: instrument.fmt.qty(trade.lots),
        f: trade.f,
        l: trade.l,
        T: trade.T,
        m: trade.buyerMaker,
        M: true,
      };
      this.publish(`${sn}@aggTrade`, event, instrument);
    }
    if (this.has(`${sn}@trade`)) {
      for (let id = trade.f; id <= trade.l; id++) {
        const event: BinanceSimTradeEvent = {
          e: 'trade',
          E,
          s: instrument.name,
          t: id,
          p: instrument.fmt.price(trade.ticks),
          q: instrument.fmt.qty(fillLots(trade, id - trade.f)),
          T: trade.T,
          m: trade.buyerMaker,
          M: true,
        };
        this.publish(`${sn}@trade`, event, instrument);
      }
    }
    if (this.has(`${sn}@bookTicker`)) this.publish(`${sn}@bookTicker`, bookTickerOf(instrument), instrument);
  }

  minuteClosed(market: SimMarket, bar: MinuteBar): void {
    if (this.subscribers.size === 0) return;
    const instrument = this.instruments.of(market);
    const end = bar.t + MINUTE_MS;
    for (const [key] of this.subscribers) {
      if (!key.startsWith(`${instrument.streamName}@kline_`)) continue;
      const parsed = parseStreamName(key);
      if (parsed?.kind.type !== 'kline' || bucketStartOf(parsed.kind.rule, end) !== end) continue;
      const closed = barAt(market, parsed.kind.rule, bucketStartOf(parsed.kind.rule, bar.t));
      this.publish(key, this.klineEvent(instrument, parsed.kind.interval, closed, true), instrument);
    }
  }

  private klineEvent(
    instrument: BinanceSimInstrument,
    interval: string,
    bar: ReturnType<typeof barAt>,
    closed: boolean,
  ): BinanceSimKlineEvent {
    return {
      e: 'kline',
      E: this.now(),
      s: instrument.name,
      k: klinePayload(bar, instrument.fmt, instrument.name, interval, closed),
    };
  }

  private pushOpenKlines(): void {
    for (const [key] of this.subscribers) {
      const parsed = parseStreamName(key);
      if (parsed?.kind.type !== 'kline') continue;
      const instrument = this.instruments.getByStreamName(parsed.symbol);
      if (instrument === undefined) continue;
      const start = bucketStartOf(parsed.kind.rule, instrument.market.currentMinuteTime);
      const bar = barAt(instrument.market, parsed.kind.rule, start);
      this.publish(key, this.klineEvent(instrument, parsed.kind.interval, bar, false), instrument);
    }
  }

  private pushTickers(): void {
    for (const [key] of this.subscribers) {
      if (!key.endsWith('@ticker')) continue;
      const parsed = parseStreamName(key);
      const instrument = parsed === undefined ? undefined : this.instruments.getByStreamName(parsed.symbol);
      if (instrument !== undefined) this.publish(key, tickerEventOf(instrument, this.now()), instrument);
    }
  }
  /** Pushes each `@depth` key's diff since its previous one (100 ms keys every tick, 1000 ms keys every tenth). */
  private pushDepth(): void {
    this.depthTicks++;
    if (this.depthStates.size === 0) return;
    const E = this.now();
    for (const [key, state] of this.depthStates) {
      const parsed = parseStreamName(key);
      if (parsed?.kind.type !== 'depth') continue;
      if (parsed.kind.speedMs === 1000 && this.depthTicks % 10 !== 0) continue;
      const instrument = this.instruments.getByStreamName(parsed.symbol);
      if (instrument === undefined) continue;
      const symbol = instrument.market.spec.symbol;
      // A withheld diff is not skipped silently: it stays pending, as on a real connection that is merely slow.
      if (this.faults.streamPaused || this.faults.streamStalled || this.faults.isFrozen(symbol)) continue;
      const diff = state.next(instrument.name, E, this.faults.takeSkipBookSeq(symbol));
      if (diff !== undefined) this.publish(key, diff, instrument);
    }
  }

  /** Binance's maintenance recycle: `serverShutdown` on every connection, then a close if the client stays. */
  private recycleAll(): void {
    const E = this.now();
    const raw = JSON.stringify({ e: 'serverShutdown', E } satisfies BinanceSimServerShutdown);
    for (const conn of this.hub.connections) {
      const socket = conn.socket;
      if (socket.readyState !== socket.OPEN) continue;
      socket.send(conn.combined ? `{"stream":"!serverShutdown","data":${raw}}` : raw);
      clearTimeout(conn.recycleTimer);
      conn.recycleTimer = setTimeout(
        () => socket.close(1001, 'server shutdown'),
        this.settings.recycleCloseDelayMs,
      );
    }
  }

  /** Frames no Binance client can read: cut-off JSON, a wrong shape, and binary noise in turn. */
  private sendMalformed(count: number): void {
    const kinds = [
      '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","s":',
      '{"unexpected":true}',
      '[1,2,3]',
    ];
    for (const conn of this.hub.connections) {
      const socket = conn.socket;
      if (socket.readyState !== socket.OPEN) continue;
      for (let i = 0; i < count; i++) socket.send(kinds[i % kinds.length] as string);
    }
  }
}
