import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { TickwireError } from '../../domain/errors.ts';
import type { Interval } from '../../domain/interval.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { MarketStream, MarketStreamHandlers, MarketStreamStats, StreamStatus } from '../venue.ts';
import { parseFrame } from './parse.ts';
import {
  binanceSymbolMap,
  klineStreamName,
  tradeStreamName,
  type BinanceSymbolMap,
  type BinanceTradeStream,
} from './symbols.ts';

/** Binance serves at most this many streams on one connection. */
const MAX_STREAMS_PER_CONNECTION = 1024;
/** Distinct unknown/ignored frame kinds remembered for log-once; beyond it they are counted, not logged. */
const MAX_LOGGED_KINDS = 256;

export interface BinanceReconnectOptions {
  /** First backoff ceiling. Default 1 s. */
  readonly initialDelayMs?: number;
  /** Backoff ceiling cap. Default 16 s. */
  readonly maxDelayMs?: number;
}

export interface BinanceStreamOptions {
  /** Base of the market-stream endpoint: wss://stream.binance.com:9443 or the simulator's ws://127.0.0.1:PORT/binance. */
  readonly wsUrl: string;
  readonly logger: Logger;
  /** Clock for receive times and status events. */
  readonly now?: () => number;
  /** Which trade stream feeds `handlers.trade`. Default `aggTrade` (its ids are the resumable sequence). */
  readonly tradeStream?: BinanceTradeStream;
  /** Native kline streams for `handlers.candle`. Default ['1m']; [] subscribes none. */
  readonly klineIntervals?: readonly Interval[];
  /** TCP + TLS + WebSocket handshake must finish within this. Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly reconnect?: BinanceReconnectOptions;
  /**
   * A connection that delivers no message for this long is dropped and replaced. Default 60 s: kline streams push
   * every 2 s even without trades, so a minute of silence means the connection is dead in practice.
   */
  readonly silenceTimeoutMs?: number;
  /** Largest accepted frame. Default 4 MiB. */
  readonly maxPayloadBytes?: number;
  /** How long `close()` waits for the closing handshake before dropping the socket. Default 2 s. */
  readonly closeTimeoutMs?: number;
  /** Source of backoff jitter in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

/**
 * Opens the combined market stream for `symbols` (canonical) and keeps it alive until `close()`: connect timeout,
 * reconnect with full-jitter exponential backoff, immediate reconnect on `serverShutdown`, a silence watchdog.
 * Server pings are answered by the ws library (autoPong). Throws TickwireError INVALID_SYMBOL for a symbol that is
 * not canonical and CONFIG_INVALID when the streams exceed one connection.
 */
export function openBinanceMarketStream(
  symbols: readonly string[],
  handlers: MarketStreamHandlers,
  options: BinanceStreamOptions,
): MarketStream {
  return new BinanceMarketStream(symbols, handlers, options);
}

class BinanceMarketStream implements MarketStream {
  private readonly url: string;
  private readonly streams: readonly string[];
  private readonly symbols: BinanceSymbolMap;
  private readonly handlers: MarketStreamHandlers;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly connectTimeoutMs: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly silenceTimeoutMs: number;
  private readonly maxPayloadBytes: number;
  private readonly closeTimeoutMs: number;
  private readonly random: () => number;

  private socket: WebSocket | undefined;
  private connected = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  /** Why the current socket is being dropped by us, and whether to reconnect without waiting. */
  private dropReason: string | undefined;
  private dropImmediately = false;
  private lastActivity = 0;
  private readonly loggedKinds = new Set<string>();

  private reconnectCount = 0;
  private messagesReceived = 0;
  private errors = 0;
  private unparsedFrames = 0;
  private lastMessageAt: number | null = null;

  constructor(symbols: readonly string[], handlers: MarketStreamHandlers, options: BinanceStreamOptions) {
    if (symbols.length === 0)
      throw new TickwireError('INVALID_SYMBOL', 'binance market stream needs at least one symbol');
    this.symbols = binanceSymbolMap(symbols);
    const tradeStream = options.tradeStream ?? 'aggTrade';
    const intervals = options.klineIntervals ?? ['1m'];
    const streams: string[] = [];
    for (const symbol of new Set(symbols)) {
      streams.push(tradeStreamName(symbol, tradeStream));
      for (const interval of intervals) streams.push(klineStreamName(symbol, interval));
    }
    if (streams.length > MAX_STREAMS_PER_CONNECTION) {
      throw new TickwireError(
        'CONFIG_INVALID',
        `binance allows ${MAX_STREAMS_PER_CONNECTION} streams per connection; ${streams.length} requested`,
      );
    }
    this.streams = streams;
    this.url = `${options.wsUrl.replace(/\/+$/, '')}/stream?streams=${streams.join('/')}`;
    this.handlers = handlers;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.initialDelayMs = options.reconnect?.initialDelayMs ?? 1_000;
    this.maxDelayMs = options.reconnect?.maxDelayMs ?? 16_000;
    this.silenceTimeoutMs = options.silenceTimeoutMs ?? 60_000;
    this.maxPayloadBytes = options.maxPayloadBytes ?? 4 * 1024 * 1024;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2_000;
    this.random = options.random ?? Math.random;
    this.connect();
  }

  stats(): MarketStreamStats {
    return {
      venue: 'binance',
      connected: this.connected,
      url: this.url,
      subscriptions: this.streams,
      reconnectCount: this.reconnectCount,
      messagesReceived: this.messagesReceived,
      errors: this.errors,
      unparsedFrames: this.unparsedFrames,
      lastMessageAt: this.lastMessageAt,
    };
  }

  /** Stops reconnecting and closes the socket; resolves when no timer, socket or listener of this stream is left. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.watchdogTimer);
    this.reconnectTimer = undefined;
    this.watchdogTimer = undefined;
    const socket = this.socket;
    this.closing = socket === undefined ? Promise.resolve() : this.closeSocket(socket);
    return this.closing;
  }

  private closeSocket(socket: WebSocket): Promise<void> {
    return new Promise<void>((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) {
        socket.removeAllListeners();
        resolve();
        return;
      }
      const fallback = setTimeout(() => socket.terminate(), this.closeTimeoutMs);
      socket.once('close', () => {
        clearTimeout(fallback);
        socket.removeAllListeners();
        resolve();
      });
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'client closing');
      else socket.terminate();
    });
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    const socket = new WebSocket(this.url, {
      handshakeTimeout: this.connectTimeoutMs,
      maxPayload: this.maxPayloadBytes,
      perMessageDeflate: false,
    });
    this.socket = socket;
    this.dropReason = undefined;
    this.dropImmediately = false;
    socket.on('open', () => this.onOpen(socket));
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) =>
      this.onMessage(socket, data, isBinary),
    );
    socket.on('error', (err: Error) => this.onError(socket, err));
    socket.on('close', (code: number, reason: Buffer) => this.onClose(socket, code, reason));
  }

  private onOpen(socket: WebSocket): void {
    if (socket !== this.socket || this.closed) return;
    this.connected = true;
    this.lastActivity = performance.now();
    this.armWatchdog(this.silenceTimeoutMs);
    this.logger.info({ venue: 'binance', streams: this.streams.length }, 'binance stream connected');
    this.emitStatus({ kind: 'connected', at: this.now() });
  }

  private onMessage(socket: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (socket !== this.socket || this.closed) return;
    const receivedAt = this.now();
    this.messagesReceived++;
    this.lastMessageAt = receivedAt;
    this.lastActivity = performance.now();
    // A connection that delivers data is healthy: the next failure starts the backoff from the beginning.
    this.attempt = 0;
    if (isBinary) {
      this.unparsed('binary', 'binary frame on a text protocol');
      return;
    }
    const frame = parseFrame(rawText(data), this.symbols, receivedAt);
    switch (frame.kind) {
      case 'trade':
        try {
          this.handlers.trade(frame.trade);
        } catch (err) {
          this.handlerFailed('trade', err);
        }
        return;
      case 'candle':
        try {
          this.handlers.candle?.(frame.candle);
        } catch (err) {
          this.handlerFailed('candle', err);
        }
        return;
      case 'serverShutdown':
        this.logger.info({ venue: 'binance' }, 'binance announced a server shutdown; reconnecting now');
        this.drop('server shutdown', true);
        return;
      case 'error':
        this.errors++;
        this.logger.warn(
          { venue: 'binance', code: frame.code, id: frame.id },
          `binance error: ${frame.message}`,
        );
        this.emitStatus({
          kind: 'error',
          at: receivedAt,
          message: `binance error ${frame.code}: ${frame.message}`,
        });
        return;
      case 'unknown':
        this.unparsed(frame.key, frame.reason);
        return;
      case 'ignored':
        this.logOnce(`ignored:${frame.key}`, () =>
          this.logger.debug({ venue: 'binance', kind: frame.key }, `binance frame ignored: ${frame.reason}`),
        );
        return;
      default:
        // Acks and book/ticker frames: not subscribed on this connection, nothing to hand on.
        return;
    }
  }

  private onError(socket: WebSocket, err: Error): void {
    if (socket !== this.socket || this.closed) return;
    this.errors++;
    this.logger.warn({ venue: 'binance', err: err.message }, 'binance stream error');
    this.emitStatus({ kind: 'error', at: this.now(), message: err.message });
  }

  private onClose(socket: WebSocket, code: number, reason: Buffer): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    clearTimeout(this.watchdogTimer);
    this.watchdogTimer = undefined;
    const wasConnected = this.connected;
    this.connected = false;
    if (this.closed) return;
    const text = reason.toString();
    const why = this.dropReason ?? `closed by server (${code}${text ? ` ${text}` : ''})`;
    if (wasConnected) {
      this.logger.warn({ venue: 'binance', reason: why }, 'binance stream disconnected');
      this.emitStatus({ kind: 'disconnected', at: this.now(), reason: why });
    }
    this.scheduleReconnect(this.dropImmediately);
  }

  private scheduleReconnect(immediately: boolean): void {
    if (this.closed) return;
    const ceiling = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(this.attempt, 30));
    const delay = immediately ? 0 : Math.floor(this.random() * ceiling);
    if (!immediately) this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectCount++;
      this.connect();
    }, delay);
  }

  /** Drops the current socket; onClose then reports `reason` and reconnects. */
  private drop(reason: string, immediately: boolean): void {
    const socket = this.socket;
    if (!socket) return;
    this.dropReason = reason;
    this.dropImmediately = immediately;
    socket.terminate();
  }

  private armWatchdog(delay: number): void {
    clearTimeout(this.watchdogTimer);
    this.watchdogTimer = setTimeout(() => this.checkSilence(), delay);
  }

  private checkSilence(): void {
    this.watchdogTimer = undefined;
    if (this.closed || !this.connected) return;
    const silent = performance.now() - this.lastActivity;
    if (silent >= this.silenceTimeoutMs) {
      this.errors++;
      this.drop(`no message for ${Math.round(silent)} ms`, false);
      return;
    }
    this.armWatchdog(this.silenceTimeoutMs - silent);
  }

  private unparsed(key: string, reason: string): void {
    this.unparsedFrames++;
    this.logOnce(`unknown:${key}`, () =>
      this.logger.warn({ venue: 'binance', kind: key }, `binance frame not understood: ${reason}`),
    );
  }

  private logOnce(key: string, log: () => void): void {
    if (this.loggedKinds.has(key) || this.loggedKinds.size >= MAX_LOGGED_KINDS) return;
    this.loggedKinds.add(key);
    log();
  }

  private handlerFailed(kind: string, err: unknown): void {
    this.errors++;
    this.logger.error({ venue: 'binance', err }, `binance ${kind} handler threw`);
  }

  private emitStatus(status: StreamStatus): void {
    try {
      this.handlers.status(status);
    } catch (err) {
      this.handlerFailed('status', err);
    }
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
