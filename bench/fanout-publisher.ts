/**
 * The publishing side of the fan-out benchmark: one process that publishes the benchmark's load over Redis, so that
 * every server measured receives it the same way, stamped (the publish time in each bar) before the same two hops.
 *
 * - `bus` (for a `tickwire gateway` process): the load on the Redis bus exactly as `tickwire ingest` publishes it
 *   (a RedisBus, `encodeCandleUpdate` on the candle channel, one message per room), and the source status once a
 *   second (every symbol live on one healthy venue, its history loaded), as the active ingest does, so that the
 *   gateway serves every `initial` as whole history.
 * - `plain` (for a baseline server): one message per symbol update on the Redis channel `<prefix>bench`, the
 *   JSON of {symbol, bar} (fanout-load.ts's BenchBar), which the baseline turns into its seven room messages.
 *
 * argv[2] = Redis URL, argv[3] = channel prefix (the gateway's REDIS_PREFIX), argv[4] = `bus` (default) | `plain`.
 * IPC: → {ready}; {cmd:'now'} → {now: {t0, n}}; {cmd:'stop'} closes the bus and exits.
 */
import { CANDLE_CHANNEL } from '../src/bus/bus.ts';
import { encodeCandleUpdate } from '../src/bus/candle-message.ts';
import { createRedisBus } from '../src/bus/redis-bus.ts';
import { encodeSourcesView, SOURCES_CHANNEL } from '../src/bus/sources-message.ts';
import type { Candle } from '../src/domain/candle.ts';
import { parseDecimal } from '../src/domain/decimal.ts';
import type { SourcesView } from '../src/protocol/source-status.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import {
  BENCH_INTERVALS,
  benchBar,
  benchSymbols,
  nowMs,
  PLAIN_CHANNEL,
  startSchedule,
  type BenchBar,
} from './fanout-load.ts';

const [url, prefix, mode = 'bus'] = process.argv.slice(2);
if (url === undefined || prefix === undefined || (mode !== 'bus' && mode !== 'plain')) {
  console.error('fanout-publisher: usage: fanout-publisher.ts REDIS_URL PREFIX [bus|plain]');
  process.exit(2);
}

const bus = await createRedisBus({ url, prefix, logger: silentLogger(), maxQueued: 100_000 });
const symbols = benchSymbols();
let messages = 0;

const sourcesView = (): SourcesView => ({
  inStartupGrace: false,
  instruments: symbols.map((symbol) => ({
    symbol,
    activeSource: 'binance',
    primary: 'binance',
    activeSince: null,
    sources: [
      {
        exchange: 'binance',
        connected: true,
        latency: 1,
        lastUpdate: Date.now(),
        messagesReceived: messages,
        errors: 0,
        healthy: true,
      },
    ],
  })),
});
const publishSources = (): void => bus.publish(SOURCES_CHANNEL, encodeSourcesView(sourcesView(), Date.now()));
let sourcesTimer: NodeJS.Timeout | undefined;
if (mode === 'bus') {
  publishSources();
  sourcesTimer = setInterval(publishSources, 1000);
}

const publishBus = (symbol: string, plain: BenchBar): void => {
  const bar: Candle = {
    time: plain.time,
    open: parseDecimal(plain.open),
    high: parseDecimal(plain.high),
    low: parseDecimal(plain.low),
    close: parseDecimal(plain.close),
    volume: parseDecimal(plain.volume),
    quoteVolume: parseDecimal(plain.quoteVolume),
    takerBuyVolume: parseDecimal(plain.takerBuyVolume),
    takerBuyQuoteVolume: parseDecimal(plain.takerBuyQuoteVolume),
    trades: plain.trades,
  };
  for (const interval of BENCH_INTERVALS) {
    bus.publish(
      CANDLE_CHANNEL,
      encodeCandleUpdate({ symbol, interval, state: 'live', bar, sources: ['binance'] }),
    );
    messages++;
  }
};
const publishPlain = (symbol: string, bar: BenchBar): void => {
  bus.publish(PLAIN_CHANNEL, JSON.stringify({ symbol, bar }));
  messages++;
};

const schedule = startSchedule(symbols.length, (n, k) => {
  const symbol = symbols[k] as string;
  const bar = benchBar(n, nowMs());
  if (mode === 'plain') publishPlain(symbol, bar);
  else publishBus(symbol, bar);
});
process.send?.({ ready: true });

const stop = async (): Promise<void> => {
  schedule.stop();
  clearInterval(sourcesTimer);
  await bus.close();
  process.exit(0);
};
process.on('message', (msg: { cmd?: string }) => {
  if (msg.cmd === 'now') process.send?.({ now: { t0: schedule.t0, n: schedule.current() } });
  else if (msg.cmd === 'stop') void stop();
});
process.on('disconnect', () => void stop());
