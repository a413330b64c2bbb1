/**
 * `npm run faults`: what a client receives under injected faults, against what the simulated exchange holds. Runs
 * the built CLI (`dist/`, `npm run build`) against an in-process simulator, whose faults it drives.
 *
 * - Market data, per venue of FAULTS_VENUES (default all four; two at a time): one `tickwire all` on that venue alone,
 *   three instruments, a client on the `trades` channel of each. Faults FAULTS_GAP_SECONDS apart (default 40):
 *   connections dropped; the stream paused 15 s across a minute's end (data withheld, pings answered: the socket
 *   stays open, and the minute's closed kline is lost with its trades); REST failing 3 requests with a drop; the
 *   venue's own recycle; a stall (nothing sent, pings unanswered, requests dropped) of the gap's length.
 *   FAULTS_SETTLE_SECONDS (default 120) after the last, every closed 1m, 5m, 15m and 1h bar of `/api/candles` is
 *   compared with the venue's REST klines, and the trades received (by id) with the venue's REST trades of the
 *   window.
 * - Accounts: one `tickwire all` following the simulator's Bitget and dYdX demo accounts, a market order on each
 *   every 3 s, a client on `/ws/dashboard` per account. Faults FAULTS_GAP_SECONDS apart: private sockets dropped;
 *   new private connections refused 20 s; three Bitget logins refused; a 20 s stall of both venues; REST failing 5
 *   requests with a drop. Then every fill of the simulated accounts since the client connected against the
 *   `trade_update`s received and `/api/account/fills`, and the positions against `/api/account/state`.
 *   FAULTS_ACCOUNTS=0 leaves it out.
 *
 * Prints a line per check (and where missing trades lie, after which fault); exit code 1 when a bar differs, a
 * trade or fill is missing or came twice, or the positions differ. About 20 minutes with the defaults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { parseDecimal, toPlainString } from '../../src/domain/decimal.ts';
import type { VenueId } from '../../src/domain/instrument.ts';
import type { Interval } from '../../src/domain/interval.ts';
import { demoAccounts } from '../../src/sim/accounts/config.ts';
import { startSimulator, type Simulator } from '../../src/sim/simulator.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createVenueAdapter } from '../../src/venues/registry.ts';

const CLI = fileURLToPath(new URL('../../bin/tickwire.js', import.meta.url));
const ALL_VENUES: readonly VenueId[] = ['binance', 'bitget', 'okx', 'dydx'];
const INTERVAL_MS: Partial<Record<Interval, number>> = {
  '1m': 60e3,
  '5m': 300e3,
  '15m': 900e3,
  '1h': 3600e3,
};

function envSeconds(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback * 1000;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n * 1000;
}

const GAP_MS = envSeconds('FAULTS_GAP_SECONDS', 40);
// The venue-kline check repairs a minute only once it has closed (and its kline came): a shorter settle can catch
// the minute a fault ended in before its repair.
const SETTLE_MS = envSeconds('FAULTS_SETTLE_SECONDS', 120);
const VENUES = (process.env['FAULTS_VENUES'] ?? ALL_VENUES.join(','))
  .split(',')
  .map((v) => v.trim())
  .filter((v) => v !== '');
for (const v of VENUES)
  if (!ALL_VENUES.includes(v as VenueId)) throw new Error(`FAULTS_VENUES: unknown venue ${v}`);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Time to the next minute's end, at least 10 s away. */
function untilMinuteEnd(): number {
  const left = 60_000 - (Date.now() % 60_000);
  return left >= 10_000 ? left : left + 60_000;
}
const failures: string[] = [];

function check(ok: boolean, line: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`);
  if (!ok) failures.push(line);
}

/** `tickwire all` on a free port against `sim`, with `env` on top; resolves once `/health` answers. */
async function startTickwire(
  sim: Simulator,
  env: Record<string, string>,
): Promise<{ port: number; child: ChildProcess; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-faults-'));
  const port = 21000 + Math.floor(Math.random() * 9000);
  const urls: Record<string, string> = {};
  for (const [id, u] of Object.entries(sim.urls) as [string, { wsUrl: string; restUrl: string }][]) {
    urls[`${id.toUpperCase()}_WS_URL`] = u.wsUrl;
    urls[`${id.toUpperCase()}_REST_URL`] = u.restUrl;
  }
  const child = spawn(process.execPath, [CLI, 'all'], {
    env: { ...process.env, ...urls, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let waited = 0; ; waited += 200) {
    if (child.exitCode !== null) throw new Error(`tickwire all exited with ${child.exitCode}`);
    if (waited > 60_000) throw new Error('/health did not answer within 60 s');
    const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
    if (res !== undefined) break;
    await sleep(200);
  }
  const stop = async (): Promise<void> => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { port, child, stop };
}

/**
 * The missing trades as runs of consecutive ones (by time), each with its span and the fault injected last before
 * it began: where to look in the log.
 */
function describeLoss(lost: readonly { time: number }[], injected: readonly [string, number][]): string {
  const runs: { from: number; to: number; count: number }[] = [];
  for (const t of lost) {
    const last = runs[runs.length - 1];
    if (last && t.time - last.to <= 1_000) {
      last.to = t.time;
      last.count++;
    } else runs.push({ from: t.time, to: t.time, count: 1 });
  }
  const iso = (ms: number): string => new Date(ms).toISOString().slice(11, 23);
  return runs
    .map((r) => {
      const fault = injected.filter(([, at]) => at <= r.from).pop();
      const after = fault ? `, ${((r.from - fault[1]) / 1000).toFixed(1)} s after ${fault[0]}` : '';
      return `${r.count} from ${iso(r.from)} to ${iso(r.to)}${after}`;
    })
    .join('; ');
}

interface ReceivedTrade {
  readonly id: string;
  readonly time: number;
}

async function marketRun(sim: Simulator, venue: VenueId): Promise<void> {
  const symbols = venue === 'dydx' ? ['BTC/USD', 'ETH/USD', 'SOL/USD'] : ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
  const tw = await startTickwire(sim, { VENUES: venue, SYMBOLS: symbols.join(',') });
  try {
    const received = new Map<string, ReceivedTrade[]>(symbols.map((s) => [s, []]));
    const client = new WebSocket(`ws://127.0.0.1:${tw.port}/`);
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    client.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type?: string; symbol?: string; trades?: ReceivedTrade[] };
      if (m.type === 'trades' && m.symbol !== undefined) received.get(m.symbol)?.push(...(m.trades ?? []));
    });
    for (const symbol of symbols)
      client.send(JSON.stringify({ type: 'subscribe', channel: 'trades', venue, symbol }));
    const startedAt = Date.now();
    const faults: [string, () => void | Promise<void>][] = [
      ['drop', () => void sim.faults.dropConnections(venue)],
      [
        'pause 15 s across a minute',
        async () => {
          // The closed kline of the minute that ends during the pause is lost with its trades.
          await sleep(untilMinuteEnd() - 7_000);
          sim.faults.pauseStream(venue, 15_000);
        },
      ],
      [
        'rest failures + drop',
        () => {
          sim.faults.restFailures({ count: 3, status: 500 }, venue);
          sim.faults.dropConnections(venue);
        },
      ],
      ['recycle', () => sim.faults.forceRecycle(venue)],
      ['stall', () => sim.faults.stall(venue, GAP_MS)],
    ];
    const injected: [string, number][] = [];
    for (const [name, inject] of faults) {
      await sleep(GAP_MS);
      await inject();
      injected.push([name, Date.now()]);
    }
    await sleep(GAP_MS + SETTLE_MS);
    client.close();
    const adapter = createVenueAdapter(venue, sim.urls[venue], silentLogger());
    for (const symbol of symbols) {
      let bars = 0;
      let differ = 0;
      for (const [interval, span] of Object.entries(INTERVAL_MS) as [Interval, number][]) {
        const limit = Math.ceil((Date.now() - startedAt) / span) + 1;
        const query = `symbol=${encodeURIComponent(symbol)}&interval=${interval}&limit=${limit}`;
        const body = (await (await fetch(`http://127.0.0.1:${tw.port}/api/candles?${query}`)).json()) as {
          bars: Record<string, string | number | boolean>[];
        };
        const ours = body.bars.filter((b) => b['closed'] === true);
        if (ours.length === 0) continue;
        const first = Date.parse(String(ours[0]?.['time']));
        const theirs = await adapter.rest.fetchCandles(symbol, interval, {
          startTime: first,
          limit: limit + 2,
        });
        const byTime = new Map(theirs.map((b) => [b.time, b]));
        for (const b of ours) {
          const v = byTime.get(Date.parse(String(b['time'])));
          if (v === undefined) continue;
          bars++;
          const fields = ['open', 'high', 'low', 'close', 'volume'] as const;
          if (!fields.every((k) => Number(b[k]) === Number(toPlainString(v[k])))) differ++;
        }
      }
      check(
        differ === 0 && bars > 0,
        `${venue} ${symbol}: ${differ} of ${bars} closed bars differ from the venue's`,
      );
      const got = received.get(symbol) ?? [];
      const from = (got[0]?.time ?? startedAt) + 5_000;
      const to = Date.now() - 30_000;
      const venueTrades = await adapter.rest.fetchTrades(symbol, { startTime: from, endTime: to });
      const counts = new Map<string, number>();
      for (const t of got) if (t.time >= from && t.time <= to) counts.set(t.id, (counts.get(t.id) ?? 0) + 1);
      const lost = venueTrades.filter((t) => !counts.has(t.id));
      const missing = lost.length;
      const twice = [...counts.values()].filter((n) => n > 1).length;
      const venueIds = new Set(venueTrades.map((t) => t.id));
      const unknown = [...counts.keys()].filter((id) => !venueIds.has(id)).length;
      check(
        missing === 0 && twice === 0 && unknown === 0 && venueTrades.length > 0,
        `${venue} ${symbol}: trades channel ${counts.size} of the venue's ${venueTrades.length}, ` +
          `${missing} missing, ${twice} twice, ${unknown} unknown to the venue`,
      );
      if (missing > 0) console.log(`     missing: ${describeLoss(lost, injected)}`);
    }
  } finally {
    await tw.stop();
  }
}

interface ReceivedFill {
  readonly fillId: string;
  readonly symbol: string;
  readonly side: string;
  readonly size: string;
  readonly price: string;
  readonly time: number;
}

async function accountRun(sim: Simulator): Promise<void> {
  const tokens = { 'demo-bitget': 'a'.repeat(64), 'demo-dydx': 'b'.repeat(64) };
  const bitget = demoAccounts.bitget[0];
  const dydx = demoAccounts.dydx[0];
  if (bitget === undefined || dydx === undefined) throw new Error('no demo accounts');
  const configDir = mkdtempSync(join(tmpdir(), 'tickwire-faults-config-'));
  const configFile = join(configDir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      accounts: [
        {
          id: 'demo-bitget',
          venue: 'bitget',
          credentials: { apiKey: bitget.apiKey, secret: bitget.secret, passphrase: bitget.passphrase },
        },
        { id: 'demo-dydx', venue: 'dydx', address: dydx.address, subaccountNumber: dydx.subaccountNumber },
      ],
      auth: { tokens: Object.entries(tokens).map(([account, token]) => ({ token, account })) },
    }),
  );
  const tw = await startTickwire(sim, {
    VENUES: 'bitget,dydx',
    SYMBOLS: 'BTC/USDT,BTC/USD',
    TICKWIRE_CONFIG: configFile,
  });
  const accounts = { 'demo-bitget': sim.accounts.of('bitget'), 'demo-dydx': sim.accounts.of('dydx') };
  const received = new Map<string, ReceivedFill[]>(Object.keys(tokens).map((id) => [id, []]));
  const clients: WebSocket[] = [];
  try {
    for (const [id, token] of Object.entries(tokens)) {
      const ws = new WebSocket(`ws://127.0.0.1:${tw.port}/ws/dashboard?token=${token}`);
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type?: string; data?: { upsert?: ReceivedFill[] } };
        if (m.type === 'trade_update') received.get(id)?.push(...(m.data?.upsert ?? []));
      });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      clients.push(ws);
    }
    await sleep(5_000);
    const startedAt = Date.now();
    let placing = true;
    const orders = (async () => {
      for (let i = 0; placing; i++) {
        for (const [id, side] of Object.entries(accounts)) {
          side.accounts[0]?.placeOrder({
            symbol: id === 'demo-bitget' ? 'BTC/USDT' : 'BTC/USD',
            side: i % 2 === 0 ? 'sell' : 'buy',
            type: 'market',
            size: parseDecimal('0.001'),
          });
        }
        await sleep(3_000);
      }
    })();
    const both = (act: (side: (typeof accounts)['demo-bitget']) => void): void =>
      Object.values(accounts).forEach(act);
    const faults: (() => void)[] = [
      () => both((a) => a.faults.dropConnections()),
      () =>
        both((a) => {
          a.faults.refuseConnections(20_000);
          a.faults.dropConnections();
        }),
      () => {
        accounts['demo-bitget'].faults.rejectLogins(3);
        accounts['demo-bitget'].faults.dropConnections();
      },
      () => sim.faults.stall(undefined, 20_000),
      () => {
        sim.faults.restFailures({ count: 5, status: 500 });
        both((a) => a.faults.dropConnections());
      },
    ];
    for (const inject of faults) {
      await sleep(GAP_MS);
      inject();
    }
    await sleep(GAP_MS);
    placing = false;
    await orders;
    // At least one fills check (60 s) after the last fault.
    await sleep(Math.max(SETTLE_MS, 70_000));
    const describe = (f: Omit<ReceivedFill, 'fillId'>): string =>
      `${f.symbol} ${f.side} ${f.size} @ ${f.price} ${f.time}`;
    for (const [id, side] of Object.entries(accounts)) {
      const account = side.accounts[0];
      if (account === undefined) throw new Error(`no ${id} account`);
      const venueFills = account.fills
        .filter((f) => f.time >= startedAt - 1_000)
        .map((f) => describe({ ...f, size: toPlainString(f.size), price: toPlainString(f.price) }));
      const got = (received.get(id) ?? []).filter((f) => f.time >= startedAt - 1_000);
      const times = new Map<string, number>();
      for (const f of got) times.set(f.fillId, (times.get(f.fillId) ?? 0) + 1);
      const seen = new Set(got.map(describe));
      const missing = venueFills.filter((d) => !seen.has(d)).length;
      const twice = [...times.values()].filter((n) => n > 1).length;
      const headers = { authorization: `Bearer ${tokens[id as keyof typeof tokens]}` };
      const stored = (await (
        await fetch(`http://127.0.0.1:${tw.port}/api/account/fills?limit=1000`, { headers })
      ).json()) as { fills: ReceivedFill[] };
      const storedSet = new Set(stored.fills.map(describe));
      const notStored = venueFills.filter((d) => !storedSet.has(d)).length;
      check(
        missing === 0 && twice === 0 && notStored === 0 && venueFills.length > 0,
        `${id}: fills received ${times.size} of the exchange's ${venueFills.length}, ${missing} missing, ` +
          `${twice} sent twice, ${notStored} not stored`,
      );
      const state = (await (
        await fetch(`http://127.0.0.1:${tw.port}/api/account/state`, { headers })
      ).json()) as {
        channels: { positions: { symbol: string; side: string; size: string }[] };
      };
      const ours = state.channels.positions.map((p) => `${p.symbol} ${p.side} ${p.size}`).sort();
      const theirs = account
        .positions()
        .map((p) => {
          const long = p.size.coef > 0n;
          return `${p.symbol} ${long ? 'long' : 'short'} ${toPlainString(p.size).replace(/^-/, '')}`;
        })
        .sort();
      check(
        JSON.stringify(ours) === JSON.stringify(theirs),
        `${id}: positions ${JSON.stringify(ours)}, the exchange's ${JSON.stringify(theirs)}`,
      );
    }
  } finally {
    for (const ws of clients) ws.close();
    await tw.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
}

const sim = await startSimulator({
  symbols: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BTC/USD', 'ETH/USD', 'SOL/USD'],
  historyDays: 2,
});
try {
  await sim.warmHistory();
  for (let i = 0; i < VENUES.length; i += 2) {
    await Promise.all(VENUES.slice(i, i + 2).map((venue) => marketRun(sim, venue as VenueId)));
  }
  if (process.env['FAULTS_ACCOUNTS'] !== '0') await accountRun(sim);
} finally {
  await sim.close();
}
console.log(failures.length === 0 ? 'every check passed' : `${failures.length} check(s) failed`);
process.exit(failures.length === 0 ? 0 : 1);
