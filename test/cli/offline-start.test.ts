/**
 * `tickwire all` with every venue unreachable, as a user without internet sees it: the API answers and the banner
 * prints at once (history waits in the background), and the log stays readable: one line per event, no stack
 * traces for refused connections, repeated failures summarized with a count.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { copyPgliteTemplate } from '../../src/store/pglite-dirs.test-support.ts';
import { freePort } from '../support/free-port.ts';
import { tickwireArgs } from '../support/tickwire-command.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A venue's summary of its repeated failures: counted, not one line per attempt. */
const SUMMARY = /(binance|okx|bitget)[^\n]*: still (unreachable|failing|not loaded)[^\n]*\(\d+ attempts/;

describe('tickwire all with the venues unreachable', () => {
  it('answers at once and logs a bounded number of readable lines with a summary of the retries', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-offline-'));
    await copyPgliteTemplate(join(dataDir, 'pglite'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'info',
      VENUES: 'binance,okx,bitget',
    };
    for (const venue of ['BINANCE', 'OKX', 'BITGET', 'DYDX']) {
      env[`${venue}_WS_URL`] = `ws://127.0.0.1:${port}`;
      env[`${venue}_REST_URL`] = `http://127.0.0.1:${port}`;
    }
    const child = spawn(process.execPath, tickwireArgs('all'), {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await until(() => stdout.includes('Tickwire is running'), 60_000, 'the banner while no venue answers');
      const health = /health (http:\/\/\S+\/health)/.exec(stdout)?.[1];
      assert.ok(health, stdout);
      const answer = await fetch(health);
      assert.ok(answer.status === 200 || answer.status === 503, `health answered ${answer.status}`);
      // Waits for the summary asserted below: another summary (a history retry's) may come first on a slow machine.
      await until(() => SUMMARY.test(stderr), 90_000, 'a summary line');
    } finally {
      child.kill('SIGINT');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }

    const lines = stderr.split('\n').filter((l) => l !== '');
    const report = `\n--- stderr (${lines.length} lines) ---\n${stderr}`;
    assert.ok(lines.length <= 60, `at most 60 lines, got ${lines.length}${report}`);
    for (const line of lines) {
      assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} (INFO|WARN|ERROR) /, `one readable line per event${report}`);
    }
    assert.ok(!/^\s+at /m.test(stderr), `no stack trace${report}`);
    assert.ok(!stderr.includes('"level"'), `no JSON${report}`);
    // Each venue's refused stream is told once (OKX keeps two connections), not once per attempt.
    for (const venue of ['binance', 'okx', 'bitget']) {
      const first = lines.filter((l) => l.includes(`${venue}: stream unreachable`)).length;
      assert.ok(first >= 1 && first <= 2, `${venue}: ${first} first-failure lines${report}`);
    }
    assert.match(stderr, SUMMARY);
    // The start-up history (a few requests per instrument) is retried, and says so; the older history, whose
    // progress is logged in lines of its own, loads only once an instrument is live.
    assert.match(stderr, /BTC\/USDT: history not loaded; retrying in \d+ s/);
    assert.ok(!stderr.includes('loading history: up to'), `no older history before going live${report}`);
  });
});
