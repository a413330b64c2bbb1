/**
 * Graceful shutdown of the `tickwire` process (docs/OPERATIONS.md, "Stopping"): on SIGTERM it closes its
 * WebSocket clients with 1001, writes what waits in its write buffer to the embedded database, stops its feeds and
 * exits with code 0. The write buffer is flushed only every minute here, so the bars of this run reach the
 * database only through the stop.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { toNumber } from '../../src/domain/decimal.ts';
import { startSimulator, type Simulator } from '../../src/sim/simulator.ts';
import { copyPgliteTemplate } from '../../src/store/pglite-dirs.test-support.ts';
import { openPgliteCandleStore } from '../../src/store/pglite-candle-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { tickwireArgs } from '../support/tickwire-command.ts';
import { cleanups, RecordingSocket, temporaryDir } from './helpers.ts';

/** Resolves with the first match of `pattern` in what `stream` writes (no polling). */
function firstMatch(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const m = text.match(pattern);
      if (m === null) return;
      stream.off('data', onData);
      resolve(m);
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`no ${pattern} before the stream ended:\n${text}`)));
  });
}

/**
 * `tickwire all` on the simulator's Binance (BTC/USDT) with its database in `dir`, killed at the test's end if still
 * running; resolves once it prints its WebSocket API's URL.
 */
async function startAll(
  defer: (cleanup: () => unknown) => void,
  sim: Simulator,
  dir: string,
  env: Record<string, string>,
): Promise<{
  child: ChildProcessByStdio<null, Readable, Readable>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  stderr: () => string;
  storeReady: Promise<RegExpMatchArray>;
  url: string;
}> {
  const child = spawn(process.execPath, tickwireArgs('all'), {
    env: {
      ...process.env,
      ...env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      VENUES: 'binance',
      SYMBOLS: 'BTC/USDT',
      BINANCE_WS_URL: sim.urls.binance.wsUrl,
      BINANCE_REST_URL: sim.urls.binance.restUrl,
      DATA_DIR: dir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const storeReady = firstMatch(child.stderr, /"msg":"history store ready"/);
  const [, url] = await firstMatch(child.stdout, /WebSocket API (ws:\/\/\S+),/);
  return { child, exited, stderr: () => stderr, storeReady, url: url as string };
}

describe('graceful shutdown', () => {
  it('SIGTERM: clients get 1001, the buffered bars are written, exit code 0', async (t) => {
    const defer = cleanups(t);
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 7,
      historyDays: 1,
      tradesPerSecond: 20,
      // Tickwire asks a venue for the trades of the minute in progress and of an outage's gap: half an hour
      // of individual trades covers the test, where the default two hours cost CPU at start.
      tradeWindowMs: 30 * 60_000,
    });
    defer(() => sim.close());
    const dir = temporaryDir('tickwire-shutdown-');
    await copyPgliteTemplate(join(dir, 'pglite'));
    const configFile = join(dir, 'tickwire.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        candles: { closeGraceMs: 500 },
        gateway: { throttleMs: 100 },
        // Nothing is written by the periodic flush during the test: only the stop writes.
        storage: { flushMs: 60_000 },
      }),
    );
    // The stop is sent once the database is open: one sent before waits for the opening, which on a loaded machine
    // can outlast the stop's time (the bars are then refetched at the next start, as the log says).
    const { child, exited, stderr, storeReady, url } = await startAll(defer, sim, dir, {
      TICKWIRE_CONFIG: configFile,
    });

    const client = await RecordingSocket.open(url);
    const closed = once(client.ws, 'close') as Promise<[number, Buffer]>;
    client.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 5 });
    // A live update: a bar built by this run, held in the write buffer.
    const seen = await new Promise<{ time: string; volume: number }>((resolve) => {
      const onMessage = (raw: Buffer): void => {
        const m = JSON.parse(raw.toString()) as { type: string; bar?: { time: string; volume: number } };
        if (m.type !== 'update' || m.bar === undefined) return;
        client.ws.off('message', onMessage);
        resolve(m.bar);
      };
      client.ws.on('message', onMessage);
    });

    await storeReady;
    child.kill('SIGTERM');
    const [code] = await closed;
    assert.equal(code, 1001, 'the client is told the server is going away');
    const [exitCode, signal] = await exited;
    assert.equal(signal, null, stderr());
    assert.equal(exitCode, 0, stderr());
    assert.match(stderr(), /"msg":"stopping"/);

    // The bar the client saw is in the database, in that state or a later one.
    const store = await openPgliteCandleStore({ dataDir: join(dir, 'pglite'), logger: silentLogger() });
    defer(() => store.close());
    const at = Date.parse(seen.time);
    const stored = (await store.recent('BTC/USDT', '1m', 5, at + 60_000)).find((s) => s.bar.time === at);
    assert.ok(stored, `the bar of ${seen.time} was written at the stop`);
    assert.ok(toNumber(stored.bar.volume) >= seen.volume, 'in the state the client saw, or later');
  });

  it("SIGTERM while the venue's history answers are late: the requests are cut off, the stop ends in time", async (t) => {
    const defer = cleanups(t);
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 7,
      historyDays: 1,
      tradeWindowMs: 30 * 60_000,
    });
    defer(() => sim.close());
    // Every candle-history request waits a minute for its answer: past the stop's own time (shutdownTimeoutMs,
    // 8 s by default), after which the process would exit with code 1 and say the stop took too long.
    sim.faults.historyDelay('binance', 'BTC/USDT', 60_000);
    const dir = temporaryDir('tickwire-shutdown-');
    await copyPgliteTemplate(join(dir, 'pglite'));
    const { child, exited, stderr, storeReady } = await startAll(defer, sim, dir, {});
    await storeReady;
    assert.doesNotMatch(stderr(), /"msg":"every venue is live"/, 'the history is still on its way');
    child.kill('SIGTERM');
    const [exitCode, signal] = await exited;
    assert.equal(signal, null, stderr());
    assert.doesNotMatch(stderr(), /the stop took longer than shutdownTimeoutMs/);
    assert.equal(exitCode, 0, stderr());
  });
});
