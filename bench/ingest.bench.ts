/**
 * Ingest benchmark (section `ingest`): how fast Tickwire turns exchange data into candles.
 *
 * 1. Parsers: frames per second each venue's parser reads and normalizes from the captured payloads
 *    (test/fixtures/, as the venue contract suite feeds them), against `JSON.parse` of the same frames.
 * 2. Candle engine, live mode: trades per second through one symbol's engine building 1m..1W as VenueIngest
 *    runs it (live bars built at each publish, the update coalescer, publish and clock ticks every 100 ms and
 *    250 ms of trade time), against the same engine in aggregate mode (no live updates).
 * 3. `tickwire aggregate` on a generated file of Binance aggTrades JSON lines (deterministic, in a temporary
 *    folder), against the floor of merely reading the file and `JSON.parse`-ing every line.
 *
 * Absolute figures drift on shared machines; the ratios within one run are the result.
 *
 * Options (environment): BENCH_INGEST_SECONDS (seconds per parser measurement, 1), BENCH_INGEST_ENGINE_TRADES
 * (1,000,000), BENCH_INGEST_TRADE_RATE (trades per second of exchange time in the engine run, 1000),
 * BENCH_INGEST_AGG_TRADES (2,000,000), BENCH_INGEST_AGG_INTERVALS (1m,5m,15m,1h,4h,1D,1W).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runAggregate } from '../src/apps/aggregate-command.ts';
import { CandleEngine } from '../src/candles/candle-engine.ts';
import { UpdateCoalescer } from '../src/candles/update-coalescer.ts';
import type { Trade } from '../src/domain/trade.ts';
import { Rng } from '../src/sim/random.ts';
import type { VenueContractSubject } from '../src/venues/venue.contract.ts';
import { contractSubject as binance } from '../src/venues/binance/contract.test-support.ts';
import { contractSubject as bitget } from '../src/venues/bitget/contract.test-support.ts';
import { contractSubject as dydx } from '../src/venues/dydx/contract.test-support.ts';
import { contractSubject as okx } from '../src/venues/okx/contract.test-support.ts';

const SECONDS = Number(process.env['BENCH_INGEST_SECONDS'] ?? 1);
const ENGINE_TRADES = Number(process.env['BENCH_INGEST_ENGINE_TRADES'] ?? 1_000_000);
const TRADE_RATE = Number(process.env['BENCH_INGEST_TRADE_RATE'] ?? 1000);
const AGG_TRADES = Number(process.env['BENCH_INGEST_AGG_TRADES'] ?? 2_000_000);
const AGG_INTERVALS = process.env['BENCH_INGEST_AGG_INTERVALS'] ?? '1m,5m,15m,1h,4h,1D,1W';

/** The ingest's publish and clock periods (VenueIngest defaults) and close grace (configuration default). */
const PUBLISH_EVERY_MS = 100;
const CLOCK_EVERY_MS = 250;
const CLOSE_GRACE_MS = 2000;
/** Monday 2026-11-30 00:00 UTC: the generated trades start at the start of a week. */
const START_MS = Date.UTC(2026, 10, 30);

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

/** Seeded numbers in [0, 1): the simulator's generator, so that every run sees the same sequence. */
function random(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** Calls `run` until `seconds` have passed; returns runs per second. */
function perSecond(seconds: number, run: () => void): number {
  for (let i = 0; i < 3; i++) run();
  let runs = 0;
  const start = performance.now();
  let elapsed: number;
  do {
    run();
    runs++;
    elapsed = performance.now() - start;
  } while (elapsed < seconds * 1000);
  return runs / (elapsed / 1000);
}

/** 1 when `text` is JSON (a plain-text frame such as "pong" is 0): the floor of a parser. */
function jsonOrNot(text: string): number {
  try {
    return (JSON.parse(text) as unknown) === undefined ? 0 : 1;
  } catch {
    return 0;
  }
}

function parsers(): void {
  const subjects: [string, VenueContractSubject][] = [
    ['binance', binance],
    ['okx', okx],
    ['bitget', bitget],
    ['dydx', dydx],
  ];
  console.log('### Parsers (captured payloads)\n');
  console.log(
    '| venue | frames | frames/s parsed and normalized | frames/s `JSON.parse` only | parser time / JSON.parse time |',
  );
  console.log('|---|---|---|---|---|');
  for (const [venue, subject] of subjects) {
    const texts = subject.captures().map((c) => c.text);
    let sink = 0;
    const parsed =
      perSecond(SECONDS, () => {
        for (const text of texts) {
          const frame = subject.parse(text, START_MS);
          sink += frame.trades.length + frame.books.length;
        }
      }) * texts.length;
    const floor =
      perSecond(SECONDS, () => {
        for (const text of texts) sink += jsonOrNot(text);
      }) * texts.length;
    if (sink < 0) console.log(sink);
    console.log(`| ${venue} | ${texts.length} | ${fmt(parsed)} | ${fmt(floor)} | ${ratio(floor, parsed)} |`);
  }
  console.log('');
}

/** `count` trades of one symbol at `rate` per second of exchange time, a random walk around 43,000. */
function generateTrades(count: number, rate: number): Trade[] {
  const next = random(11);
  const trades: Trade[] = [];
  let cents = 4_300_000;
  for (let i = 0; i < count; i++) {
    const time = START_MS + Math.floor((i * 1000) / rate);
    cents += Math.floor(next() * 21) - 10;
    const size = 1 + Math.floor(next() * 200_000);
    trades.push({
      venue: 'binance',
      symbol: 'BTC/USDT',
      id: String(i + 1),
      seq: i + 1,
      price: { coef: BigInt(cents), scale: 2 },
      size: { coef: BigInt(size), scale: 8 },
      side: next() < 0.5 ? 'buy' : 'sell',
      fills: 1,
      time,
      receivedAt: time,
    });
  }
  return trades;
}

/**
 * One symbol's engine as the ingest runs it: every update into the coalescer, a publish tick every 100 ms and a
 * clock tick every 250 ms of trade time. `deferLive` false is the engine emitting a live update per interval
 * for every trade, as the ingest ran it before. Returns trades per second and the updates published.
 */
interface LiveResult {
  readonly perSecond: number;
  readonly published: number;
}

function liveRun(trades: readonly Trade[], deferLive: boolean): LiveResult {
  const coalescer = new UpdateCoalescer();
  const engine = new CandleEngine({
    symbol: 'BTC/USDT',
    venues: ['binance'],
    closeGraceMs: CLOSE_GRACE_MS,
    deferLive,
    onUpdate: (u) => coalescer.add(u),
  });
  const publish = (): number => {
    engine.publishLive();
    return coalescer.flush().length;
  };
  let published = 0;
  let nextPublish = START_MS + PUBLISH_EVERY_MS;
  let nextClock = START_MS + CLOCK_EVERY_MS;
  const start = performance.now();
  for (const trade of trades) {
    while (trade.time >= nextClock) {
      engine.advance(nextClock);
      nextClock += CLOCK_EVERY_MS;
    }
    if (trade.time >= nextPublish) {
      published += publish();
      nextPublish = trade.time - (trade.time % PUBLISH_EVERY_MS) + PUBLISH_EVERY_MS;
    }
    engine.addTrade(trade);
  }
  published += publish();
  return { perSecond: trades.length / ((performance.now() - start) / 1000), published };
}

/** The same trades through the engine in aggregate mode (`tickwire aggregate`: closed bars only). */
function aggregateModeRun(trades: readonly Trade[]): number {
  let closed = 0;
  const engine = new CandleEngine({
    symbol: 'BTC/USDT',
    venues: ['binance'],
    closeGraceMs: 0,
    emitLive: false,
    onUpdate: () => closed++,
  });
  const start = performance.now();
  for (const trade of trades) engine.addTrade(trade);
  const perSecond = trades.length / ((performance.now() - start) / 1000);
  if (closed < 0) console.log(closed);
  return perSecond;
}

function candleEngine(): void {
  const trades = generateTrades(ENGINE_TRADES, TRADE_RATE);
  const hours = (trades[trades.length - 1]!.time - START_MS) / 3_600_000;
  // Warm-up on a slice, then the measured runs; the better of two each.
  const slice = trades.slice(0, 100_000);
  liveRun(slice, true);
  liveRun(slice, false);
  aggregateModeRun(slice);
  const better = (a: LiveResult, b: LiveResult): LiveResult => (a.perSecond >= b.perSecond ? a : b);
  const live = better(liveRun(trades, true), liveRun(trades, true));
  const eager = better(liveRun(trades, false), liveRun(trades, false));
  const aggregate = Math.max(aggregateModeRun(trades), aggregateModeRun(trades));
  console.log('### Candle engine, 1m..1W, one symbol\n');
  console.log(
    `${fmt(trades.length)} trades, ${fmt(TRADE_RATE)} per second of exchange time (${hours.toFixed(1)} h); ` +
      `live mode publishes every ${PUBLISH_EVERY_MS} ms and closes bars every ${CLOCK_EVERY_MS} ms of trade time.\n`,
  );
  console.log('| mode | trades/s | updates published |');
  console.log('|---|---|---|');
  console.log(
    `| live, bars built at each publish (the ingest) | ${fmt(live.perSecond)} | ${fmt(live.published)} |`,
  );
  console.log(
    `| live, an update per trade and interval | ${fmt(eager.perSecond)} | ${fmt(eager.published)} |`,
  );
  console.log(`| aggregate (no live updates) | ${fmt(aggregate)} | — |`);
  console.log(`\nlive built at publish / per trade: ${ratio(live.perSecond, eager.perSecond)}`);
  console.log(`live built at publish / aggregate mode: ${ratio(live.perSecond, aggregate)}\n`);
}

/** Writes `count` Binance aggTrades JSON lines (the REST item shape), as `tickwire aggregate` reads them. */
async function writeAggTradesFile(path: string, count: number): Promise<void> {
  const next = random(7);
  const file = await open(path, 'w');
  let time = START_MS;
  let cents = 4_300_000;
  let firstId = 1;
  let chunk = '';
  for (let i = 0; i < count; i++) {
    time += Math.floor(next() * 80);
    cents += Math.floor(next() * 21) - 10;
    const fills = next() < 0.9 ? 1 : 2 + Math.floor(next() * 5);
    const price = (cents / 100).toFixed(2) + '000000';
    const qty = (Math.floor(next() * 200_000 + 1) / 1e8).toFixed(8);
    chunk +=
      `{"a":${i + 1},"p":"${price}","q":"${qty}","f":${firstId},"l":${firstId + fills - 1},` +
      `"T":${time},"m":${next() < 0.5},"M":true}\n`;
    firstId += fills;
    if (chunk.length > 1 << 20) {
      await file.write(chunk);
      chunk = '';
    }
  }
  await file.write(chunk);
  await file.close();
}

interface Timing {
  readonly wall: number;
  /** CPU seconds of this process (user + system, the garbage collector's threads included). */
  readonly cpu: number;
}

async function timed(run: () => Promise<void>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 };
}

/** The floor: read the file and `JSON.parse` every line, nothing else. */
async function readAndParse(path: string): Promise<void> {
  let rest = '';
  let lines = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const text = rest + (chunk as string);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      if (nl > from && (JSON.parse(text.slice(from, nl)) as object) !== null) lines++;
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  if (rest.trim() !== '' && (JSON.parse(rest) as object) !== null) lines++;
  if (lines < 0) console.log(lines);
}

/** `tickwire aggregate --input path --output out`, in this process. */
async function aggregate(path: string, out: string): Promise<void> {
  const stderr = new PassThrough();
  let errors = '';
  stderr.on('data', (d: Buffer) => (errors += d.toString()));
  const code = await runAggregate(
    ['--input', path, '--output', out, '--interval', AGG_INTERVALS, '--symbol', 'BTC/USDT'],
    { stdin: new PassThrough(), stdout: new PassThrough(), stderr },
  );
  if (code !== 0) throw new Error(`tickwire aggregate failed (${code}): ${errors}`);
}

async function aggregateCommand(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tickwire-bench-'));
  try {
    const input = join(dir, 'aggtrades.jsonl');
    await writeAggTradesFile(input, AGG_TRADES);
    // Warm-up (the file in the page cache, the code compiled), then floor and aggregate in turn, best of each.
    await readAndParse(input);
    const floor: Timing[] = [];
    const own: Timing[] = [];
    for (let i = 0; i < 2; i++) {
      floor.push(await timed(() => readAndParse(input)));
      own.push(await timed(() => aggregate(input, join(dir, 'klines.csv'))));
    }
    const best = (runs: Timing[], key: keyof Timing): number => Math.min(...runs.map((r) => r[key]));
    console.log('### `tickwire aggregate`\n');
    console.log(
      `${fmt(AGG_TRADES)} Binance aggTrades JSON lines, intervals ${AGG_INTERVALS}; best of 2 each.\n`,
    );
    console.log('| run | wall s | CPU s | trades/s (wall) |');
    console.log('|---|---|---|---|');
    for (const [name, runs] of [
      ['read + JSON.parse (floor)', floor],
      ['tickwire aggregate', own],
    ] as const) {
      const wall = best(runs, 'wall');
      console.log(
        `| ${name} | ${wall.toFixed(2)} | ${best(runs, 'cpu').toFixed(2)} | ${fmt(AGG_TRADES / wall)} |`,
      );
    }
    console.log(
      `\naggregate / floor: ${ratio(best(own, 'wall'), best(floor, 'wall'))} wall, ` +
        `${ratio(best(own, 'cpu'), best(floor, 'cpu'))} CPU\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function bench(): Promise<void> {
  console.log('## Ingest\n');
  parsers();
  candleEngine();
  await aggregateCommand();
}
