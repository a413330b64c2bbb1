/**
 * The ingest's side of the fan-out benchmark for a `tickwire gateway` process: publishes the benchmark's load on
 * the Redis bus exactly as `tickwire ingest` does (a RedisBus, `encodeCandleUpdate` on the candle channel), and
 * the source status once a second (every symbol live on one healthy venue, its history loaded), as the active
 * ingest does, so that the gateway serves every `initial` as whole history.
 *
 * argv[2] = Redis URL, argv[3] = channel prefix (the gateway's REDIS_PREFIX).
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
import { BENCH_INTERVALS, benchBar, benchSymbols, nowMs, startSchedule } from './fanout-load.ts';

const [url, prefix] = process.argv.slice(2);
if (url === undefined || prefix === undefined) {
  console.error('fanout-publisher: usage: fanout-publisher.ts REDIS_URL PREFIX');
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
publishSources();
const sourcesTimer = setInterval(publishSources, 1000);

const schedule = startSchedule(symbols.length, (n, k) => {
  const symbol = symbols[k] as string;
  const plain = benchBar(n, nowMs());
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
