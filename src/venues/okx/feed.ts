import { TickwireError } from '../../domain/errors.ts';
import { INTERVAL_MS, type Interval } from '../../domain/interval.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { systemClock, type Clock } from '../../util/clock.ts';
import type { ConnectionProtocol, FrameOutcome, PollKind } from '../connection/connection-protocol.ts';
import { ConnectionRunner, type ConnectionRunnerOptions } from '../connection/runner.ts';
import { mergeStatuses } from '../connection/merge-status.ts';
import type { ConnectionStatus, MarketStream, MarketStreamHandlers, MarketStreamOptions } from '../venue.ts';
import { parseOkxFrame } from './parse.ts';
import type { OkxRest } from './rest.ts';
import { candleChannel, okxSymbolMap, toOkxInstId, type OkxSymbolMap } from './symbols.ts';
import type { OkxArg } from './wire.ts';

/** Args per subscribe request: far below OKX's 64 KB request cap, and few requests against the 480/hour budget. */
const ARGS_PER_REQUEST = 100;
/** Remembered request ids (for resending a refused request); the oldest are forgotten beyond it. */
const MAX_PENDING_REQUESTS = 1024;

export interface OkxStreamOptions {
  /**
   * Base of the WebSocket endpoints: wss://ws.okx.com:8443, or the simulator's ws://127.0.0.1:PORT/okx. A URL that
   * ends in /ws/v5/public (or business/private) is accepted too; the stream derives both endpoints from it.
   */
  readonly wsUrl: string;
  readonly logger: Logger;
  /** Time for receive times and status, and every timer of the connection. Default the system clock. */
  readonly clock?: Clock;
  /** Native candle channels for `handlers.candle` (UTC-anchored names). Default ['1m']; [] subscribes none. */
  readonly candleIntervals?: readonly Interval[];
  /** Book channel: `books` (400 levels, 100 ms, seqId + checksum; default). */
  readonly bookChannel?: 'books';
  /** Text ping period. Default 20 s: OKX closes connections idle for 30 s. */
  readonly pingIntervalMs?: number;
  /** No pong within this recycles the connection. Default 10 s. */
  readonly pongTimeoutMs?: number;
  /** Subscribe requests per hour per connection. Default 400 (OKX allows 480). */
  readonly subscribesPerHour?: number;
  /** Outbound messages per second per connection. Default 8. */
  readonly messagesPerSecond?: number;
  /** Runner tuning (connect timeout, backoff, silence, staleness, fallback); see ConnectionRunnerOptions. */
  readonly runner?: Omit<ConnectionRunnerOptions, 'logger' | 'clock'>;
  /** REST client for the polling fallback (tickers, trades since the last seen id, candles). */
  readonly rest?: OkxRest;
}

/** An OKX market stream: the MarketStream contract plus per-book resync and per-connection details. */
export interface OkxMarketStream extends MarketStream {
  /**
   * Rebuilds one book (after a gap or checksum failure): unsubscribes and resubscribes `books` of `symbol` on the
   * public connection, whose first push is a fresh snapshot. False when the book is not subscribed or no connection
   * is open (the next connection subscribes it anyway).
   */
  resyncBook(symbol: string): boolean;
  /** The status of each connection: `public` (trades, tickers, books) and `business` (candles). */
  connectionStatuses(): { readonly public?: ConnectionStatus; readonly business?: ConnectionStatus };
}

/**
 * Opens OKX v5 market data for `symbols` (canonical spot) and keeps it alive until `close()`: trades, tickers and
 * books on /ws/v5/public, candles on /ws/v5/business, each on its own resilient connection (ConnectionRunner: text
 * ping, backoff, paced resubscribe, watchdog, staleness, REST fallback). Notice 64008 recycles a connection at
 * once; a refused subscription is resent after a backoff. Throws TickwireError INVALID_SYMBOL for a symbol that is
 * not canonical.
 */
export function openOkxMarketStream(
  symbols: readonly string[],
  handlers: MarketStreamHandlers,
  options: OkxStreamOptions,
  { channels = ['trades', 'candles'], books }: MarketStreamOptions = {},
): OkxMarketStream {
  if (symbols.length === 0)
    throw new TickwireError('INVALID_SYMBOL', 'okx market stream needs at least one symbol');
  const unique = [...new Set(symbols)];
  const map = okxSymbolMap(unique);
  const wanted = new Set(channels);
  const clock = options.clock ?? systemClock;
  const bookChannel = options.bookChannel ?? 'books';
  // The books subscribed now: the public connection's subscriptions are worked out from it at every connect.
  const booksOn = new Set(wanted.has('book') ? (books ?? unique).filter((s) => unique.includes(s)) : []);
  const publicArgs = (): OkxArg[] => {
    const args: OkxArg[] = [];
    for (const symbol of unique) {
      const instId = toOkxInstId(symbol);
      if (wanted.has('trades')) args.push({ channel: 'trades', instId });
      if (wanted.has('ticker')) args.push({ channel: 'tickers', instId });
      if (booksOn.has(symbol)) args.push({ channel: bookChannel, instId });
    }
    return args;
  };
  const businessArgs: OkxArg[] = wanted.has('candles')
    ? unique.flatMap((symbol) =>
        (options.candleIntervals ?? ['1m']).map((i) => ({
          channel: candleChannel(i),
          instId: toOkxInstId(symbol),
        })),
      )
    : [];
  const lastTradeSeq = new Map<string, number>();
  const trackingHandlers: MarketStreamHandlers = {
    ...handlers,
    trade(trade) {
      if (trade.seq !== undefined && trade.seq > (lastTradeSeq.get(trade.symbol) ?? -1)) {
        lastTradeSeq.set(trade.symbol, trade.seq);
      }
      handlers.trade(trade);
    },
  };
  const connection = (endpoint: 'public' | 'business', args: () => readonly OkxArg[]): Connection =>
    new Connection(endpoint, args, map, unique, trackingHandlers, options, clock, lastTradeSeq);
  // The public connection exists whenever it can carry something (a book subscribed later included).
  const pub =
    wanted.has('trades') || wanted.has('ticker') || wanted.has('book')
      ? connection('public', publicArgs)
      : undefined;
  const biz = businessArgs.length > 0 ? connection('business', () => businessArgs) : undefined;
  pub?.runner.start();
  biz?.runner.start();
  return {
    status(): ConnectionStatus {
      return mergeStatuses([pub, biz].flatMap((c) => (c ? [c.runner.status()] : [])));
    },
    connectionStatuses() {
      return {
        ...(pub ? { public: pub.runner.status() } : {}),
        ...(biz ? { business: biz.runner.status() } : {}),
      };
    },
    resyncBook(symbol: string): boolean {
      if (pub === undefined || !booksOn.has(symbol)) return false;
      const arg = { channel: bookChannel, instId: toOkxInstId(symbol) };
      return (
        pub.runner.send(JSON.stringify({ op: 'unsubscribe', args: [arg] }), true) &&
        pub.runner.send(pub.request('subscribe', [arg]), true)
      );
    },
    subscribeBook(symbol: string, subscribed: boolean): void {
      if (pub === undefined || !wanted.has('book') || !unique.includes(symbol)) return;
      if (booksOn.has(symbol) === subscribed) return;
      if (subscribed) booksOn.add(symbol);
      else booksOn.delete(symbol);
      // Not connected: the next connection subscribes what booksOn holds then.
      const arg = { channel: bookChannel, instId: toOkxInstId(symbol) };
      pub.runner.send(
        subscribed ? pub.request('subscribe', [arg]) : JSON.stringify({ op: 'unsubscribe', args: [arg] }),
        true,
      );
    },
    async close(): Promise<void> {
      await Promise.all([pub?.runner.close(), biz?.runner.close()]);
    },
  };
}

/** One OKX connection (public or business) as a ConnectionProtocol, and its runner. */
class Connection implements ConnectionProtocol {
  readonly venue = 'okx' as const;
  readonly heartbeat;
  readonly limits;
  readonly runner: ConnectionRunner;
  private readonly pending = new Map<string, string>();
  private nextId = 1;

  constructor(
    private readonly endpoint: 'public' | 'business',
    /** The connection's subscriptions now (the public one's books change with `subscribeBook`). */
    private readonly argsNow: () => readonly OkxArg[],
    private readonly map: OkxSymbolMap,
    private readonly symbolList: readonly string[],
    private readonly handlers: MarketStreamHandlers,
    private readonly options: OkxStreamOptions,
    private readonly clock: Clock,
    private readonly lastTradeSeq: ReadonlyMap<string, number>,
  ) {
    const interval = options.pingIntervalMs ?? 20_000;
    this.heartbeat = {
      kind: 'text-ping',
      ping: 'ping',
      pong: 'pong',
      intervalMs: interval,
      timeoutMs: options.pongTimeoutMs ?? 10_000,
    } as const;
    this.limits = {
      messagesPerSecond: options.messagesPerSecond ?? 8,
      subscribesPerHour: options.subscribesPerHour ?? 400,
    };
    this.runner = new ConnectionRunner(
      this,
      { status: (s) => handlers.status(s), event: (e) => handlers.event?.(e) },
      { ...options.runner, logger: options.logger, clock },
    );
  }

  url(): string {
    // Accept the bare host as well as a URL that already names one endpoint (the config default names /public).
    const base = this.options.wsUrl.replace(/\/+$/, '').replace(/\/ws\/v5\/(public|business|private)$/, '');
    return `${base}/ws/v5/${this.endpoint}`;
  }

  subscriptions(): readonly string[] {
    return this.argsNow().map((a) => `${a.channel}:${a.instId ?? ''}`);
  }

  symbols(): readonly string[] {
    return this.symbolList;
  }

  onOpen(): void {
    this.pending.clear();
  }

  unansweredSubscribes(): number {
    return this.pending.size;
  }

  subscribeFrames(): readonly string[] {
    const frames: string[] = [];
    const args = this.argsNow();
    for (let i = 0; i < args.length; i += ARGS_PER_REQUEST) {
      frames.push(this.request('subscribe', args.slice(i, i + ARGS_PER_REQUEST)));
    }
    return frames;
  }

  /** A request with a fresh id, remembered so that a refusal (which echoes the id) can resend it. */
  request(op: 'subscribe', args: readonly OkxArg[]): string {
    const id = `tw${this.nextId++}`;
    const text = JSON.stringify({ id, op, args });
    this.pending.set(id, text);
    if (this.pending.size > MAX_PENDING_REQUESTS) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    return text;
  }

  handleFrame(text: string, receivedAt: number): FrameOutcome {
    const frame = parseOkxFrame(text, this.map, receivedAt);
    const h = this.handlers;
    switch (frame.kind) {
      case 'trades':
        for (const t of frame.trades) h.trade(t);
        return data(frame.trades[0]?.symbol);
      case 'tickers':
        for (const t of frame.tickers) h.ticker?.(t);
        return data(frame.tickers[0]?.symbol);
      case 'book':
        for (const u of frame.updates) h.book?.(u);
        return data(frame.updates[0]?.symbol);
      case 'candles':
        for (const c of frame.candles) h.candle?.(c);
        return data(frame.candles[0]?.symbol);
      case 'ack':
        if (frame.id !== undefined && frame.op === 'subscribe') this.pending.delete(frame.id);
        return { kind: 'control' };
      case 'pong':
        return { kind: 'pong' };
      case 'notice':
        return frame.code === '64008'
          ? { kind: 'recycle', reason: `okx notice 64008: ${frame.message}` }
          : { kind: 'control' };
      case 'error': {
        const message = `okx error ${frame.code}: ${frame.message}`;
        const resend = frame.id === undefined ? undefined : this.pending.get(frame.id);
        if (resend !== undefined) {
          this.pending.delete(frame.id as string);
          return { kind: 'rejected', message, resend };
        }
        return { kind: 'error', message };
      }
      case 'ignored':
        return { kind: 'control' };
      case 'unknown':
        return { kind: 'malformed', key: frame.key, reason: frame.reason };
    }
  }

  /** Fallback over REST while the socket is down: tickers (fast), trades after the last seen id and candles. */
  async poll(kind: PollKind, signal: AbortSignal): Promise<void> {
    const rest = this.options.rest;
    if (rest === undefined) return;
    const args = this.argsNow();
    for (const symbol of this.symbolList) {
      if (signal.aborted) return;
      if (this.endpoint === 'public') {
        const wantsTicker = args.some((a) => a.channel === 'tickers');
        if (kind === 'prices' && wantsTicker && this.handlers.ticker) {
          this.handlers.ticker(await rest.fetchTicker(symbol));
        }
        if (kind === 'full' && args.some((a) => a.channel === 'trades')) {
          const after = this.lastTradeSeq.get(symbol);
          const trades = await rest.fetchTrades(
            symbol,
            after === undefined ? { limit: 100 } : { afterSeq: after },
          );
          for (const t of trades) {
            if (signal.aborted) return;
            this.handlers.trade(t);
          }
        }
      } else if (kind === 'full' && this.handlers.candle) {
        for (const a of args) {
          if (a.instId !== toOkxInstId(symbol)) continue;
          const interval = (this.options.candleIntervals ?? ['1m']).find(
            (i) => candleChannel(i) === a.channel,
          );
          if (interval === undefined) continue;
          const bars = await rest.fetchCandles(symbol, interval, { limit: 2 });
          const at = this.clock.now();
          for (const bar of bars) {
            this.handlers.candle({
              venue: 'okx',
              symbol,
              interval,
              bar,
              closed: bar.time + INTERVAL_MS[interval] <= at,
              receivedAt: at,
            });
          }
        }
      }
    }
  }
}

function data(symbol: string | undefined): FrameOutcome {
  return symbol === undefined ? { kind: 'control' } : { kind: 'data', symbol };
}
