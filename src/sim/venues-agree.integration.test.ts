/**
 * The simulated venues quote one underlying market: over a simulated day, BTC/USDT on Binance, OKX and Bitget (spot
 * and perpetual) and BTC/USD on dYdX stay within a few basis points of each other, in their last trades and in
 * their one-minute bars, each read through the venue's own REST API.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BASIS_LIMIT_BPS } from './market/market.ts';
import { startSimulator, type Simulator } from './simulator.ts';
import { getJson } from './test-kit.ts';

const MINUTE = 60_000;
const START = Date.UTC(2026, 2, 2, 9, 30, 0);

type Venue = 'binance' | 'okx' | 'bitget spot' | 'bitget perp' | 'dydx';

async function body<T>(url: string): Promise<T> {
  const reply = await getJson(url);
  assert.equal(reply.status, 200, `${url}: ${JSON.stringify(reply.body)}`);
  return reply.body as T;
}

/** Each venue's latest trade: [price, time]. */
async function lastTrades(sim: Simulator): Promise<Map<Venue, [number, number]>> {
  const { binance, okx, bitget, dydx } = sim.urls;
  const b = await body<{ price: string; time: number }[]>(
    `${binance.restUrl}/api/v3/trades?symbol=BTCUSDT&limit=1`,
  );
  const o = await body<{ data: { px: string; ts: string }[] }>(
    `${okx.restUrl}/api/v5/market/trades?instId=BTC-USDT&limit=1`,
  );
  const gs = await body<{ data: { price: string; ts: string }[] }>(
    `${bitget.restUrl}/api/v2/spot/market/fills?symbol=BTCUSDT&limit=1`,
  );
  const gp = await body<{ data: { price: string; ts: string }[] }>(
    `${bitget.restUrl}/api/v2/mix/market/fills?symbol=BTCUSDT&productType=USDT-FUTURES&limit=1`,
  );
  const d = await body<{ trades: { price: string; createdAt: string }[] }>(
    `${dydx.restUrl}/v4/trades/perpetualMarket/BTC-USD?limit=1`,
  );
  const pick = (price?: string, time?: string | number): [number, number] => [
    Number(price),
    typeof time === 'string' && !/^\d+$/.test(time) ? Date.parse(time) : Number(time),
  ];
  return new Map<Venue, [number, number]>([
    ['binance', pick(b[0]?.price, b[0]?.time)],
    ['okx', pick(o.data[0]?.px, o.data[0]?.ts)],
    ['bitget spot', pick(gs.data[0]?.price, gs.data[0]?.ts)],
    ['bitget perp', pick(gp.data[0]?.price, gp.data[0]?.ts)],
    ['dydx', pick(d.trades[0]?.price, d.trades[0]?.createdAt)],
  ]);
}

/** Each venue's one-minute closes of the last 100 minutes, by open time. */
async function closes(sim: Simulator): Promise<Map<Venue, Map<number, number>>> {
  const { binance, okx, bitget, dydx } = sim.urls;
  const rows = (list: (string | number)[][]): Map<number, number> =>
    new Map(list.map((r) => [Number(r[0]), Number(r[4])]));
  const b = await body<(string | number)[][]>(
    `${binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=100`,
  );
  const o = await body<{ data: string[][] }>(
    `${okx.restUrl}/api/v5/market/candles?instId=BTC-USDT&bar=1m&limit=100`,
  );
  const gs = await body<{ data: string[][] }>(
    `${bitget.restUrl}/api/v2/spot/market/candles?symbol=BTCUSDT&granularity=1min&limit=100`,
  );
  const gp = await body<{ data: string[][] }>(
    `${bitget.restUrl}/api/v2/mix/market/candles?symbol=BTCUSDT&productType=USDT-FUTURES&granularity=1m&limit=100`,
  );
  const d = await body<{ candles: { startedAt: string; close: string }[] }>(
    `${dydx.restUrl}/v4/candles/perpetualMarkets/BTC-USD?resolution=1MIN&limit=100`,
  );
  return new Map<Venue, Map<number, number>>([
    ['binance', rows(b)],
    ['okx', rows(o.data)],
    ['bitget spot', rows(gs.data)],
    ['bitget perp', rows(gp.data)],
    ['dydx', new Map(d.candles.map((c) => [Date.parse(c.startedAt), Number(c.close)]))],
  ]);
}

/** Widest distance between two of `prices`, in basis points of their midpoint. */
function spreadBps(prices: readonly number[]): number {
  const hi = Math.max(...prices);
  const lo = Math.min(...prices);
  return ((hi - lo) / ((hi + lo) / 2)) * 10_000;
}

describe('simulated venues quote one underlying market', () => {
  it('keep the prices of one asset within a few basis points of each other over a simulated day', async () => {
    let clock = START;
    const sim = await startSimulator({
      symbols: ['BTC/USDT', 'BTC/USD'],
      seed: 9,
      historyDays: 1,
      tradesPerSecond: 2,
      tickMs: 3_600_000,
      now: () => clock,
      // The test reads many times a (wall-clock) second.
      bitget: { restRequestsPerSecond: 10_000 },
    });
    try {
      // Two venues' bases are each bounded; quotes a few seconds apart add the move of those seconds.
      const bound = 2 * BASIS_LIMIT_BPS + 10;
      const spreads: number[] = [];
      for (let step = 0; step < 288; step++) {
        clock += 5 * MINUTE;
        const trades = await lastTrades(sim);
        const times = [...trades.values()].map(([, t]) => t);
        // Compare quotes of the same moment only: every venue traded within the last few seconds.
        if (Math.max(...times) - Math.min(...times) > 3_000) continue;
        const spread = spreadBps([...trades.values()].map(([p]) => p));
        assert.ok(spread < bound, `at ${new Date(clock).toISOString()}: ${spread.toFixed(1)} bps apart`);
        spreads.push(spread);
      }
      assert.ok(spreads.length > 100, `${spreads.length} moments compared`);
      spreads.sort((a, b) => a - b);
      const median = spreads[Math.floor(spreads.length / 2)] as number;
      assert.ok(median < 2 * BASIS_LIMIT_BPS, `median spread ${median.toFixed(1)} bps`);

      // The bars agree too: every minute's close within the same bound on every venue.
      const bars = await closes(sim);
      const binance = bars.get('binance') as Map<number, number>;
      assert.equal(binance.size, 100);
      for (const [t, close] of binance) {
        const others = [...bars.values()].map((m) => m.get(t));
        if (others.some((c) => c === undefined)) continue;
        const spread = spreadBps([close, ...(others as number[])]);
        assert.ok(
          spread < bound,
          `1m bar ${new Date(t).toISOString()}: closes ${spread.toFixed(1)} bps apart`,
        );
      }
    } finally {
      await sim.close();
    }
  });
});
