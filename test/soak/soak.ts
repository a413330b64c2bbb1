/**
 * `npm run soak`: connection churn and traffic against a real gateway in its own process (soak-server.ts) for
 * SOAK_SECONDS (default 600). SOAK_CLIENTS clients (default 300) live at once; each connects, subscribes to a few
 * candle rooms (with `initial` history), market channels or alerts, sometimes unsubscribes, pings or sends a bad
 * frame, and leaves after a few seconds (a clean close, or an abrupt cut), and a new one takes its place. One in
 * ten stops reading (a slow client) until the gateway closes it. Every SOAK_SAMPLE_SECONDS (default 5) the
 * gateway reports its RSS, retained heap (after a full GC) and active handles; at the end the driver prints a
 * table and judges the run: the retained heap and the RSS are flat when the slope of a least-squares line over
 * the last 80% of the samples taken under churn stays below a threshold, and nothing leaked when, two seconds
 * after every client left, the handles are back to their count at start and the heap within a few MB of the
 * first judged sample (caches warm by then).
 * (Handles are not judged under churn: a slow client the gateway closed holds its socket and ws's close timer for
 * up to 30 s, so their count follows the churn; their slope is printed.) Two more verdicts make sure the run
 * did what it claims: every connect was accepted (the gateway under soak lifts the per-address limits, since all
 * clients come from 127.0.0.1), and the gateway closed at least 90% of the slow lives with 4008. Exit code 1 when
 * a verdict fails or the gateway died.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { INTERVALS } from '../../src/domain/interval.ts';
import { Random } from '../fuzz/random.ts';
import { SOAK_SYMBOLS, SOAK_VENUES, type Sample } from './soak-shared.ts';

function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

const SECONDS = envNumber('SOAK_SECONDS', 600);
const CLIENTS = envNumber('SOAK_CLIENTS', 300);
const SAMPLE_SECONDS = envNumber('SOAK_SAMPLE_SECONDS', 5);
const SEED = envNumber('SOAK_SEED', 1);
/** Flat: the fitted line over the last 80% rises by less than this per minute. */
const MAX_HEAP_SLOPE = envNumber('SOAK_MAX_HEAP_MB_PER_MIN', 0.5) * 1024 * 1024;
const MAX_RSS_SLOPE = envNumber('SOAK_MAX_RSS_MB_PER_MIN', 2) * 1024 * 1024;
/** Retained heap after the clients left may exceed the heap with caches warm (see below) by this much. */
const MAX_HEAP_LEFT = envNumber('SOAK_MAX_HEAP_LEFT_MB', 8) * 1024 * 1024;

interface Totals {
  connected: number;
  messages: number;
  closes: Record<string, number>;
  failedConnects: number;
  /** Why connects failed (HTTP status of a refused upgrade, or the error), by reason. */
  failedConnectReasons: Record<string, number>;
  /** Lives that stopped reading (the gateway counts those it closed as slow: a paused client never reads the 4008). */
  slowLives: number;
}

const totals: Totals = {
  connected: 0,
  messages: 0,
  closes: {},
  failedConnects: 0,
  failedConnectReasons: {},
  slowLives: 0,
};
/** Share of the slow lives the gateway must close as slow consumers (4008): else slowness went unseen. */
const MIN_SLOW_CLOSED_SHARE = 0.9;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One client's life: connect, subscribe, some traffic, leave. */
async function clientLife(url: string, r: Random, until: number): Promise<void> {
  const ws = new WebSocket(url);
  let failure = 'closed before open';
  ws.on('error', (err) => void (failure = err.message));
  ws.on('unexpected-response', (_req, res) => {
    failure = `HTTP ${res.statusCode}`;
    ws.terminate();
  });
  ws.on('message', () => void totals.messages++);
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  try {
    await Promise.race([once(ws, 'open'), closed.then(() => Promise.reject(new Error('closed')))]);
  } catch {
    totals.failedConnects++;
    totals.failedConnectReasons[failure] = (totals.failedConnectReasons[failure] ?? 0) + 1;
    return;
  }
  totals.connected++;
  const send = (m: unknown): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  };
  const slow = r.chance(0.1);
  const rooms = Array.from({ length: r.int(1, 5) }, () => ({
    symbol: r.pick(SOAK_SYMBOLS),
    interval: r.pick(INTERVALS),
  }));
  for (const room of rooms) send({ type: 'subscribe', ...room, initialBars: r.pick([0, 10, 100, 500]) });
  if (r.chance(0.5))
    send({
      type: 'subscribe',
      channel: r.pick(['trades', 'ticker', 'book']),
      venue: r.pick(SOAK_VENUES),
      symbol: r.pick(SOAK_SYMBOLS),
    });
  if (r.chance(0.3)) send({ type: 'subscribe', channel: 'ticker', symbol: r.pick(SOAK_SYMBOLS) });
  if (r.chance(0.2)) send({ type: 'subscribe', channel: 'alerts' });
  if (r.chance(0.1)) send(r.pick(['{"type":', 'null', '{"type":"subscribe","symbol":"X","interval":"1m"}']));
  if (slow) {
    // Stops reading: the gateway's send buffer for it grows until it is closed as a slow consumer (4008).
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    send({ type: 'subscribe', symbol: r.pick(SOAK_SYMBOLS), interval: '1m', initialBars: 5000 });
  }
  // A slow client cannot see its 4008 (it reads nothing): it leaves after a bound the gateway closes it well within.
  const stay = slow ? 30_000 : r.int(1000, 15_000);
  const end = Math.min(Date.now() + stay, until);
  while (Date.now() < end && ws.readyState === WebSocket.OPEN) {
    await Promise.race([sleep(r.int(200, 2000)), closed]);
    if (slow) {
      // Keeps asking for history it never reads.
      for (const symbol of SOAK_SYMBOLS)
        send({ type: 'subscribe', symbol, interval: '1m', initialBars: 5000 });
      continue;
    }
    const roll = r.next();
    if (roll < 0.3) send({ type: 'ping' });
    else if (roll < 0.5) send({ type: 'unsubscribe', ...r.pick(rooms) });
    else if (roll < 0.6) send({ type: 'subscribe', ...r.pick(rooms), initialBars: r.int(0, 300) });
  }
  if (slow) totals.slowLives++;
  if (ws.readyState === WebSocket.OPEN) {
    if (slow || r.chance(0.3)) ws.terminate();
    else ws.close();
  }
  const code = await Promise.race([closed, sleep(5000).then(() => -1)]);
  if (code === -1) ws.terminate();
  totals.closes[code] = (totals.closes[code] ?? 0) + 1;
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const MB = 1024 * 1024;
const handles = (s: Sample): number => Object.values(s.resources).reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const child = fork(fileURLToPath(new URL('./soak-server.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let died = false;
  child.on('exit', (code) => {
    if (code !== 0) died = true;
  });
  const [ready] = (await once(child, 'message')) as [{ url: string }];
  const ask = async (): Promise<Sample> => {
    const answer = once(child, 'message') as Promise<[{ sample: Sample }]>;
    child.send({ cmd: 'sample' });
    return (await answer)[0].sample;
  };
  console.log(
    `soak: ${SECONDS} s, ${CLIENTS} clients at a time, a sample every ${SAMPLE_SECONDS} s, seed ${SEED}`,
  );
  const started = Date.now();
  const until = started + SECONDS * 1000;
  const r = new Random(SEED);
  const samples: { t: number; s: Sample }[] = [{ t: 0, s: await ask() }];
  const sampler = (async () => {
    while (Date.now() < until && !died) {
      await sleep(SAMPLE_SECONDS * 1000);
      if (died) break;
      const s = await ask();
      samples.push({ t: (Date.now() - started) / 1000, s });
      process.stdout.write(
        `  ${samples.at(-1)?.t.toFixed(0)} s: rss ${(s.rss / MB).toFixed(1)} MB, heap ${(s.heapUsed / MB).toFixed(1)} MB, handles ${handles(s)}, connections ${s.connections}, clients so far ${totals.connected}\n`,
      );
    }
  })();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const lane = r.fork();
      // Spread the first connects over a few seconds, as real clients arrive.
      await sleep((i * 3000) / CLIENTS);
      while (Date.now() < until && !died) await clientLife(ready.url, lane, until);
    }),
  );
  await sampler;
  // With every client gone: what is left once churn stops.
  await sleep(2000);
  const final = died ? undefined : await ask();
  child.send({ cmd: 'stop' });
  await Promise.race([once(child, 'exit'), sleep(5000)]);

  const rows = samples.filter(
    (_, i) => i % Math.max(1, Math.ceil(samples.length / 20)) === 0 || i === samples.length - 1,
  );
  console.log(
    '\n| t (s) | RSS (MB) | heap used after GC (MB) | active handles | connections | rooms | closed as slow (total) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  const row = (t: string, s: Sample): void =>
    console.log(
      `| ${t} | ${(s.rss / MB).toFixed(1)} | ${(s.heapUsed / MB).toFixed(1)} | ${handles(s)} | ${s.connections} | ${s.rooms} | ${s.slowClosed} |`,
    );
  for (const { t, s } of rows) row(t.toFixed(0), s);
  if (final) row('after (no clients)', final);
  const underChurn = samples.filter((x) => x.t <= SECONDS);
  const tail = underChurn.slice(Math.floor(underChurn.length * 0.2));
  const minutes = tail.map((x) => x.t / 60);
  const verdicts = [
    {
      name: 'heap used',
      unit: 'MB/min',
      value:
        slope(
          minutes,
          tail.map((x) => x.s.heapUsed),
        ) / MB,
      max: MAX_HEAP_SLOPE / MB,
    },
    {
      name: 'RSS',
      unit: 'MB/min',
      value:
        slope(
          minutes,
          tail.map((x) => x.s.rss),
        ) / MB,
      max: MAX_RSS_SLOPE / MB,
    },
  ];
  const first = samples[0]?.s as Sample;
  // The heap is compared with the first sample of the judged tail, not with the start: by then the gateway's
  // bounded caches are warm (candle-rooms.ts keeps each stored bar's text, ~15 MB for the soak's 10,000 bars).
  const warm = tail[0]?.s ?? first;
  console.log(
    `\nclients connected ${totals.connected}, failed connects ${totals.failedConnects} ${JSON.stringify(totals.failedConnectReasons)}, messages received ${totals.messages}, closes by code ${JSON.stringify(totals.closes)}`,
  );
  // Handles follow the churn (see above): their slope is reported, not judged.
  const handlesSlope = slope(
    minutes,
    tail.map((x) => handles(x.s)),
  );
  const handlesUnderChurn = underChurn.map((x) => handles(x.s));
  console.log(
    `handles: slope ${handlesSlope.toFixed(2)} per min over the last 80% of the samples, ` +
      `${Math.min(...handlesUnderChurn)} to ${Math.max(...handlesUnderChurn)} under churn`,
  );
  console.log(`slopes over the last 80% of the ${underChurn.length} samples under churn (least squares):`);
  let pass = !died && final !== undefined;
  // A refused connect means the run had fewer clients than it claims: its other verdicts would prove less.
  const allConnected = totals.failedConnects === 0;
  pass &&= allConnected;
  console.log(`  every connect accepted: ${totals.failedConnects} failed ${allConnected ? 'PASS' : 'FAIL'}`);
  // Only slow lives stop reading, so every 4008 the gateway counts is one of them.
  const slowClosed = (final ?? samples.at(-1)?.s)?.slowClosed ?? 0;
  const slowSeen = totals.slowLives > 0 && slowClosed >= MIN_SLOW_CLOSED_SHARE * totals.slowLives;
  pass &&= slowSeen;
  console.log(
    `  slow clients closed 4008 by the gateway: ${slowClosed} of ${totals.slowLives} slow lives, at least ${MIN_SLOW_CLOSED_SHARE * 100}% ${slowSeen ? 'PASS' : 'FAIL'}`,
  );
  for (const v of verdicts) {
    const flat = v.value < v.max;
    pass &&= flat;
    console.log(
      `  ${v.name}: ${v.value.toFixed(3)} ${v.unit} (flat below ${v.max}) ${flat ? 'PASS' : 'FAIL'}`,
    );
  }
  if (final) {
    const handlesBack = handles(final) <= handles(first);
    const heapBack = final.heapUsed - warm.heapUsed < MAX_HEAP_LEFT;
    pass &&= handlesBack && heapBack;
    console.log(
      `after every client left: handles ${handles(final)} (at start ${handles(first)}) ${handlesBack ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `after every client left: heap ${(final.heapUsed / MB).toFixed(1)} MB (at start ${(first.heapUsed / MB).toFixed(1)} MB, with caches warm at ${tail[0]?.t.toFixed(0)} s ${(warm.heapUsed / MB).toFixed(1)} MB, at most ${MAX_HEAP_LEFT / MB} MB more) ${heapBack ? 'PASS' : 'FAIL'}`,
    );
  }
  if (died) console.log('  the gateway process died: FAIL');
  console.log(pass ? 'soak: PASS' : 'soak: FAIL');
  process.exitCode = pass ? 0 : 1;
}

await main();
