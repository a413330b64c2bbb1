/**
 * `tickwire demo` warms the gateway's connection path while its simulator's thread starts, and listens only once
 * the warm-up is done: one warm-up, logged before the gateway listens, and nothing of it left in the real gateway.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { WARM_UP_CONNECTIONS } from '../../src/gateway/gateway.ts';
import { freePort } from '../support/free-port.ts';
import { tickwireArgs } from '../support/tickwire-command.ts';

describe('tickwire demo: connection warm-up', () => {
  it('warms up once, before its gateway listens, and keeps nothing of it', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-demo-warm-up-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const child = spawn(process.execPath, tickwireArgs('demo'), {
      env: {
        PATH: process.env['PATH'] ?? '',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        SYMBOLS: 'BTC/USDT',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    t.after(() => child.kill('SIGKILL'));
    const messages: { msg?: string; connections?: number }[] = [];
    const lines: string[] = [];
    const awaited = new Map<string, () => void>();
    // Resolves once `msg` is logged; rejects if the process ends first.
    const logged = (msg: string): Promise<void> =>
      messages.some((m) => m.msg === msg)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => awaited.set(msg, resolve)),
            exited.then((code) => {
              throw new Error(`exited (${code}) before "${msg}":\n${lines.slice(-10).join('\n')}`);
            }),
          ]);
    createInterface({ input: child.stderr }).on('line', (line) => {
      lines.push(line);
      if (!line.startsWith('{')) return;
      const record = JSON.parse(line) as { msg?: string; connections?: number };
      messages.push(record);
      if (record.msg !== undefined) awaited.get(record.msg)?.();
    });
    await logged('gateway: listening');
    const warmUps = messages.filter((m) => m.msg === 'gateway: connection path warmed up');
    assert.equal(warmUps.length, 1, 'one warm-up, logged before the gateway listened');
    assert.equal(warmUps[0]?.connections, WARM_UP_CONNECTIONS);

    const stats = (await (await fetch(`http://127.0.0.1:${port}/health/ws-stats`)).json()) as {
      connections: number;
      gateway: { connectionsOpened: number; initialsSent: number };
    };
    assert.equal(stats.connections, 0);
    assert.equal(stats.gateway.connectionsOpened, 0);
    assert.equal(stats.gateway.initialsSent, 0);

    // Stopped once its database is open: a stop before then waits for the opening (seconds on a loaded machine).
    await logged('history store ready');
    child.kill('SIGINT');
    assert.equal(await exited, 0, lines.slice(-10).join('\n'));
  });
});
