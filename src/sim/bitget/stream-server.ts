/**
 * Bitget v2 public WebSocket (`/v2/ws/public`): `{"op":"subscribe","args":[...]}` with one ack or error per arg,
 * pushes `{action, arg, data, ts}` for `trade`, `ticker`, `books` (snapshot, then deltas with seq/pseq and checksum)
 * and `candle<bar>` channels, and Bitget's connection rules: text `ping` → `pong`, close after `pingTimeoutMs`
 * without a ping, at most 10 incoming messages per second, 240 subscribe requests per hour, 1000 channels, a 24 h
 * lifetime. A client that cannot keep up (send buffer over a bound) is dropped.
 *
 * Every push is serialised once and the same string goes to each subscriber. Faults from VenueFaultState are
 * honoured on every send.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { DAY_MS, MINUTE_MS } from '../../domain/interval.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { FaultAction, VenueFaultState } from '../faults.ts';
import { aggregateWindowToOpenMinute, type MinuteBar } from '../market/bars.ts';
import { bucketStartOf } from '../market/buckets.ts';
import { barAt } from '../market/kline-query.ts';
import type { MarketListener, SimMarket, SimTrade } from '../market/market.ts';
import { hashSeed } from '../random.ts';
import { rawToString, rejectUpgrade, SimSocketHub } from '../socket-hub.ts';
import {
  BITGET_CHANNEL_INTERVALS,
  bitgetTradeId,
  bucketRuleOf,
  candleRow,
  type BitgetSimInstrument,
  type BitgetSimInstruments,
} from './instruments.ts';
import { SimBook } from './sim-book.ts';
import { applyBitgetSocketFault } from './socket-faults.ts';

export interface BitgetStreamSettings {
  /** A connection that sent no `ping` for this long is closed (Bitget: 2 minutes in the newer docs). */
  readonly pingTimeoutMs: number;
  /** Period of ticker pushes. */
  readonly tickerPushMs: number;
  /** Period of `books` deltas. */
  readonly bookPushMs: number;
  /** Period of candle pushes of the bar in progress. */
  readonly candlePushMs: number;
  /** Bars in a candle subscription's first (snapshot) push. */
  readonly candleSnapshotBars: number;
  /** Trades in a trade subscription's first (snapshot) push. */
  readonly tradeSnapshotSize: number;
  /** Levels per side kept in each simulated book. */
  readonly bookDepth: number;
  /** Incoming messages per second before disconnecting (Bitget: 10). */
  readonly maxIncomingPerSecond: number;
  /** Subscribe requests per hour per connection (Bitget: 240). */
  readonly maxSubscribesPerHour: number;
  /** Channels per connection (Bitget: 1000). */
  readonly maxChannelsPerConnection: number;
  readonly maxPayloadBytes: number;
  /** A client whose unsent data exceeds this is dropped as too slow. */
  readonly maxBufferedBytes: number;
  /** Connections are closed after this long (Bitget: 24 h). */
  readonly connectionLifetimeMs: number;
  readonly seed: number;
}

interface Arg {
  instType: string;
  channel: string;
  instId: string;
}

/** One subscribed channel of one instrument. */
interface Channel {
  readonly key: string;
  readonly arg: Arg;
  readonly instrument: BitgetSimInstrument;
  /** Bar size in ms for candle channels. */
  readonly barMs: number | undefined;
  readonly subscribers: Set<Connection>;
}

class Connection {
  readonly channels = new Set<Channel>();
  private readonly arrivals: number[];
  private arrivalIndex = 0;
  readonly subscribeTimes: number[] = [];
  lastPingAt: number;
  lifetimeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: WebSocket,
    limitPerSecond: number,
    now: number,
  ) {
    this.arrivals = new Array<number>(Math.max(1, limitPerSecond)).fill(Number.NEGATIVE_INFINITY);
    this.lastPingAt = now;
  }

  /** Records an incoming message; false when it is one too many within the last second. */
  admit(now: number): boolean {
    const oldest = this.arrivals[this.arrivalIndex] as number;
    this.arrivals[this.arrivalIndex] = now;
    this.arrivalIndex = (this.arrivalIndex + 1) % this.arrivals.length;
    return now - oldest >= 1000;
  }
}

const KNOWN_CHANNELS = new Set(['trade', 'ticker', 'books', ...BITGET_CHANNEL_INTERVALS.keys()]);
const KNOWN_INST_TYPES = new Set(['SPOT', 'USDT-FUTURES', 'COIN-FUTURES', 'USDC-FUTURES']);
const HOUR_MS = 3_600_000;

export class BitgetStreamServer implements MarketListener {
  private readonly hub: SimSocketHub<Connection>;
  private readonly channels = new Map<string, Channel>();
  private readonly books = new Map<BitgetSimInstrument, SimBook>();

  constructor(
    private readonly instruments: BitgetSimInstruments,
    private readonly faults: VenueFaultState,
    private readonly now: () => number,
    private readonly settings: BitgetStreamSettings,
    private readonly logger: Logger,
  ) {
    this.hub = new SimSocketHub({ maxPayloadBytes: settings.maxPayloadBytes, faults });
    for (const instrument of instruments.all()) this.hub.onClose(instrument.market.subscribe(this));
    this.hub.every(Math.max(10, Math.min(5_000, settings.pingTimeoutMs / 4)), () => this.sweepIdle());
    this.hub.every(settings.tickerPushMs, () => this.pushTickers());
    this.hub.every(settings.bookPushMs, () => this.pushBooks());
    this.hub.every(settings.candlePushMs, () => this.pushOpenCandles());
    this.hub.onClose(faults.onAction((action) => this.onFault(action)));
  }

  /** Accepts an upgrade for `/v2/ws/public`; anything else gets a 404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): void {
    if (path !== '/v2/ws/public') {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    this.hub.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  /** The book of an instrument, created on first use so REST and the socket share one sequence. */
  book(instrument: BitgetSimInstrument): SimBook {
    let book = this.books.get(instrument);
    if (book === undefined) {
      const seed = hashSeed(this.settings.seed, 'bitget-book', instrument.instType, instrument.instId);
      book = new SimBook(instrument, seed, this.settings.bookDepth);
      this.books.set(instrument, book);
    }
    return book;
  }

  /**
   * The book of an instrument moved to the current price. A book nobody streams is stepped here (no delta can be
   * lost); a streamed one moves only with its pushes, so REST and the socket agree on its sequence.
   */
  freshBook(instrument: BitgetSimInstrument): SimBook {
    const book = this.book(instrument);
    const streamed = this.channels.get(`${instrument.instType}|books|${instrument.instId}`);
    if (streamed === undefined || streamed.subscribers.size === 0) book.step();
    return book;
  }

  /** Terminates every connection; returns how many there were. */
  dropConnections(): number {
    return this.hub.dropConnections();
  }

  close(): Promise<void> {
    return this.hub.close();
  }

  private onFault(action: FaultAction): void {
    applyBitgetSocketFault(this.hub.connections, action);
  }

  private accept(socket: WebSocket): void {
    const conn = new Connection(socket, this.settings.maxIncomingPerSecond, performance.now());
    this.hub.connections.add(conn);
    conn.lifetimeTimer = setTimeout(() => socket.close(1000, ''), this.settings.connectionLifetimeMs);
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (!conn.admit(performance.now())) {
        this.reply(conn, { event: 'error', code: 30006, msg: 'request too many' });
        socket.close(1008, 'Too many requests');
        return;
      }
      this.onMessage(conn, isBinary ? '' : rawToString(data));
    });
    socket.on('error', (err) =>
      this.logger.debug({ venue: 'bitget', err: err.message }, 'sim: client socket error'),
    );
    socket.on('close', () => this.remove(conn));
  }

  private remove(conn: Connection): void {
    if (!this.hub.connections.delete(conn)) return;
    clearTimeout(conn.lifetimeTimer);
    for (const channel of conn.channels) this.leave(conn, channel);
  }

  /** Sends a control reply unless the venue is stalled. */
  private reply(conn: Connection, value: unknown): void {
    if (this.faults.streamStalled) return;
    this.send(conn, JSON.stringify(value));
  }

  private send(conn: Connection, text: string): void {
    const socket = conn.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.settings.maxBufferedBytes) {
      this.logger.debug({ venue: 'bitget' }, 'sim: client too slow; dropping');
      socket.terminate();
      return;
    }
    socket.send(text);
  }

  private onMessage(conn: Connection, text: string): void {
    if (text === 'ping') {
      conn.lastPingAt = performance.now();
      if (!this.faults.streamStalled) this.send(conn, 'pong');
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.reply(conn, { event: 'error', code: 30002, msg: 'illegal request' });
      return;
    }
    const op = isObject(request) ? request['op'] : undefined;
    const args = isObject(request) ? request['args'] : undefined;
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      this.reply(conn, { event: 'error', code: 30003, msg: 'invalid op' });
      return;
    }
    if (!Array.isArray(args) || args.length === 0) {
      this.reply(conn, { event: 'error', code: 30016, msg: 'Param error', op });
      return;
    }
    if (op === 'subscribe') {
      const now = performance.now();
      const times = conn.subscribeTimes;
      while (times.length > 0 && now - (times[0] as number) >= HOUR_MS) times.shift();
      if (times.length >= this.settings.maxSubscribesPerHour) {
        this.reply(conn, { event: 'error', code: 30006, msg: 'request too many', op });
        return;
      }
      times.push(now);
      if (this.faults.takeSubscriptionRejection()) {
        for (const raw of args)
          this.reply(conn, { event: 'error', arg: raw, code: 30006, msg: 'request too many', op });
        return;
      }
    }
    for (const raw of args) {
      const arg = readArg(raw);
      if (arg === undefined || !KNOWN_CHANNELS.has(arg.channel) || !KNOWN_INST_TYPES.has(arg.instType)) {
        this.reply(conn, { event: 'error', arg: raw, code: 30016, msg: 'Param error', op });
        continue;
      }
      const instrument = this.instruments.get(arg.instType, arg.instId);
      if (instrument === undefined) {
        const msg = `instType:${arg.instType},channel:${arg.channel},instId:${arg.instId} doesn't exist`;
        this.reply(conn, { event: 'error', arg: raw, code: 30001, msg, op });
        continue;
      }
      const key = `${arg.instType}|${arg.channel}|${arg.instId}`;
      if (op === 'unsubscribe') {
        const channel = this.channels.get(key);
        if (channel !== undefined && conn.channels.has(channel)) this.leave(conn, channel);
        this.reply(conn, { event: 'unsubscribe', arg });
        continue;
      }
      if (conn.channels.size >= this.settings.maxChannelsPerConnection) {
        this.reply(conn, {
          event: 'error',
          arg,
          code: 30007,
          msg: 'request over limit,connection close',
          op,
        });
        conn.socket.close(1008, 'over limit');
        return;
      }
      let channel = this.channels.get(key);
      if (channel === undefined) {
        channel = {
          key,
          arg,
          instrument,
          barMs: BITGET_CHANNEL_INTERVALS.get(arg.channel),
          subscribers: new Set(),
        };
        this.channels.set(key, channel);
      }
      this.reply(conn, { event: 'subscribe', arg });
      if (conn.channels.has(channel)) continue;
      conn.channels.add(channel);
      channel.subscribers.add(conn);
      this.sendSnapshot(conn, channel);
    }
  }

  private leave(conn: Connection, channel: Channel): void {
    conn.channels.delete(channel);
    channel.subscribers.delete(conn);
    if (channel.subscribers.size === 0) this.channels.delete(channel.key);
  }

  /** True when data of `instrument` must not be sent now. */
  private withheld(instrument: BitgetSimInstrument): boolean {
    return (
      this.faults.streamStalled || this.faults.streamPaused || this.faults.isFrozen(instrument.faultSymbol)
    );
  }

  private push(channel: Channel, action: 'snapshot' | 'update', data: unknown[], only?: Connection): void {
    const text = JSON.stringify({ action, arg: channel.arg, data, ts: this.now() });
    if (only !== undefined) this.send(only, text);
    else for (const conn of channel.subscribers) this.send(conn, text);
  }

  private sendSnapshot(conn: Connection, channel: Channel): void {
    const { instrument } = channel;
    if (this.withheld(instrument)) return;
    const { arg } = channel;
    if (arg.channel === 'trade') {
      const trades = instrument.market.recentTrades();
      const rows: unknown[] = [];
      for (let i = trades.length - 1; i >= 0 && rows.length < this.settings.tradeSnapshotSize; i--) {
        rows.push(tradeRow(instrument, trades[i] as SimTrade));
      }
      this.push(channel, 'snapshot', rows, conn);
    } else if (arg.channel === 'ticker') {
      this.push(channel, 'snapshot', [this.tickerRow(instrument)], conn);
    } else if (arg.channel === 'books') {
      const book = this.book(instrument);
      // The first subscriber gets a book at today's price; later ones join the running sequence.
      if (channel.subscribers.size === 1) book.step();
      const { bids, asks } = book.levels();
      this.push(
        channel,
        'snapshot',
        [{ asks, bids, checksum: 0, seq: book.seq, pseq: 0, ts: String(this.now()) }],
        conn,
      );
    } else if (channel.barMs !== undefined) {
      const rule = bucketRuleOf(channel.barMs);
      const current = bucketStartOf(rule, instrument.market.currentMinuteTime);
      const first = Math.max(
        bucketStartOf(rule, instrument.market.firstMinute),
        current - (this.settings.candleSnapshotBars - 1) * channel.barMs,
      );
      const rows: string[][] = [];
      for (let t = first; t <= current; t += channel.barMs)
        rows.push(candleRow(barAt(instrument.market, rule, t), instrument.fmt, 8));
      this.push(channel, 'snapshot', rows, conn);
    }
  }

  trade(market: SimMarket, trade: SimTrade): void {
    const instrument = this.instruments.of(market);
    const channel = this.channels.get(`${instrument.instType}|trade|${instrument.instId}`);
    if (channel === undefined || this.withheld(instrument)) return;
    this.push(channel, 'update', [tradeRow(instrument, trade)]);
  }

  /** A minute closed: candle channels whose bar ended get the final bar and the new one in one push. */
  minuteClosed(market: SimMarket, bar: MinuteBar): void {
    const instrument = this.instruments.of(market);
    const end = bar.t + MINUTE_MS;
    for (const [name, ms] of BITGET_CHANNEL_INTERVALS) {
      const channel = this.channels.get(`${instrument.instType}|${name}|${instrument.instId}`);
      if (channel === undefined || this.withheld(instrument)) continue;
      const rule = bucketRuleOf(ms);
      if (bucketStartOf(rule, end) !== end) continue;
      const closed = barAt(market, rule, bucketStartOf(rule, bar.t));
      const open = barAt(market, rule, end);
      this.push(channel, 'update', [
        candleRow(closed, instrument.fmt, 8),
        candleRow(open, instrument.fmt, 8),
      ]);
    }
  }

  private pushOpenCandles(): void {
    for (const channel of this.channels.values()) {
      if (channel.barMs === undefined || this.withheld(channel.instrument)) continue;
      const rule = bucketRuleOf(channel.barMs);
      const market = channel.instrument.market;
      const bar = barAt(market, rule, bucketStartOf(rule, market.currentMinuteTime));
      this.push(channel, 'update', [candleRow(bar, channel.instrument.fmt, 8)]);
    }
  }

  private pushTickers(): void {
    for (const channel of this.channels.values()) {
      if (channel.arg.channel !== 'ticker' || this.withheld(channel.instrument)) continue;
      this.push(channel, 'snapshot', [this.tickerRow(channel.instrument)]);
    }
  }

  private pushBooks(): void {
    for (const channel of this.channels.values()) {
      if (channel.arg.channel !== 'books') continue;
      const { instrument } = channel;
      const book = this.book(instrument);
      const delta = book.step();
      // A withheld delta is lost for the client, as on a real feed: the next pseq shows the gap.
      if (this.withheld(instrument)) continue;
      let pseq = delta.pseq;
      let checksum = delta.checksum;
      if (this.faults.takeSkipBookSeq(instrument.faultSymbol)) pseq -= 1;
      if (this.faults.takeCorruptChecksum(instrument.faultSymbol)) checksum = (checksum ^ 0x5a5a5a5a) | 0;
      this.push(channel, 'update', [
        { asks: delta.asks, bids: delta.bids, checksum, seq: delta.seq, pseq, ts: String(this.now()) },
      ]);
    }
  }

  /** The 24 h ticker row of an instrument (futures add mark/index price and funding). */
  tickerRow(instrument: BitgetSimInstrument): Record<string, string> {
    const { market, fmt } = instrument;
    const minutes = market.minutes;
    const count = minutes.length;
    const from = Math.max(0, count - DAY_MS / MINUTE_MS);
    const day = aggregateWindowToOpenMinute(
      minutes,
      from,
      count,
      from < count ? minutes.time(from) : 0,
      market.currentMinuteTime,
    );
    const best = this.freshBook(instrument).best();
    const last = market.lastTicks;
    const open = from < count ? minutes.open(from) : last;
    const row: Record<string, string> = {
      instId: instrument.instId,
      lastPr: fmt.price(last),
      open24h: fmt.price(open),
      high24h: fmt.price(Math.max(day.h, last)),
      low24h: fmt.price(day.n === 0 ? last : Math.min(day.l, last)),
      change24h: (open === 0 ? 0 : (last - open) / open).toFixed(5),
      bidPr: fmt.price(best.bid?.[0] ?? last),
      askPr: fmt.price(best.ask?.[0] ?? last + 1),
      bidSz: fmt.size(best.bid?.[1] ?? 0),
      askSz: fmt.size(best.ask?.[1] ?? 0),
      baseVolume: fmt.size(day.v),
      quoteVolume: fmt.quote(day.q),
      openUtc: fmt.price(open),
      changeUtc24h: (open === 0 ? 0 : (last - open) / open).toFixed(5),
      ts: String(this.now()),
    };
    if (instrument.instType === 'USDT-FUTURES') {
      row['fundingRate'] = '0.0001';
      row['nextFundingTime'] = String(Math.floor(this.now() / (8 * HOUR_MS) + 1) * 8 * HOUR_MS);
      row['markPrice'] = fmt.price(last);
      row['indexPrice'] = fmt.price(last);
      row['holdingAmount'] = fmt.size(day.v / 2n);
      row['symbolType'] = '1';
      row['symbol'] = instrument.instId;
    }
    return row;
  }

  /** Closes connections that have not pinged within pingTimeoutMs. */
  private sweepIdle(): void {
    const now = performance.now();
    for (const conn of [...this.hub.connections]) {
      if (now - conn.lastPingAt > this.settings.pingTimeoutMs) conn.socket.close(1000, '');
    }
  }
}

/** A `trade` channel row; Bitget sends the taker side in lower case. */
export function tradeRow(instrument: BitgetSimInstrument, trade: SimTrade): Record<string, string> {
  return {
    ts: String(trade.T),
    price: instrument.fmt.price(trade.ticks),
    size: instrument.fmt.size(trade.lots),
    side: trade.buyerMaker ? 'sell' : 'buy',
    tradeId: bitgetTradeId(trade.a),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readArg(value: unknown): Arg | undefined {
  if (!isObject(value)) return undefined;
  const { instType, channel, instId } = value;
  if (typeof instType !== 'string' || typeof channel !== 'string' || typeof instId !== 'string')
    return undefined;
  return { instType, channel, instId };
}
