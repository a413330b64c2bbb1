import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { MINUTE_MS } from '../../domain/interval.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator.ts';
import { getJson, RecordingClient, waitUntil } from '../test-kit.ts';
import { ManualClock } from '../../util/clock.ts';
import type { BinanceSimKlineRow } from './wire.ts';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';

const FIXTURES = `${FIXTURES_DIR}binance`;

interface Combined {
  stream: string;
  data: Record<string, unknown>;
}

/** Data frames of the captured combined stream, by event type. */
function capturedFrames(): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const lines = readFileSync(
    `${FIXTURES}/cryptofeed_binance_spot_combined_stream_2021-10-11.jsonl`,
    'utf8',
  ).split('\n');
  for (const line of lines) {
    if (line === '') continue;
    const entry = JSON.parse(line) as { t: string; data?: unknown };
    if (entry.t !== 'recv' || typeof entry.data !== 'string') continue;
    const frame = JSON.parse(entry.data) as Combined;
    const type = typeof frame.data['e'] === 'string' ? frame.data['e'] : frame.stream.split('@')[1];
    if (type !== undefined && !out.has(type)) out.set(type, frame.data);
  }
  return out;
}

const isCombined =
  (stream: string) =>
  (f: unknown): f is Combined =>
    typeof f === 'object' && f !== null && (f as Combined).stream === stream;

const keys = (o: object): string[] => Object.keys(o).sort();

const sims: Simulator[] = [];
async function sim(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const s = await startSimulator({
    symbols: ['BTC/USDT', 'ETH/USDT'],
    historyDays: 0,
    tradesPerSecond: 40,
    seed: 3,
    ...options,
  });
  sims.push(s);
  return s;
}

describe('Binance sim streams', () => {
  after(async () => {
    await Promise.all(sims.map((s) => s.close()));
  });

  it('delivers combined aggTrade, kline and bookTicker frames shaped like the captured ones', async () => {
    const s = await sim({ binance: { klinePushMs: 100 } });
    const client = new RecordingClient(
      `${s.urls.binance.wsUrl}/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m/ethusdt@bookTicker`,
    );
    const captured = capturedFrames();
    const agg = await client.waitFor(isCombined('btcusdt@aggTrade'));
    assert.deepEqual(keys(agg.data), keys(captured.get('aggTrade') ?? {}));
    assert.equal(agg.data['e'], 'aggTrade');
    assert.equal(agg.data['s'], 'BTCUSDT');
    assert.match(String(agg.data['p']), /^\d+\.\d{8}$/);
    const kline = await client.waitFor(isCombined('btcusdt@kline_1m'));
    const capturedKline = captured.get('kline') ?? {};
    assert.deepEqual(keys(kline.data), keys(capturedKline));
    assert.deepEqual(keys(kline.data['k'] as object), keys(capturedKline['k'] as object));
    const book = await client.waitFor(isCombined('ethusdt@bookTicker'));
    assert.deepEqual(keys(book.data), ['A', 'B', 'a', 'b', 's', 'u']);
    // aggregate ids on the stream are consecutive.
    const ids = client.frames.filter(isCombined('btcusdt@aggTrade')).map((f) => f.data['a'] as number);
    for (let i = 1; i < ids.length; i++) assert.equal(ids[i], (ids[i - 1] as number) + 1);
    await client.close();
  });

  it('serves raw streams under /ws/<stream> without the wrapper', async () => {
    const s = await sim();
    const client = new RecordingClient(`${s.urls.binance.wsUrl}/ws/ethusdt@trade`);
    const frame = await client.waitFor(
      (f): f is Record<string, unknown> => (f as { e?: string }).e === 'trade',
    );
    assert.deepEqual(keys(frame), ['E', 'M', 'T', 'e', 'm', 'p', 'q', 's', 't']);
    await client.close();
  });

  it('acknowledges SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS and answers bad requests with Binance errors', async () => {
    const s = await sim({ binance: { maxIncomingPerSecond: 100 } });
    const client = new RecordingClient(`${s.urls.binance.wsUrl}/ws`);
    await client.opened;
    const reply =
      (id: unknown) =>
      (f: unknown): f is Record<string, unknown> =>
        typeof f === 'object' && f !== null && 'id' in f && (f as { id: unknown }).id === id;
    client.send({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade', 'nopeusdt@aggTrade'], id: 1 });
    assert.deepEqual(await client.waitFor(reply(1)), { result: null, id: 1 });
    await client.waitFor((f): f is object => (f as { e?: string }).e === 'aggTrade');
    client.send({ method: 'LIST_SUBSCRIPTIONS', id: 'list1' });
    assert.deepEqual(await client.waitFor(reply('list1')), {
      result: ['btcusdt@aggTrade', 'nopeusdt@aggTrade'],
      id: 'list1',
    });
    client.send({ method: 'UNSUBSCRIBE', params: ['btcusdt@aggTrade'], id: 2 });
    assert.deepEqual(await client.waitFor(reply(2)), { result: null, id: 2 });
    client.send({ method: 'SUBSCRIBE', params: 'btcusdt@aggTrade', id: 5000001 });
    assert.deepEqual(await client.waitFor(reply(5000001)), {
      error: { code: 2, msg: 'Invalid request: streams must be an array' },
      id: 5000001,
    });
    client.send({ method: 'SUBSCRIBE', params: [], id: 1.5 });
    client.send({ params: [], id: 3 });
    client.send({ method: 'PUBLISH', params: [], id: 4 });
    client.send({ method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 6 });
    client.send({ method: 'GET_PROPERTY', params: ['colour'], id: 7 });
    client.send('{"method":');
    await waitUntil(() => client.frames.filter((x) => 'error' in (x as object)).length >= 7);
    const codes = client.frames
      .filter((x): x is { error: { code: number; msg: string }; id: unknown } => 'error' in (x as object))
      .map((x) => [x.id, x.error.code]);
    assert.deepEqual(codes, [
      [5000001, 2],
      [null, 2],
      [3, 2],
      [4, 2],
      [6, 1],
      [7, 0],
      [null, 3],
    ]);
    client.send({ method: 'GET_PROPERTY', params: ['combined'], id: 8 });
    assert.deepEqual(await client.waitFor(reply(8)), { result: false, id: 8 });
    await client.close();
  });

  it('pushes the open kline and a final x:true push when the bar closes, equal to the REST bar', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 11, 9, 41, 10));
    const s = await sim({ now: clock.now, historyDays: 0.1, binance: { klinePushMs: 50 } });
    const client = new RecordingClient(
      `${s.urls.binance.wsUrl}/stream?streams=ethusdt@kline_1m/ethusdt@kline_5m`,
    );
    type KlineFrame = Combined & {
      data: {
        k: {
          t: number;
          x: boolean;
          o: string;
          h: string;
          l: string;
          c: string;
          v: string;
          n: number;
          q: string;
        };
      };
    };
    const open = (await client.waitFor(isCombined('ethusdt@kline_1m'))) as KlineFrame;
    assert.equal(open.data.k.t, Date.UTC(2026, 2, 11, 9, 41));
    assert.equal(open.data.k.x, false);
    clock.advance(MINUTE_MS);
    s.advance();
    const isFinal =
      (stream: string, t: number) =>
      (f: unknown): f is KlineFrame =>
        isCombined(stream)(f) && (f as KlineFrame).data.k.x && (f as KlineFrame).data.k.t === t;
    const final = await client.waitFor(isFinal('ethusdt@kline_1m', Date.UTC(2026, 2, 11, 9, 41)));
    const rows = (
      await getJson(
        `${s.urls.binance.restUrl}/api/v3/klines?symbol=ETHUSDT&interval=1m&startTime=${final.data.k.t}&limit=1`,
      )
    ).body as BinanceSimKlineRow[];
    const row = rows[0] as BinanceSimKlineRow;
    const k = final.data.k;
    assert.deepEqual(
      [k.o, k.h, k.l, k.c, k.v, k.q, k.n],
      [row[1], row[2], row[3], row[4], row[5], row[7], row[8]],
    );
    assert.ok(k.n > 0);
    assert.ok(
      !client.frames.some(isFinal('ethusdt@kline_5m', Date.UTC(2026, 2, 11, 9, 40))),
      '5m bar still open',
    );
    clock.advance(3 * MINUTE_MS);
    s.advance();
    await client.waitFor(isFinal('ethusdt@kline_5m', Date.UTC(2026, 2, 11, 9, 40)));
    await client.close();
  });

  it('terminates every socket on dropConnections', async () => {
    const s = await sim();
    const a = new RecordingClient(`${s.urls.binance.wsUrl}/ws/btcusdt@aggTrade`);
    const b = new RecordingClient(`${s.urls.binance.wsUrl}/stream?streams=ethusdt@aggTrade`);
    await Promise.all([a.opened, b.opened]);
    assert.equal(s.faults.dropConnections('binance'), 2);
    assert.equal((await a.closed).code, 1006);
    assert.equal((await b.closed).code, 1006);
  });

  it('withholds data while paused, keeps REST current, and resumes', async () => {
    const s = await sim();
    const client = new RecordingClient(`${s.urls.binance.wsUrl}/ws/btcusdt@aggTrade`);
    await client.waitFor((f): f is object => (f as { e?: string }).e === 'aggTrade');
    s.faults.pauseStream('binance');
    await client.roundTrip();
    const count = client.frames.length;
    const lastStreamed = client.frames.at(-1) as { a: number };
    assert.equal(client.socket.readyState, client.socket.OPEN);
    // The barrier for "no frame": trades arrive in random bursts, so poll REST (bounded) until more than five were
    // made during the pause.
    let latestOverRest = 0;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      const rest = (await getJson(`${s.urls.binance.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&limit=1`))
        .body as { a: number }[];
      latestOverRest = rest[0]?.a ?? 0;
      if (latestOverRest > lastStreamed.a + 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(client.frames.length, count, 'no frame while paused');
    assert.ok(latestOverRest > lastStreamed.a + 5, 'trades continue over REST');
    assert.equal(client.frames.length, count, 'still no frame while paused');
    s.faults.resumeStream();
    await client.waitFor((f): f is object => client.frames.indexOf(f) >= count);
    // A timed pause ends by itself: frames that follow the round trip were sent after it began.
    s.faults.pauseStream(undefined, 100);
    await client.roundTrip();
    const resumedAt = client.frames.length;
    await client.waitFor((f): f is object => client.frames.indexOf(f) >= resumedAt);
    await client.close();
  });

  it('disconnects a client that sends more than 5 messages a second', async () => {
    const s = await sim();
    const client = new RecordingClient(`${s.urls.binance.wsUrl}/ws`);
    await client.opened;
    for (let i = 1; i <= 6; i++) client.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    const closed = await client.closed;
    assert.equal(closed.code, 1008);
    assert.equal(client.frames.length, 5);
  });

  it('pings every interval and terminates a client that does not pong', async () => {
    const s = await sim({ binance: { pingIntervalMs: 40, pongTimeoutMs: 150, maxIncomingPerSecond: 1000 } });
    const silent = new RecordingClient(`${s.urls.binance.wsUrl}/ws`, { autoPong: false });
    const polite = new RecordingClient(`${s.urls.binance.wsUrl}/ws`);
    let pings = 0;
    polite.socket.on('ping', () => pings++);
    const started = Date.now();
    const closed = await silent.closed;
    assert.equal(closed.code, 1006);
    assert.ok(Date.now() - started >= 150);
    // Timers slip on a busy machine, so wait for the pings rather than count them in a window: a client that
    // answers keeps being pinged and stays open, however long that takes.
    await new Promise<void>((resolve) => {
      const enough = (): void => {
        if (pings >= 3) resolve();
      };
      polite.socket.on('ping', enough);
      enough();
    });
    assert.equal(polite.socket.readyState, polite.socket.OPEN);
    await polite.close();
  });

  it('refuses upgrades outside the stream paths', async () => {
    const s = await sim();
    const client = new RecordingClient(`${s.urls.binance.wsUrl}/nowhere`);
    await assert.rejects(client.opened, /404/);
  });
});
