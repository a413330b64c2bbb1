import { bucketStart, type Interval } from '../../domain/interval.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { systemClock, type Clock } from '../../util/clock.ts';
import type { ConnectionProtocol, FrameOutcome, PollKind } from '../connection/connection-protocol.ts';
import { ConnectionRunner, type ConnectionRunnerOptions } from '../connection/runner.ts';
import type { MarketChannel, MarketStream, MarketStreamHandlers, VenueCandle } from '../venue.ts';
import { parseBitgetFrame } from './parse.ts';
import type { BitgetRest } from './rest.ts';
import { bitgetSymbolMap, candleChannel, toBitgetInstrument, type BitgetSymbolMap } from './symbols.ts';
import type { BitgetArg } from './wire.ts';

/**
 * The Bitget v2 public market stream on the shared connection runner: one socket for all symbols, args batched
 * into few subscribe requests (Bitget counts requests, 240 per hour), text `ping` every 25 s (the server closes
 * after 30 s to 2 min without one), at most 8 messages per second (Bitget disconnects past 10).
 *
 * Candles: Bitget sends no "closed" flag. A bar is final once a row with a later start arrives: in the same frame
 * (the venue's final row of it, `closed: true`), or in a later one, when the stream reports the last state it saw of
 * the earlier bar with `closed: true` and `lastSeen: true` (it may lack the bar's last trades).
 */

/** Bitget codes after which the same subscribe may succeed later (too many requests, over limit). */
const RETRYABLE_CODES = new Set([30006, 30007]);
/** Bitget's channel limit per connection. */
const MAX_CHANNELS = 1000;

export interface BitgetStreamOptions {
  /** The public socket URL: wss://ws.bitget.com/v2/ws/public, or the simulator's ws://127.0.0.1:PORT/bitget/v2/ws/public. */
  readonly wsUrl: string;
  readonly logger: Logger;
  /** Time for receive times and status, and every timer of the connection. Default the system clock. */
  readonly clock?: Clock;
  /** What to subscribe for every symbol. Default trades and candles. */
  readonly channels?: readonly MarketChannel[];
  /** With the `book` channel: the symbols whose book is subscribed from the start. Default every symbol. */
  readonly books?: readonly string[];
  /** Candle intervals subscribed with the `candles` channel. Default ['1m']. */
  readonly intervals?: readonly Interval[];
  /** Text ping period. Default 25 s (Bitget asks for one every 30 s). */
  readonly pingIntervalMs?: number;
  /** No pong within this recycles the connection. Default 10 s. */
  readonly pongTimeoutMs?: number;
  /** Args per subscribe request. Default 40 (keeps a request well under Bitget's 4 KB frame). */
  readonly argsPerRequest?: number;
  /** Outbound messages per second. Default 8 (Bitget disconnects past 10). */
  readonly messagesPerSecond?: number;
  /** Subscribe requests per hour. Default 200 (Bitget: 240). */
  readonly subscribesPerHour?: number;
  /** REST client for the polling fallback; without it the stream only reconnects. */
  readonly rest?: BitgetRest;
  /** Connection runner settings (timeouts, backoff, watchdog, staleness, fallback). */
  readonly runner?: Omit<ConnectionRunnerOptions, 'logger' | 'clock'>;
}

/** A Bitget market stream; `resyncBook` rebuilds one book (unsubscribe + subscribe brings a fresh snapshot). */
export interface BitgetMarketStream extends MarketStream {
  /** Asks for a new `books` snapshot of `symbol`; false when the symbol's book is not subscribed or no socket is open. */
  resyncBook(symbol: string): boolean;
  /** The runner behind the stream (status, counters, forced recycle). */
  readonly runner: ConnectionRunner;
}

interface CandleState {
  latest: VenueCandle | undefined;
  closedUpTo: number;
}

/**
 * Opens the Bitget market stream for canonical `symbols` ("BTC/USDT", "BTC/USDT:USDT"). Throws TickwireError
 * INVALID_SYMBOL for a symbol it cannot map, RangeError past 1000 channels on one connection.
 */
export function openBitgetMarketStream(
  symbols: readonly string[],
  handlers: MarketStreamHandlers,
  options: BitgetStreamOptions,
): BitgetMarketStream {
  const unique = [...new Set(symbols)];
  const map: BitgetSymbolMap = bitgetSymbolMap(unique);
  const channels = new Set<MarketChannel>(options.channels ?? ['trades', 'candles']);
  const intervals: Interval[] = [...new Set<Interval>(options.intervals ?? ['1m'])];
  const clock = options.clock ?? systemClock;
  const now = (): number => clock.now();
  const perRequest = Math.max(1, Math.floor(options.argsPerRequest ?? 40));

  const fixedArgs: BitgetArg[] = [];
  const bookArgs = new Map<string, BitgetArg>();
  for (const symbol of unique) {
    const { instType, instId } = toBitgetInstrument(symbol);
    const arg = (channel: string): BitgetArg => ({ instType, channel, instId });
    if (channels.has('trades')) fixedArgs.push(arg('trade'));
    if (channels.has('ticker')) fixedArgs.push(arg('ticker'));
    if (channels.has('book')) bookArgs.set(symbol, arg('books'));
    if (channels.has('candles')) for (const i of intervals) fixedArgs.push(arg(candleChannel(i)));
  }
  if (fixedArgs.length + bookArgs.size > MAX_CHANNELS) {
    throw new RangeError(
      `bitget: ${fixedArgs.length + bookArgs.size} channels exceed ${MAX_CHANNELS} per connection; split the symbols`,
    );
  }
  // The books subscribed now: every connection subscribes what the set holds when it opens.
  const booksOn = new Set((options.books ?? unique).filter((s) => bookArgs.has(s)));
  const args = (): BitgetArg[] => [
    ...fixedArgs,
    ...unique.flatMap((s) => (booksOn.has(s) ? [bookArgs.get(s) as BitgetArg] : [])),
  ];
  // Subscriptions sent on the current connection less the answers to them (Bitget answers each arg apart).
  let unanswered = 0;
  const answered = (): void => {
    unanswered = Math.max(0, unanswered - 1);
  };
  const subscribeFrames = (): string[] => {
    const now = args();
    unanswered = now.length;
    const frames: string[] = [];
    for (let i = 0; i < now.length; i += perRequest) {
      frames.push(JSON.stringify({ op: 'subscribe', args: now.slice(i, i + perRequest) }));
    }
    return frames;
  };

  const candles = new Map<string, CandleState>();
  const lastTradeTime = new Map<string, number>();

  const emitCandle = (c: VenueCandle): void => {
    const key = `${c.symbol}|${c.interval}`;
    let st = candles.get(key);
    if (st === undefined) {
      st = { latest: undefined, closedUpTo: Number.NEGATIVE_INFINITY };
      candles.set(key, st);
    }
    const latestTime = st.latest?.bar.time ?? Number.NEGATIVE_INFINITY;
    let closed = c.closed;
    if (c.bar.time < latestTime) {
      closed = true;
    } else if (c.bar.time > latestTime && st.latest !== undefined && latestTime > st.closedUpTo) {
      // A later bar started: the earlier one is over, its final state not received (a frame that held it would
      // have closed it), so the last state seen may lack its last trades.
      st.closedUpTo = latestTime;
      handlers.candle?.({ ...st.latest, closed: true, lastSeen: true });
    }
    if (closed && c.bar.time > st.closedUpTo) st.closedUpTo = c.bar.time;
    if (c.bar.time >= latestTime) st.latest = c;
    handlers.candle?.(closed === c.closed ? c : { ...c, closed });
  };

  const handleFrame = (text: string, receivedAt: number): FrameOutcome => {
    const frame = parseBitgetFrame(text, map, receivedAt);
    switch (frame.kind) {
      case 'trades': {
        for (const t of frame.trades) handlers.trade(t);
        const last = frame.trades[frame.trades.length - 1];
        if (last !== undefined && last.time > (lastTradeTime.get(frame.symbol) ?? 0)) {
          lastTradeTime.set(frame.symbol, last.time);
        }
        return { kind: 'data', symbol: frame.symbol };
      }
      case 'ticker':
        handlers.ticker?.(frame.ticker);
        return { kind: 'data', symbol: frame.symbol };
      case 'book':
        handlers.book?.(frame.book);
        return { kind: 'data', symbol: frame.symbol };
      case 'candles':
        for (const c of frame.candles) emitCandle(c);
        return { kind: 'data', symbol: frame.symbol };
      case 'pong':
        return { kind: 'pong' };
      case 'ack':
        if (frame.op === 'subscribe') answered();
        return { kind: 'control' };
      case 'login':
      case 'ignored':
        return { kind: 'control' };
      case 'error': {
        const what =
          frame.arg === undefined
            ? ''
            : ` (${frame.arg.instType} ${frame.arg.channel} ${frame.arg.instId ?? ''})`;
        const message = `bitget error ${frame.code}: ${frame.message}${what}`;
        if (frame.op !== 'subscribe' || frame.arg === undefined) return { kind: 'error', message };
        answered();
        return RETRYABLE_CODES.has(frame.code)
          ? { kind: 'rejected', message, resend: JSON.stringify({ op: 'subscribe', args: [frame.arg] }) }
          : { kind: 'rejected', message };
      }
      case 'unknown':
        return { kind: 'malformed', key: frame.key, reason: frame.reason };
    }
  };

  const poll = async (kind: PollKind, signal: AbortSignal): Promise<void> => {
    const rest = options.rest;
    if (rest === undefined) return;
    for (const symbol of unique) {
      if (signal.aborted) return;
      if (kind === 'prices') {
        if (channels.has('ticker')) handlers.ticker?.(await rest.fetchTicker(symbol));
        continue;
      }
      if (channels.has('trades')) {
        const end = now();
        const since = lastTradeTime.get(symbol) ?? end - 60_000;
        const trades = await rest.fetchTrades(symbol, { startTime: since, endTime: end });
        if (signal.aborted) return;
        for (const t of trades) handlers.trade(t);
        const last = trades[trades.length - 1];
        if (last !== undefined) lastTradeTime.set(symbol, Math.max(since, last.time));
      }
      if (channels.has('candles')) {
        for (const interval of intervals) {
          const bars = await rest.fetchCandles(symbol, interval, { limit: 2 });
          if (signal.aborted) return;
          const current = bucketStart(interval, now());
          for (const bar of bars) {
            emitCandle({
              venue: 'bitget',
              symbol,
              interval,
              bar,
              closed: bar.time < current,
              receivedAt: now(),
            });
          }
        }
      }
      if (booksOn.has(symbol)) {
        const book = await rest.fetchBookSnapshot(symbol, 150);
        if (signal.aborted) return;
        handlers.book?.(book);
      }
    }
  };

  const protocol: ConnectionProtocol = {
    venue: 'bitget',
    heartbeat: {
      kind: 'text-ping',
      ping: 'ping',
      pong: 'pong',
      intervalMs: options.pingIntervalMs ?? 25_000,
      timeoutMs: options.pongTimeoutMs ?? 10_000,
    },
    limits: {
      messagesPerSecond: options.messagesPerSecond ?? 8,
      subscribesPerHour: options.subscribesPerHour ?? 200,
    },
    url: () => options.wsUrl,
    subscriptions: () => args().map((a) => `${a.instType}:${a.channel}:${a.instId ?? ''}`),
    symbols: () => unique,
    subscribeFrames,
    unansweredSubscribes: () => unanswered,
    handleFrame,
    ...(options.rest !== undefined ? { poll } : {}),
  };

  const runner = new ConnectionRunner(protocol, handlers, {
    ...options.runner,
    logger: options.logger,
    clock,
  });
  runner.start();

  return {
    runner,
    status: () => runner.status(),
    close: () => runner.close(),
    resyncBook(symbol: string): boolean {
      const arg = bookArgs.get(symbol);
      if (arg === undefined || !booksOn.has(symbol)) return false;
      if (!runner.send(JSON.stringify({ op: 'unsubscribe', args: [arg] }))) return false;
      if (!runner.send(JSON.stringify({ op: 'subscribe', args: [arg] }), true)) return false;
      unanswered++;
      return true;
    },
    subscribeBook(symbol: string, subscribed: boolean): void {
      const arg = bookArgs.get(symbol);
      if (arg === undefined || booksOn.has(symbol) === subscribed) return;
      if (subscribed) booksOn.add(symbol);
      else booksOn.delete(symbol);
      // Not connected: the next connection subscribes what booksOn holds then.
      const sent = runner.send(
        JSON.stringify({ op: subscribed ? 'subscribe' : 'unsubscribe', args: [arg] }),
        subscribed,
      );
      if (sent && subscribed) unanswered++;
    },
  };
}
