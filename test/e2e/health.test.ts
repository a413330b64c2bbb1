/**
 * GET /health of `tickwire all` tells the truth about the feed: while the venue cannot be reached it answers 503
 * `degraded` naming the instrument without a live source; once the venue is reachable and its history loaded,
 * 200 `ok`, and `ready` once every venue is live.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startAll } from '../../src/apps/run-all.ts';
import { configSchema, DEFAULT_CONFIG } from '../../src/config/config.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { copyPgliteTemplate } from '../../src/store/pglite-dirs.test-support.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { freePort } from '../support/free-port.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

interface Health {
  status: string;
  ready: boolean;
  reasons: string[];
  connectedVenues: string[];
  instruments: { symbol: string; state: string; activeSource: string | null }[];
}

/** Polls GET /health until its status is `status`; the last answer (the test's asserts then say what differs). */
async function healthOnce(url: string, status: string, ms: number): Promise<{ code: number; body: Health }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await fetch(url).catch(() => null);
    const answer = res && { code: res.status, body: (await res.json()) as Health };
    if (answer && (answer.body.status === status || Date.now() > deadline)) return answer;
    if (Date.now() > deadline) throw new Error(`no answer from ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('GET /health, end to end', () => {
  it('answers 503 degraded while the venue is unreachable and 200 ok once its source is live', async (t) => {
    const sim = await startSimulator({ symbols: ['BTC/USDT'], seed: 9, historyDays: 1, tradesPerSecond: 5 });
    t.after(() => sim.close());
    // Binance as Tickwire sees it: through a proxy that refuses every connection until restored.
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: sim.port });
    t.after(() => proxy.close());
    proxy.cut();
    const viaProxy = (u: string): string => u.replace(`:${sim.port}/`, `:${proxy.port}/`);
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-health-'));
    const config = configSchema.parse({
      ...DEFAULT_CONFIG,
      port: await freePort(),
      host: '127.0.0.1',
      venues: ['binance'],
      urls: {
        ...DEFAULT_CONFIG.urls,
        binance: { wsUrl: viaProxy(sim.urls.binance.wsUrl), restUrl: viaProxy(sim.urls.binance.restUrl) },
      },
      failover: { ...DEFAULT_CONFIG.failover, startupGraceMs: 500 },
      storage: { ...DEFAULT_CONFIG.storage, dataDir },
    });
    await copyPgliteTemplate(join(dataDir, 'pglite'));
    // startAll resolves once every venue's history has loaded, which cannot happen while the venue is cut off;
    // the gateway answers meanwhile, on the port chosen here.
    const started = startAll(config, silentLogger());
    t.after(async () => {
      proxy.restore();
      await (await started).close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const url = `http://127.0.0.1:${config.port}/health`;

    let seen = await healthOnce(url, 'degraded', 30_000);
    assert.equal(seen.code, 503);
    assert.equal(seen.body.status, 'degraded');
    assert.deepEqual(seen.body.connectedVenues, []);
    assert.deepEqual(seen.body.reasons, ['BTC/USDT: no live source (binance disconnected)']);
    assert.equal(seen.body.instruments[0]?.state, 'down');
    assert.equal(seen.body.ready, false);

    proxy.restore();
    seen = await healthOnce(url, 'ok', 120_000);
    assert.equal(seen.code, 200, JSON.stringify(seen.body));
    assert.equal(seen.body.status, 'ok');
    assert.deepEqual(seen.body.reasons, []);
    assert.deepEqual(seen.body.connectedVenues, ['binance']);
    assert.deepEqual(seen.body.instruments, [
      {
        symbol: 'BTC/USDT',
        state: 'live',
        activeSource: 'binance',
        liveSources: 1,
        connectedSources: 1,
        totalSources: 1,
      },
    ]);
    // Every venue (the one here) live: the system says so once, and /health with it.
    await (
      await started
    ).ready;
    seen = await healthOnce(url, 'ok', 10_000);
    assert.equal(seen.body.ready, true);
  });
});
