/**
 * OKX v5 WebSocket endpoints over the simulated markets: `/ws/v5/public` (trades, tickers, books, books5, bbo-tbt)
 * and `/ws/v5/business` (candle channels, trades-all). Requests are `{"op":"subscribe","args":[...]}` with one ack
 * per arg, or OKX's error event (60012 invalid request, 60018 wrong URL or channel, 60014 too frequent). Clients
 * keep the connection with the text `ping` (answered `pong`); one that sends nothing for 30 s is closed. `books`
 * starts with a 400-level snapshot, then updates chained by seqId/prevSeqId with the CRC-32 checksum.
 *
 * Faults: paused (data withheld, pongs continue), stalled (nothing at all), frozen symbol, skipped book sequence,
 * corrupt checksum, rejected subscriptions (60014), forced recycle (notice 64008, then close), malformed frames.
 * Every push is serialised once and the same string goes to each subscriber.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { MINUTE_MS } from '../../domain/interval.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { FaultAction, VenueFaultState } from '../faults.ts';
import type { MinuteBar } from '../market/bars.ts';
import { bucketStartOf } from '../market/buckets.ts';
import { barAt } from '../market/kline-query.ts';
import type { MarketListener, SimMarket, SimTrade } from '../market/market.ts';
import { rawToString, rejectUpgrade, SimSocketHub } from '../socket-hub.ts';
import { candleRow, OKX_BARS } from './bars.ts';
import type { OkxSimInstrumentEntry, OkxSimInstruments } from './instruments.ts';
import { tickerOf } from './ticker.ts';
import type { OkxSimArg, OkxSimBook, OkxSimTrade } from './wire.ts';

export interface OkxStreamSettings {
  /** A connection that sends nothing (not even `ping`) for this long is closed (OKX: 30 s). */
  readonly idleTimeoutMs: number;
  /** Period of `tickers` pushes. */
  readonly tickerPushMs: number;
  /** Period of candle pushes of the open bar (OKX: at most once per second). */
  readonly candlePushMs: number;
  /** Period of `books` updates (OKX: 100 ms). */
  readonly bookPushMs: number;
  /** An unchanged book sends an empty keep-alive update after this long (OKX: about 60 s). */
  readonly bookKeepAliveMs: number;
  /** Levels per side of the simulated book and of a `books` snapshot (OKX: 400). */
  readonly bookDepth: number;
  /** subscribe/unsubscribe requests per hour per connection (OKX: 480). */
  readonly maxRequestsPerHour: number;
  /** New connections per second (OKX: 3 per IP); more are refused with HTTP 429. */
  readonly maxConnectionsPerSecond: number;
  /** Delay between the 64008 notice of a forced recycle and the close (OKX: about 60 s). */
  readonly recycleCloseMs: number;
  readonly maxPayloadBytes: number;
  /** A client whose unsent data exceeds this is dropped as too slow. */
  readonly maxBufferedBytes: number;
}

type Endpoint = 'public' | 'business';

const PUBLIC_CHANNELS = new Set(['trades', 'tickers', 'books', 'books5', 'bbo-tbt']);
const HOUR_MS = 60 * MINUTE_MS;

class Connection {
  readonly subs = new Set<string>();
  readonly connId = randomBytes(4).toString('hex');
  lastHeardAt = performance.now();
  private readonly requestTimes: number[] = [];
  recycleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly endpoint: Endpoint,
  ) {}

  /** Counts one subscribe/unsubscribe request; false when over the hourly limit. */
  admitRequest(now: number, perHour: number): boolean {
    while (this.requestTimes.length > 0 && now - (this.requestTimes[0] as number) >= HOUR_MS) {
      this.requestTimes.shift();
    }
    if (this.requestTimes.length >= perHour) return false;
    this.requestTimes.push(now);
    return true;
  }
}

function key(channel: string, instId: string): string {
  return `${channel}:${instId}`;
}

export class OkxStreamServer implements MarketListener {
  private readonly hub: SimSocketHub<Connection>;
  /** "channel:instId" → subscribed connections. */
  private readonly subscribers = new Map<string, Set<Connection>>();
  private readonly recentConnects: number[] = [];

  constructor(
    private readonly instruments: OkxSimInstruments,
    private readonly faults: VenueFaultState,
    private readonly now: () => number,
    private readonly settings: OkxStreamSettings,
    private readonly logger: Logger,
  ) {
    this.hub = new SimSocketHub({ maxPayloadBytes: settings.maxPayloadBytes, faults });
    for (const i of instruments.all()) this.hub.onClose(i.market.subscribe(this));
    this.hub.onClose(faults.onAction((action) => this.onFault(action)));
    this.hub.every(Math.min(1000, settings.idleTimeoutMs / 2), () => this.checkIdle());
    this.hub.every(settings.tickerPushMs, () => this.pushTickers());
    this.hub.every(settings.candlePushMs, () => this.pushOpenCandles());
    this.hub.every(settings.bookPushMs, () => this.pushBooks());
  }

  /** Accepts `/ws/v5/public` and `/ws/v5/business`; other paths get 404, a connection storm 429. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): void {
    const endpoint: Endpoint | undefined =
      path === '/ws/v5/public' ? 'public' : path === '/ws/v5/business' ? 'business' : undefined;
    if (endpoint === undefined) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    const t = performance.now();
    while (this.recentConnects.length > 0 && t - (this.recentConnects[0] as number) >= 1000) {
      this.recentConnects.shift();
    }
    if (this.recentConnects.length >= this.settings.maxConnectionsPerSecond) {
      rejectUpgrade(socket, 429, 'Too Many Requests');
      return;
    }
    this.recentConnects.push(t);
    this.hub.handleUpgrade(req, socket, head, (ws) => this.accept(ws, endpoint));
  }

  dropConnections(): number {
    return this.hub.dropConnections();
  }

  close(): Promise<void> {
    return this.hub.close();
  }

  private accept(socket: WebSocket, endpoint: Endpoint): void {
    const conn = new Connection(socket, endpoint);
    this.hub.connections.add(conn);
    socket.on('message', (data: RawData, isBinary: boolean) => {
      conn.lastHeardAt = performance.now();
      if (this.faults.streamStalled) return;
      this.onText(conn, isBinary ? '' : rawToString(data));
    });
    socket.on('error', (err) =>
      this.logger.debug({ venue: 'okx', err: err.message }, 'sim: client socket error'),
    );
    socket.on('close', () => this.remove(conn));
  }

  private remove(conn: Connection): void {
    if (!this.hub.connections.delete(conn)) return;
    clearTimeout(conn.recycleTimer);
    for (const k of conn.subs) this.unsubscribe(conn, k);
  }

  private unsubscribe(conn: Connection, k: string): void {
    conn.subs.delete(k);
    const set = this.subscribers.get(k);
    set?.delete(conn);
    if (set?.size === 0) this.subscribers.delete(k);
  }

  private send(conn: Connection, text: string): void {
    if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(text);
  }

  private error(conn: Connection, code: string, msg: string, id: string | undefined): void {
    this.send(
      conn,
      JSON.stringify({ ...(id === undefined ? {} : { id }), event: 'error', code, msg, connId: conn.connId }),
    );
  }

  private onText(conn: Connection, text: string): void {
    if (text === 'ping') {
      this.send(conn, 'pong');
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.error(conn, '60012', `Invalid request: ${text.slice(0, 200)}`, undefined);
      return;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      this.error(conn, '60012', `Invalid request: ${text.slice(0, 200)}`, undefined);
      return;
    }
    const { op, args, id } = request as { op?: unknown; args?: unknown; id?: unknown };
    const reqId = typeof id === 'string' && /^[A-Za-z0-9]{1,32}$/.test(id) ? id : undefined;
    if ((op !== 'subscribe' && op !== 'unsubscribe') || !Array.isArray(args) || args.length === 0) {
      this.error(conn, '60012', `Invalid request: ${text.slice(0, 200)}`, reqId);
      return;
    }
    if (!conn.admitRequest(performance.now(), this.settings.maxRequestsPerHour)) {
      this.error(conn, '60014', 'Requests too frequent.', reqId);
      return;
    }
    const parsed: { arg: OkxSimArg; instrument: OkxSimInstrumentEntry }[] = [];
    for (const raw of args as unknown[]) {
      const arg = raw as { channel?: unknown; instId?: unknown };
      const channel = typeof arg?.channel === 'string' ? arg.channel : '';
      const instId = typeof arg?.instId === 'string' ? arg.instId : '';
      const instrument = this.instruments.get(instId);
      if (
        channel === '' ||
        instId === '' ||
        instrument === undefined ||
        !this.servesChannel(conn.endpoint, channel)
      ) {
        this.error(
          conn,
          '60018',
          `Wrong URL or channel:${channel},instId:${instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
          reqId,
        );
        return;
      }
      parsed.push({ arg: { channel, instId }, instrument });
    }
    if (op === 'subscribe' && this.faults.takeSubscriptionRejection()) {
      this.error(conn, '60014', 'Requests too frequent.', reqId);
      return;
    }
    for (const { arg, instrument } of parsed) {
      const k = key(arg.channel, arg.instId as string);
      const ack = JSON.stringify({
        ...(reqId === undefined ? {} : { id: reqId }),
        event: op,
        arg,
        connId: conn.connId,
      });
      if (op === 'unsubscribe') {
        this.unsubscribe(conn, k);
        this.send(conn, ack);
        continue;
      }
      this.send(conn, ack);
      if (conn.subs.has(k)) continue;
      // Bring the book to the current price before this client joins, so its snapshot and the next update chain.
      if (arg.channel === 'books') this.stepBook(instrument);
      conn.subs.add(k);
      let set = this.subscribers.get(k);
      if (set === undefined) this.subscribers.set(k, (set = new Set()));
      set.add(conn);
      if (arg.channel === 'books') this.sendBookSnapshot(conn, instrument);
    }
  }

  private servesChannel(endpoint: Endpoint, channel: string): boolean {
    if (endpoint === 'public') return PUBLIC_CHANNELS.has(channel);
    return channel === 'trades-all' || (channel.startsWith('candle') && OKX_BARS.has(channel.slice(6)));
  }

  /** True when data of `instrument` may be sent now. */
  private flowing(instrument: OkxSimInstrumentEntry): boolean {
    return (
      !this.faults.streamPaused && !this.faults.streamStalled && !this.faults.isFrozen(instrument.symbol)
    );
  }

  private publish(k: string, text: string): void {
    const set = this.subscribers.get(k);
    if (set === undefined) return;
    for (const conn of set) {
      const socket = conn.socket;
      if (socket.readyState !== socket.OPEN) continue;
      if (socket.bufferedAmount > this.settings.maxBufferedBytes) {
        this.logger.debug({ venue: 'okx' }, 'sim: client too slow; terminating');
        socket.terminate();
        continue;
      }
      socket.send(text);
    }
  }

  private has(k: string): boolean {
    return (this.subscribers.get(k)?.size ?? 0) > 0;
  }

  trade(market: SimMarket, trade: SimTrade): void {
    if (this.subscribers.size === 0) return;
    const instrument = this.instruments.of(market);
    const k = key('trades', instrument.instId);
    const kAll = key('trades-all', instrument.instId);
    if (!this.flowing(instrument) || (!this.has(k) && !this.has(kAll))) return;
    const item: OkxSimTrade = {
      instId: instrument.instId,
      tradeId: String(trade.l),
      px: instrument.fmt.price(trade.ticks),
      sz: instrument.fmt.size(trade.lots),
      side: trade.buyerMaker ? 'sell' : 'buy',
      ts: String(trade.T),
      count: String(trade.l - trade.f + 1),
      source: '0',
      seqId: trade.a,
    };
    if (this.has(k))
      this.publish(
        k,
        JSON.stringify({ arg: { channel: 'trades', instId: instrument.instId }, data: [item] }),
      );
    if (this.has(kAll)) {
      this.publish(
        kAll,
        JSON.stringify({ arg: { channel: 'trades-all', instId: instrument.instId }, data: [item] }),
      );
    }
  }

  minuteClosed(market: SimMarket, bar: MinuteBar): void {
    if (this.subscribers.size === 0) return;
    const instrument = this.instruments.of(market);
    if (!this.flowing(instrument)) return;
    const end = bar.t + MINUTE_MS;
    for (const k of this.subscribers.keys()) {
      const rule = this.candleRule(k, instrument.instId);
      if (rule === undefined || bucketStartOf(rule.rule, end) !== end) continue;
      const closed = barAt(market, rule.rule, bucketStartOf(rule.rule, bar.t));
      this.publish(k, this.candlePush(rule.channel, instrument, candleRow(closed, instrument.fmt, end)));
    }
  }

  private candleRule(
    k: string,
    instId: string,
  ): { channel: string; rule: NonNullable<ReturnType<typeof OKX_BARS.get>> } | undefined {
    if (!k.startsWith('candle') || !k.endsWith(`:${instId}`)) return undefined;
    const channel = k.slice(0, k.length - instId.length - 1);
    const rule = OKX_BARS.get(channel.slice(6));
    return rule === undefined ? undefined : { channel, rule };
  }

  private candlePush(channel: string, instrument: OkxSimInstrumentEntry, row: unknown): string {
    return JSON.stringify({ arg: { channel, instId: instrument.instId }, data: [row] });
  }

  private pushOpenCandles(): void {
    const now = this.now();
    for (const instrument of this.instruments.all()) {
      if (!this.flowing(instrument)) continue;
      for (const k of this.subscribers.keys()) {
        const rule = this.candleRule(k, instrument.instId);
        if (rule === undefined) continue;
        const start = bucketStartOf(rule.rule, instrument.market.currentMinuteTime);
        const bar = barAt(instrument.market, rule.rule, start);
        this.publish(k, this.candlePush(rule.channel, instrument, candleRow(bar, instrument.fmt, now)));
      }
    }
  }

  private pushTickers(): void {
    for (const instrument of this.instruments.all()) {
      const k = key('tickers', instrument.instId);
      if (!this.has(k) || !this.flowing(instrument)) continue;
      const data = [tickerOf(instrument, this.now())];
      this.publish(k, JSON.stringify({ arg: { channel: 'tickers', instId: instrument.instId }, data }));
    }
  }

  private sendBookSnapshot(conn: Connection, instrument: OkxSimInstrumentEntry): void {
    const snap = instrument.book.snapshot(this.now());
    this.send(
      conn,
      JSON.stringify({
        arg: { channel: 'books', instId: instrument.instId },
        action: 'snapshot',
        data: [snap],
      }),
    );
  }

  private pushBooks(): void {
    for (const instrument of this.instruments.all()) {
      const id = instrument.instId;
      if (this.has(key('books', id)) || this.has(key('books5', id)) || this.has(key('bbo-tbt', id))) {
        this.stepBook(instrument);
      }
    }
  }

  private stepBook(instrument: OkxSimInstrumentEntry): void {
    const update = instrument.book.step(this.now(), this.settings.bookKeepAliveMs);
    if (update === undefined || !this.flowing(instrument)) return;
    const id = instrument.instId;
    if (this.has(key('books', id))) {
      // A skipped sequence number is a lost message: this update is not sent, the next one names it as prevSeqId.
      if (update.seqId !== update.prevSeqId && this.faults.takeSkipBookSeq(instrument.symbol)) return;
      const sent: OkxSimBook = this.faults.takeCorruptChecksum(instrument.symbol)
        ? { ...update, checksum: (update.checksum ^ 0x5a5a5a5a) | 0 }
        : update;
      this.publish(
        key('books', id),
        JSON.stringify({ arg: { channel: 'books', instId: id }, action: 'update', data: [sent] }),
      );
    }
    if (update.seqId === update.prevSeqId) return;
    for (const [channel, levels] of [
      ['books5', 5],
      ['bbo-tbt', 1],
    ] as const) {
      if (!this.has(key(channel, id))) continue;
      const { asks, bids, ts, seqId } = instrument.book.snapshot(this.now(), levels);
      this.publish(
        key(channel, id),
        JSON.stringify({ arg: { channel, instId: id }, data: [{ asks, bids, instId: id, ts, seqId }] }),
      );
    }
  }

  private checkIdle(): void {
    const now = performance.now();
    for (const conn of this.hub.connections) {
      if (now - conn.lastHeardAt > this.settings.idleTimeoutMs) {
        this.logger.debug({ venue: 'okx' }, 'sim: no message from client in time; closing');
        conn.socket.terminate();
      }
    }
  }

  private onFault(action: FaultAction): void {
    if (action.kind === 'recycle') {
      const notice = JSON.stringify({
        event: 'notice',
        code: '64008',
        msg: 'The connection will soon be closed for a service upgrade. Please reconnect.',
      });
      for (const conn of this.hub.connections) {
        if (conn.recycleTimer !== undefined) continue;
        this.send(conn, notice.replace(/}$/, `,"connId":"${conn.connId}"}`));
        conn.recycleTimer = setTimeout(
          () => conn.socket.close(1012, 'service upgrade'),
          this.settings.recycleCloseMs,
        );
      }
      return;
    }
    const bad = [
      '{"arg":{"channel":"trades","instId":',
      // A push of a real instrument whose item lacks every field.
      `{"arg":{"channel":"trades","instId":"${this.instruments.all().next().value?.instId ?? '?'}"},"data":[{"tradeId":null}]}`,
      '\u0000not json',
    ];
    for (const conn of this.hub.connections) {
      for (let i = 0; i < action.count; i++) this.send(conn, bad[i % bad.length] as string);
    }
  }
}
