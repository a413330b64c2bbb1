/**
 * Fan-out benchmark (`npm run bench`): N WebSocket clients spread over rooms, the server publishing candle
 * updates to every room at a fixed rate. Runs the Tickwire gateway and a naive baseline server (the seed
 * document's style: JSON.stringify per client in a loop) one after the other on the same load, in the same
 * run, and prints delivered messages per second, publish-to-receive latency (p50 / p99 / max) and server RSS
 * per connection, with the ratios. Absolute figures drift on shared machines; the ratio is the result.
 *
 * Options (environment): BENCH_CLIENTS (2000), BENCH_ROOMS (20), BENCH_RATE (updates per room per second, 20),
 * BENCH_SECONDS (10).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { BENCH_INTERVALS, BENCH_SYMBOLS } from './fanout-server.ts';

const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 2000);
const ROOMS = Number(process.env['BENCH_ROOMS'] ?? 20);
const RATE = Number(process.env['BENCH_RATE'] ?? 20);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);

interface Result {
  readonly server: string;
  readonly offered: number;
  readonly delivered: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly rssPerConnKiB: number;
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function request<T>(child: ChildProcess, msg: object, key: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: Record<string, unknown>): void => {
      if (key in m) {
        child.off('message', onMessage);
        resolve(m as T);
      }
    };
    child.on('message', onMessage);
    if (Object.keys(msg).length > 0) child.send(msg);
  });
}

const VOLUME = /"volume":([0-9.]+)/;

async function run(kind: 'tickwire' | 'naive'): Promise<Result> {
  const child = fork(fileURLToPath(new URL('./fanout-server.ts', import.meta.url)), [kind], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await request<{ port: number }>(child, {}, 'ready');
  const base = await request<{ rss: number }>(child, { cmd: 'rss' }, 'rss');
  const url = `ws://127.0.0.1:${ready.port}/`;
  const latencies: number[] = [];
  let received = 0;
  let measuring = false;
  const sockets: WebSocket[] = [];
  // Connect in batches so the accept queue is not the thing being measured.
  for (let i = 0; i < CLIENTS; i += 100) {
    const batch = Array.from({ length: Math.min(100, CLIENTS - i) }, (_, j) => {
      const room = (i + j) % ROOMS;
      const symbol = BENCH_SYMBOLS[room % BENCH_SYMBOLS.length];
      const interval = BENCH_INTERVALS[Math.floor(room / BENCH_SYMBOLS.length) % BENCH_INTERVALS.length];
      return new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url);
        sockets.push(ws);
        ws.on('error', reject);
        ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', symbol, interval, initialBars: 0 })));
        ws.on('message', (data) => {
          const text = String(data);
          if (text.startsWith('{"type":"initial"')) return resolve();
          if (!measuring) return;
          const m = VOLUME.exec(text);
          if (!m) return;
          received++;
          latencies.push(nowMs() - Number(m[1]));
        });
      });
    });
    await Promise.all(batch);
  }
  const loaded = await request<{ rss: number }>(child, { cmd: 'rss' }, 'rss');
  measuring = true;
  const started = Date.now();
  const done = await request<{ published: number }>(
    child,
    { cmd: 'publish', rooms: ROOMS, ratePerRoom: RATE, seconds: SECONDS },
    'done',
  );
  // Let in-flight messages land.
  await new Promise((r) => setTimeout(r, 500));
  const elapsed = (Date.now() - started) / 1000;
  measuring = false;
  for (const ws of sockets) ws.terminate();
  child.send({ cmd: 'stop' });
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    server: kind,
    offered: done.published * (CLIENTS / ROOMS),
    delivered: received,
    perSecond: received / elapsed,
    p50: pct(0.5),
    p99: pct(0.99),
    max: latencies[latencies.length - 1] ?? NaN,
    rssPerConnKiB: (loaded.rss - base.rss) / CLIENTS / 1024,
  };
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `fan-out: ${CLIENTS} clients, ${ROOMS} rooms, ${RATE} updates/room/s, ${SECONDS} s; ` +
    `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
const results = [await run('naive'), await run('tickwire')];
const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
console.log('\n| server | delivered | msgs/s | p50 ms | p99 ms | max ms | RSS/conn KiB |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.server} | ${r.delivered}/${r.offered} | ${f(r.perSecond, 0)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ${f(r.rssPerConnKiB)} |`,
  );
}
const [naive, tw] = results as [Result, Result];
console.log(
  `\ntickwire / naive: msgs/s ×${f(tw.perSecond / naive.perSecond, 2)}, p99 latency ×${f(tw.p99 / naive.p99, 2)}, ` +
    `RSS/conn ×${f(tw.rssPerConnKiB / naive.rssPerConnKiB, 2)}`,
);
process.exit(0);
