/**
 * The embedded store's reads run in its worker thread, not in the server's: proven structurally, never by timing.
 * This file must not import PGlite (nor a module that does) so that its main thread starts without it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../telemetry/logger.ts';
import { expected, makeUpdate, plain, uniqueSymbol } from './candle-store.contract.ts';
import { openPgliteCandleStore } from './pglite-candle-store.ts';

/** URLs of the scripts compiled in this thread (a worker's scripts live in its own V8 isolate, not here). */
async function scriptsOfThisThread(): Promise<string[]> {
  const session = new Session();
  session.connect();
  const urls: string[] = [];
  session.on('Debugger.scriptParsed', ({ params }) => urls.push(params.url));
  // Enabling the debugger reports every script compiled so far.
  await session.post('Debugger.enable');
  await session.post('Debugger.disable');
  session.disconnect();
  return urls;
}

const isPglite = (url: string): boolean => url.includes('/@electric-sql/pglite/');

describe('the embedded store in its worker thread', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('serves a 5,000-bar history read from the worker: PGlite never loads in the main thread', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tickwire-pglite-worker-'));
    dirs.push(dir);
    const store = await openPgliteCandleStore({ dataDir: dir, logger: silentLogger() });
    const symbol = uniqueSymbol();
    const updates = Array.from({ length: 5000 }, (_, i) =>
      makeUpdate(symbol, i * 60_000, { close: `${65_000 + i}.12345678`, trades: i }),
    );
    const delay = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await store.write(updates);
      delay.enable();
      const bars = await store.recent(symbol, '1m', 5000);
      delay.disable();
      assert.deepEqual(bars.map(plain), updates.map(expected));
    } finally {
      clearInterval(timer);
      await store.close();
    }
    // Figures for the reader only: the proof is the absence of PGlite below.
    t.diagnostic(`main-thread event-loop delay max during the read: ${(delay.max / 1e6).toFixed(1)} ms`);
    t.diagnostic(`timer ticks while writing and reading: ${ticks}`);

    assert.deepEqual((await scriptsOfThisThread()).filter(isPglite), []);
    // The check sees PGlite once this thread loads it: it cannot pass for want of looking.
    await import('@electric-sql/pglite');
    assert.notDeepEqual((await scriptsOfThisThread()).filter(isPglite), []);
  });
});
