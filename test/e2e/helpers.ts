/**
 * What the end-to-end tests share: the gateway's candle messages as a client sees them, the chart a client
 * builds from them, the venue's own klines to compare against, and polling with a deadline.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { systemClock } from '../../src/util/clock.ts';
import { startAll, type RunningSystem } from '../../src/apps/run-all.ts';
import { configSchema, DEFAULT_CONFIG, type Config } from '../../src/config/config.ts';
import type { VenueId } from '../../src/domain/instrument.ts';
import { startSimulator, type Simulator } from '../../src/sim/simulator.ts';
import { getJson } from '../../src/sim/test-kit.ts';
import { silentLogger, type Logger } from '../../src/telemetry/logger.ts';
import { copyPgliteTemplate } from '../../src/store/pglite-dirs.test-support.ts';

export const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface WireBar {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  closed: boolean;
  /** The venues that built the bar. */
  sources: string[];
  /** Whether the bar holds data fetched over REST (history, a backfill). */
  backfilled: boolean;
}

export interface Message {
  type: string;
  interval?: string;
  channel?: string;
  bars?: WireBar[];
  bar?: WireBar;
}

/** A Binance REST kline row. */
export type Kline = [
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
];

/** Resolves once `check()` holds; rejects naming `what` when it still does not after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The seed document's chart rule: replace the last bar when the time matches, else append; plus revisions. */
export function chart(messages: readonly Message[], interval = '1m'): WireBar[] {
  let bars: WireBar[] = [];
  for (const m of messages) {
    if (m.interval !== interval) continue;
    if (m.type === 'initial') bars = [...(m.bars ?? [])];
    else if ((m.type === 'update' || m.type === 'revision') && m.bar) {
      const at = bars.findIndex((b) => b.time === m.bar?.time);
      if (at >= 0) bars[at] = m.bar;
      else bars.push(m.bar);
    }
  }
  return bars;
}

/** A clock shifted so that a minute ends `msBeforeBoundary` after now; simulator and Tickwire share it. */
export function clockNearBoundary(msBeforeBoundary: number): () => number {
  const real = Date.now();
  const offset = Math.ceil((real + msBeforeBoundary) / MINUTE) * MINUTE - msBeforeBoundary - real;
  return () => Date.now() + offset;
}

/**
 * A clock on which a minute ends `msBeforeBoundary` after now, and that minute is the `minutesIntoWeek`th after the
 * last Monday 00:00 UTC; simulator and Tickwire share it. Tickwire's start-up history holds the week's minutes back
 * to its Monday (a request or two per day): a start-up of one instrument on one venue made 22 history requests on a
 * Sunday; early on a Monday, 12, whatever the real day.
 */
export function clockEarlyInWeek(msBeforeBoundary: number, minutesIntoWeek: number): () => number {
  const real = Date.now();
  const day = Math.floor(real / DAY);
  // 1970-01-01, day 0, was a Thursday: three days after a Monday.
  const monday = (day - ((day + 3) % 7)) * DAY;
  const offset = monday + minutesIntoWeek * MINUTE - msBeforeBoundary - real;
  return () => Date.now() + offset;
}

/** The simulated Binance venue's own BTCUSDT 1m klines at `restUrl`, keyed by ISO start time. */
export async function venueKlines(restUrl: string, limit: number): Promise<Map<string, Kline>> {
  const reply = await getJson(`${restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=${limit}`);
  const rows = reply.body as Kline[];
  return new Map(rows.map((k) => [new Date(k[0]).toISOString(), k]));
}

/** Asserts that a client's bar carries exactly the venue kline's prices, volumes and trade count. */
export function assertSameAsVenue(bar: WireBar, k: Kline): void {
  const fields = { open: 1, high: 2, low: 3, close: 4, volume: 5, quoteVolume: 7 } as const;
  for (const [name, index] of Object.entries(fields)) {
    assert.equal(bar[name as keyof typeof fields], Number(k[index]), `${bar.time} ${name}`);
  }
  assert.equal(bar.trades, k[8], `${bar.time} trades`);
}

/** Asserts that the venue has every bar of `bars` and that each equals it exactly. */
export function assertEachAsVenue(bars: readonly WireBar[], klines: ReadonlyMap<string, Kline>): void {
  for (const bar of bars) {
    const k = klines.get(bar.time);
    assert.ok(k, `venue has ${bar.time}`);
    assertSameAsVenue(bar, k);
  }
}

/** Asserts that closed `bars` run minute after minute with none twice or missing, each equal to the venue's. */
export function assertContinuousAsVenue(bars: readonly WireBar[], klines: ReadonlyMap<string, Kline>): void {
  const times = bars.map((b) => Date.parse(b.time));
  assert.equal(new Set(times).size, times.length, 'no bar twice');
  for (let i = 1; i < times.length; i++)
    assert.equal(times[i], (times[i - 1] as number) + MINUTE, 'no bar missing');
  assertEachAsVenue(bars, klines);
}

export interface SimulatedSystemOptions {
  /** Venues Tickwire connects to, all pointed at the simulator. */
  readonly venues: readonly VenueId[];
  readonly seed: number;
  /** Shared clock of simulator and Tickwire (see clockNearBoundary); default the real one. */
  readonly now?: () => number;
  readonly tradesPerSecond?: number;
  /** Days of history the simulated venues hold; default 8, enough for the weekly bar. */
  readonly historyDays?: number;
  readonly logger?: Logger;
  /** Overrides of the `candles`, `gateway` and `failover` sections. */
  readonly candles?: Partial<Config['candles']>;
  readonly gateway?: Partial<Config['gateway']>;
  readonly failover?: Partial<Config['failover']>;
  /** Called once the simulator runs, before Tickwire starts (to inject faults into its start-up). */
  readonly beforeStart?: (sim: Simulator) => void;
  /** False: return as soon as startAll does, while the venues still load their history (default true). */
  readonly untilLive?: boolean;
  /** Symbols of the simulator and of Tickwire; default BTC/USDT. */
  readonly symbols?: readonly string[];
  /** `accounts` and `auth` of the configuration, as a configuration file gives them. */
  readonly accounts?: readonly unknown[];
  readonly auth?: { readonly secret?: string };
  /** The built dashboard the gateway serves at `/` (default the package's dist/dashboard). */
  readonly dashboardDir?: string;
}

export interface SimulatedSystem {
  readonly sim: Simulator;
  readonly system: RunningSystem;
}

/**
 * The simulator (BTC/USDT, 8 days of history unless told otherwise) and `tickwire all` wired to it on loopback port 0; both are closed
 * when the test ends.
 */
export async function startSimulatedSystem(
  t: TestContext,
  o: SimulatedSystemOptions,
): Promise<SimulatedSystem> {
  const symbols = o.symbols ?? ['BTC/USDT'];
  const sim = await startSimulator({
    symbols,
    seed: o.seed,
    historyDays: o.historyDays ?? 8,
    tradesPerSecond: o.tradesPerSecond ?? 10,
    // Tickwire asks the venues for the trades of the minute in progress and of a gap after an outage: half an hour
    // of individual trades covers every test, where the default two hours cost seconds of CPU at each start.
    tradeWindowMs: 30 * MINUTE,
    ...(o.now ? { now: o.now } : {}),
  });
  t.after(() => sim.close());
  const urls: Record<string, unknown> = { ...DEFAULT_CONFIG.urls };
  for (const venue of o.venues) {
    const { wsUrl, restUrl } = sim.urls[venue as keyof typeof sim.urls] as { wsUrl: string; restUrl: string };
    urls[venue] = { wsUrl, restUrl };
  }
  const config = configSchema.parse({
    ...DEFAULT_CONFIG,
    port: 0,
    host: '127.0.0.1',
    venues: o.venues,
    symbols,
    urls,
    ...(o.accounts ? { accounts: o.accounts } : {}),
    ...(o.auth ? { auth: { ...DEFAULT_CONFIG.auth, ...o.auth } } : {}),
    candles: { ...DEFAULT_CONFIG.candles, ...o.candles },
    // The tests poll the /api/ source endpoints; the /api/ rate limit has its own tests.
    gateway: { ...DEFAULT_CONFIG.gateway, apiRateLimit: 1_000_000, ...o.gateway },
    failover: { ...DEFAULT_CONFIG.failover, ...o.failover },
    // Each system keeps its embedded history in a directory of its own.
    storage: { ...DEFAULT_CONFIG.storage, dataDir: mkdtempSync(join(tmpdir(), 'tickwire-e2e-')) },
  });
  // An empty embedded database copied from the shared template, rather than seconds of initdb per test.
  await copyPgliteTemplate(join(config.storage.dataDir, 'pglite'));
  o.beforeStart?.(sim);
  const system = await startAll(config, o.logger ?? silentLogger(), {
    ...(o.now ? { clock: { ...systemClock, now: o.now } } : {}),
    ...(o.dashboardDir ? { dashboardDir: o.dashboardDir } : {}),
  });
  t.after(async () => {
    await system.close();
    rmSync(config.storage.dataDir, { recursive: true, force: true });
  });
  // The suites start from a system whose venues stream (startAll returns before history has loaded).
  if (o.untilLive !== false) await system.live;
  return { sim, system };
}
