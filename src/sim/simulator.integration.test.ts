import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { simulatorBanner, startSimulator, type Simulator } from './simulator.ts';
import { getJson, RecordingClient, waitUntil } from './test-kit.ts';

const live = (): string[] =>
  process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'FSReqCallback');

describe('startSimulator', () => {
  it('serves each venue under its prefix and names the URLs in the banner', async () => {
    const sim = await startSimulator({ symbols: ['BTC/USDT'], historyDays: 0 });
    try {
      assert.equal(sim.urls.binance.wsUrl, `ws://127.0.0.1:${sim.port}/binance`);
      assert.equal(sim.urls.binance.restUrl, `http://127.0.0.1:${sim.port}/binance`);
      const banner = simulatorBanner(sim, ['BTC/USDT']);
      assert.match(banner, new RegExp(`BINANCE_WS_URL=ws://127\\.0\\.0\\.1:${sim.port}/binance`));
      assert.match(banner, new RegExp(`BINANCE_REST_URL=http://127\\.0\\.0\\.1:${sim.port}/binance`));
      assert.match(banner, /SYMBOLS=BTC\/USDT/);
      // Every line is shell: `#` comments, then `export NAME=value` lines that a shell can source as printed.
      for (const line of banner.split('\n')) assert.match(line, /^(# .*|export [A-Z_]+=\S+)$/);
      const sourced = execFileSync(
        'bash',
        ['-c', 'source <(cat); printf "%s\\n" "$BINANCE_WS_URL" "$DYDX_REST_URL" "$VENUES" "$SYMBOLS"'],
        { input: banner, encoding: 'utf8' },
      );
      assert.deepEqual(sourced.trim().split('\n'), [
        sim.urls.binance.wsUrl,
        sim.urls.dydx.restUrl,
        'binance,bitget,okx,dydx',
        'BTC/USDT',
      ]);
      assert.equal((await getJson(`http://127.0.0.1:${sim.port}/kraken/api`)).status, 404);
    } finally {
      await sim.close();
    }
  });

  it('announces its port once it listens, before its markets are built, and answers requests made then from them', async () => {
    const at = Date.UTC(2026, 11, 5, 6, 0, 30);
    let announced: { port: number; restUrl: string } | undefined;
    let early: ReturnType<typeof getJson> | undefined;
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      historyDays: 1,
      seed: 5,
      now: () => at,
      onListening: ({ port, urls }) => {
        announced = { port, restUrl: urls.binance.restUrl };
        // Sent before the markets exist: it waits for them instead of finding no venue.
        early = getJson(
          `${urls.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=3&endTime=${at}`,
        );
      },
    });
    try {
      assert.deepEqual(announced, { port: sim.port, restUrl: sim.urls.binance.restUrl });
      const answer = await early;
      assert.equal(answer?.status, 200);
      assert.equal((answer?.body as unknown[]).length, 3);
    } finally {
      await sim.close();
    }
  });

  it('closes its server when its markets cannot be built after it listened', async () => {
    let port: number | undefined;
    await assert.rejects(
      startSimulator({
        symbols: ['BTC/USDT'],
        historyDays: 0,
        onListening: (address) => {
          port = address.port;
          throw new Error('announcement failed');
        },
      }),
      /announcement failed/,
    );
    assert.ok(port !== undefined);
    await assert.rejects(getJson(`http://127.0.0.1:${port}/binance/api/v3/ping`), 'nothing listens any more');
  });

  it("warms every market's history in slices, one per turn of the event loop", async () => {
    const at = Date.UTC(2026, 11, 5, 6, 0, 30);
    const sim = await startSimulator({ symbols: ['BTC/USDT'], historyDays: 3, seed: 5, now: () => at });
    try {
      // Turns of the event loop while the warm-up runs: three days less the two-hour trade window (4,200 minutes) are
      // three slices per market, each in a turn of its own (two turns between them); in one piece it took one turn.
      let turns = 0;
      let counting = true;
      const count = (): void => {
        turns++;
        if (counting) setImmediate(count);
      };
      setImmediate(count);
      const { markets } = await sim.warmHistory();
      counting = false;
      assert.ok(markets >= 4, `${markets} markets`);
      assert.ok(turns >= 2 * markets, `${turns} turns for ${markets} markets`);
    } finally {
      await sim.close();
    }
  });

  it("generates every market's history at once when asked, and answers the same klines as when generated on use", async () => {
    // One fixed clock for both: the same seed and start give the same markets.
    const at = Date.UTC(2026, 11, 3, 12, 0, 30);
    const options = { symbols: ['BTC/USDT', 'ETH/USDT'], historyDays: 1, seed: 5, now: () => at } as const;
    const warm = await startSimulator(options);
    const lazy = await startSimulator(options);
    try {
      const { markets } = await warm.warmHistory();
      // A market per venue and symbol at least (Bitget has a spot and a futures market of each USDT pair).
      assert.ok(markets >= 8, `${markets} markets generated`);
      assert.deepEqual(await warm.warmHistory(), { markets: 0 }, 'nothing is generated twice');
      const day = (sim: typeof warm): string =>
        `http://127.0.0.1:${sim.port}/binance/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=30&endTime=${at}`;
      const [warmBars, lazyBars] = await Promise.all([getJson(day(warm)), getJson(day(lazy))]);
      assert.equal(warmBars.status, 200);
      assert.deepEqual(warmBars.body, lazyBars.body, 'the same seed gives the same history either way');
    } finally {
      await Promise.all([warm.close(), lazy.close()]);
    }
  });

  it('rejects invalid options with a message naming the option', async () => {
    await assert.rejects(startSimulator({ symbols: [] }), /symbols/);
    await assert.rejects(startSimulator({ symbols: ['btcusdt'] }), /canonical/);
    await assert.rejects(startSimulator({ symbols: ['BTC/USDT'], historyDays: -1 }), /historyDays/);
    await assert.rejects(
      startSimulator({ symbols: ['BTC/USDT'], tradesPerSecond: Number.NaN }),
      /tradesPerSecond/,
    );
    await assert.rejects(startSimulator({ symbols: ['BTC/USDT'], tradeWindowMs: 10 }), /tradeWindowMs/);
  });

  it('answers REST with the market up to the clock, even right after the clock jumped forward', async () => {
    let offset = 0;
    // A driver tick far away, so that only the request itself can bring the market up to date.
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      historyDays: 0.05,
      tradesPerSecond: 20,
      tickMs: 60_000,
      now: () => Date.now() + offset,
    });
    try {
      offset += 3 * 60_000;
      const lastClosed = Math.floor((Date.now() + offset) / 60_000) * 60_000 - 60_000;
      const url = `${sim.urls.binance.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=5`;
      const rows = (await getJson(url)).body as [number, ...unknown[]][];
      const times = rows.map((r) => r[0]);
      assert.ok(times.includes(lastClosed), `the minute before now is there: ${times.join(', ')}`);
      assert.ok(Math.max(...times) >= lastClosed);
    } finally {
      await sim.close();
    }
  });

  it('leaves no handle behind after close, even with clients connected', async () => {
    const baseline = live().length;
    const sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      historyDays: 0.05,
      tradesPerSecond: 20,
    });
    const client = new RecordingClient(
      `${sim.urls.binance.wsUrl}/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m`,
    );
    await client.waitFor((f): f is object => typeof f === 'object' && f !== null && 'stream' in f);
    assert.equal((await getJson(`${sim.urls.binance.restUrl}/api/v3/ping`)).status, 200);
    sim.faults.pauseStream(undefined, 60_000);
    assert.ok(live().length > baseline);
    await sim.close();
    await client.closed;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(live().slice(baseline), [], `still active: ${live().join(', ')}`);
    // close is idempotent.
    await sim.close();
  });
});

/** A client socket that keeps every text frame with its wall-clock arrival time. */
class LinkProbe {
  readonly socket: WebSocket;
  readonly texts: { readonly text: string; readonly at: number }[] = [];
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (data) => this.texts.push({ text: String(data), at: Date.now() }));
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }

  /** Binance aggTrade events received so far, parsed, with their arrival time. */
  aggTrades(): { a: number; E: number; at: number }[] {
    return this.texts
      .filter((f) => f.text.includes('"aggTrade"'))
      .map((f) => {
        const { data } = JSON.parse(f.text) as { data: { a: number; E: number } };
        return { a: data.a, E: data.E, at: f.at };
      });
  }

  /** Resolves with the ms from sending `ping` (a text, or a protocol ping frame when omitted) to its answer. */
  async roundTrip(ping?: string, isAnswer: (text: string) => boolean = () => false): Promise<number> {
    const from = this.texts.length;
    let ponged = false;
    const onPong = (): void => {
      ponged = true;
    };
    this.socket.once('pong', onPong);
    const sentAt = performance.now();
    if (ping === undefined) this.socket.ping();
    else this.socket.send(ping);
    await waitUntil(() => ponged || this.texts.slice(from).some((f) => isAnswer(f.text)));
    const rtt = performance.now() - sentAt;
    this.socket.off('pong', onPong);
    return rtt;
  }

  close(): void {
    this.socket.terminate();
  }
}

/** One probe per venue: Binance aggTrades of BTC/USDT, the others bare connections for their heartbeats. */
async function probes(sim: Simulator): Promise<Record<'binance' | 'okx' | 'bitget' | 'dydx', LinkProbe>> {
  const all = {
    binance: new LinkProbe(`${sim.urls.binance.wsUrl}/stream?streams=btcusdt@aggTrade`),
    okx: new LinkProbe(`${sim.urls.okx.wsUrl}/ws/v5/public`),
    bitget: new LinkProbe(sim.urls.bitget.wsUrl),
    dydx: new LinkProbe(sim.urls.dydx.wsUrl),
  };
  await Promise.all(Object.values(all).map((p) => p.opened));
  return all;
}

/** The latest aggregate trade of BTCUSDT on the simulated Binance, over REST: its id and trade time. */
async function latestAggTrade(sim: Simulator): Promise<{ a: number; T: number }> {
  const reply = await getJson(`${sim.urls.binance.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&limit=1`);
  const [last] = reply.body as { a: number; T: number }[];
  assert.ok(last, 'a trade exists');
  return last;
}

/** Polls the simulated Binance until it has a trade that `match` accepts; returns it. */
async function awaitAggTrade(
  sim: Simulator,
  match: (trade: { a: number; T: number }) => boolean,
): Promise<{ a: number; T: number }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const last = await latestAggTrade(sim);
    if (match(last)) return last;
    if (Date.now() > deadline) throw new Error('no matching trade within 15 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function assertConsecutive(ids: readonly number[]): void {
  for (let i = 1; i < ids.length; i++)
    assert.equal(ids[i], (ids[i - 1] as number) + 1, `frame ${i} in order`);
}

describe('latency fault', () => {
  it('delays every frame of the venue by at least ms, heartbeat answers of every kind included, in order', async (t) => {
    const ms = 300;
    const sim = await startSimulator({ symbols: ['BTC/USDT'], historyDays: 0, tradesPerSecond: 50 });
    t.after(() => sim.close());
    const p = await probes(sim);
    t.after(() => Object.values(p).forEach((probe) => probe.close()));
    await waitUntil(() => p.binance.aggTrades().length >= 3);

    sim.faults.latency(undefined, ms);
    // Events stamped in a later millisecond than this were published under the fault.
    const setAt = Date.now();
    // Each venue's own heartbeat answer: a protocol pong (the ws library's, or dYdX's own), `pong` as text, and
    // dYdX's JSON pong.
    const rtts = {
      binance: await p.binance.roundTrip(),
      okx: await p.okx.roundTrip('ping', (text) => text === 'pong'),
      bitget: await p.bitget.roundTrip('ping', (text) => text === 'pong'),
      dydx: await p.dydx.roundTrip(),
      dydxJson: await p.dydx.roundTrip('{"type":"ping","id":7}', (text) => text.includes('"type":"pong"')),
    };
    for (const [venue, rtt] of Object.entries(rtts)) assert.ok(rtt >= ms, `${venue} round trip ${rtt} ms`);
    await waitUntil(() => p.binance.aggTrades().filter((f) => f.E > setAt).length >= 5);
    sim.faults.latency(undefined, 0);

    const slowed = p.binance.aggTrades().filter((f) => f.E > setAt);
    for (const f of slowed)
      assert.ok(f.at - f.E >= ms, `trade ${f.a} arrived ${f.at - f.E} ms after its event`);
    const last = await latestAggTrade(sim);
    await waitUntil(() => p.binance.aggTrades().some((f) => f.a >= last.a));
    assertConsecutive(p.binance.aggTrades().map((f) => f.a));
  });

  it('holds back only the slowed venue, and when cleared delivers what it held, in order', async (t) => {
    const sim = await startSimulator({ symbols: ['BTC/USDT'], historyDays: 0, tradesPerSecond: 50 });
    t.after(() => sim.close());
    const p = await probes(sim);
    t.after(() => Object.values(p).forEach((probe) => probe.close()));
    await waitUntil(() => p.binance.aggTrades().length >= 3);

    sim.faults.latency('binance', 60_000);
    const setAt = Date.now();
    let binancePonged = false;
    p.binance.socket.once('pong', () => (binancePonged = true));
    p.binance.socket.ping();
    // Another venue answers meanwhile, while the slowed one holds back its pong and its data.
    await p.okx.roundTrip('ping', (text) => text === 'pong');
    // A trade later than the fault's millisecond was published under it.
    const held = await awaitAggTrade(sim, (trade) => trade.T > setAt);
    assert.equal(binancePonged, false, 'the slowed venue has not answered yet');
    assert.ok(!p.binance.aggTrades().some((f) => f.E > setAt), 'nothing published under the fault arrived');

    const clearedAt = Date.now();
    sim.faults.latency('binance', 0);
    await waitUntil(() => binancePonged && p.binance.aggTrades().some((f) => f.a >= held.a));
    for (const f of p.binance.aggTrades().filter((f) => f.E > setAt))
      assert.ok(f.at >= clearedAt, `trade ${f.a} was held back until the fault ended`);
    assertConsecutive(p.binance.aggTrades().map((f) => f.a));
  });

  it('refuses a negative or non-finite latency and an unknown venue', async (t) => {
    const sim = await startSimulator({ symbols: ['BTC/USDT'], historyDays: 0 });
    t.after(() => sim.close());
    assert.throws(() => sim.faults.latency('okx', -1), /latency: ms must be/);
    assert.throws(() => sim.faults.latency(undefined, Number.NaN), RangeError);
    assert.throws(() => sim.faults.latency('kraken' as 'okx', 100), /does not run venue "kraken"/);
  });
});
