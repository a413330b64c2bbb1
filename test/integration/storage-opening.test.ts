/**
 * `tickwire all` answers before its history database has opened (creating a first embedded database takes
 * seconds): /health says it is starting, a subscriber gets at once the bars memory holds as a partial `initial`
 * (HISTORY_LOADING) and the live bars as they are built, and once the database is there the whole history. A
 * database that cannot be opened stops the system with that error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startAll } from '../../src/apps/run-all.ts';
import { openDatabase } from '../../src/apps/storage.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { copyPgliteTemplate } from '../../src/store/pglite-dirs.test-support.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { cleanups, eventually, RecordingSocket, roleConfig } from './helpers.ts';

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

async function health(base: string): Promise<{ status: number; body: { status?: string } }> {
  const res = await fetch(`${base}/health`);
  return { status: res.status, body: (await res.json()) as { status?: string } };
}

describe('history database still opening', () => {
  it('the API and live bars do not wait for the database; history arrives whole once it is open', async (t) => {
    const defer = cleanups(t);
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-opening-'));
    defer(() => rmSync(dataDir, { recursive: true, force: true }));
    await copyPgliteTemplate(join(dataDir, 'pglite'));
    const sim = await startSimulator({ symbols: ['BTC/USDT'], seed: 9, historyDays: 1, tradesPerSecond: 10 });
    defer(() => sim.close());
    const held = gate();
    const system = await startAll(roleConfig(sim, { dataDir }), silentLogger(), {
      openDatabase: async (...args) => {
        await held.promise;
        return openDatabase(...args);
      },
    });
    defer(() => system.close());
    // Runs first at the end: a system closes only once its database has opened (or failed to).
    defer(() => held.open());
    const base = system.gateway.url.replace(/^ws/, 'http');

    const client = await RecordingSocket.open(system.gateway.url);
    defer(() => client.close());
    client.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 120 });
    const starting = await health(base);
    assert.equal(starting.status, 503);
    assert.equal(starting.body.status, 'starting', 'the history of the venue is not in yet');
    await eventually(
      () => client.messages.some((m) => m.type === 'initial'),
      10_000,
      'an initial while the database opens',
    );
    const first = client.messages.find((m) => m.type === 'initial') as Record<string, unknown>;
    assert.equal(first['partial'], true, 'what memory holds is not the whole history');
    assert.equal(first['reason'], 'HISTORY_LOADING');
    await eventually(
      () => client.messages.some((m) => m.type === 'update'),
      60_000,
      'live bars while the database is still held back',
    );
    assert.equal(
      client.messages.filter((m) => m.type === 'initial' && m['partial'] !== true).length,
      0,
      'no whole initial before the history is stored',
    );

    held.open();
    await system.live;
    await eventually(
      () =>
        client.messages.some(
          (m) => m.type === 'initial' && m['partial'] !== true && (m['bars'] as unknown[]).length === 120,
        ),
      60_000,
      'the whole history',
    );
    await eventually(async () => (await health(base)).body.status === 'ok', 30_000, '/health ok');
  });

  it('a database that cannot be opened stops the system with its error', async (t) => {
    const defer = cleanups(t);
    const sim = await startSimulator({ symbols: ['BTC/USDT'], seed: 9, historyDays: 1, tradesPerSecond: 10 });
    defer(() => sim.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-opening-'));
    defer(() => rmSync(dataDir, { recursive: true, force: true }));
    const held = gate();
    const system = await startAll(roleConfig(sim, { dataDir }), silentLogger(), {
      openDatabase: async () => {
        await held.promise;
        throw new Error('the data directory is locked by another process');
      },
    });
    defer(() => system.close());
    defer(() => held.open());
    const base = system.gateway.url.replace(/^ws/, 'http');
    assert.equal((await health(base)).status, 503);
    held.open();
    await assert.rejects(system.failed, /locked by another process/);
    await assert.rejects(fetch(`${base}/health`), 'the gateway has closed');
  });
});
