/**
 * `tickwire all` loads Redis's and PostgreSQL's client libraries only when it is configured to use them, and the JWT
 * library only when it serves accounts: without them they were about a third of its module loading
 * (docs/PERFORMANCE.md, "Module loading").
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const SCRIPT = fileURLToPath(new URL('./loaded-packages.test-support.ts', import.meta.url));

describe('the packages tickwire all loads', () => {
  it('leaves ioredis, pg and jose unloaded without REDIS_URL, DATABASE_URL and accounts', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SCRIPT], {
      env: {
        PATH: process.env['PATH'] ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        VENUES: 'binance',
        // Nothing listens there: the venue is unreachable, which is enough to start and stop.
        BINANCE_WS_URL: 'ws://127.0.0.1:9/binance',
        BINANCE_REST_URL: 'http://127.0.0.1:9/binance',
      },
    });
    const loaded = JSON.parse(stdout) as string[];
    // The list is the process's: the packages every start uses are in it.
    for (const name of ['ws', 'pino', 'prom-client'])
      assert.ok(loaded.includes(name), `${name} in ${stdout}`);
    assert.ok(!loaded.includes('ioredis'), `no ioredis in ${stdout}`);
    assert.ok(!loaded.includes('pg'), `no pg in ${stdout}`);
    assert.ok(!loaded.includes('jose'), `no jose in ${stdout}`);
  });
});
