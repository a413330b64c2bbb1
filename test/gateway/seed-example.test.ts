import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { makeBar, makeUpdate, startTestGateway, waitFor } from './helpers.ts';
import { SEED_CLIENT_EXAMPLE } from './seed-client-example.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIVE_MIN = 5 * 60_000;
const T0 = Date.UTC(2024, 9, 24, 10, 0);

/**
 * The example never sends a ping; this harness, evaluated in the same module before the example's body, makes
 * its socket send one right after its subscribe so that the example's `pong` branch runs. The example's text is
 * untouched.
 */
const PING_AFTER_FIRST_SEND = `import { WebSocket as HarnessSocket } from 'ws';
const harnessSend = HarnessSocket.prototype.send;
let harnessPinged = false;
HarnessSocket.prototype.send = function (...args) {
  harnessSend.apply(this, args);
  if (!harnessPinged) {
    harnessPinged = true;
    harnessSend.call(this, JSON.stringify({ type: 'ping' }));
  }
};
`;

describe('the API document client example', () => {
  it('receives initial then updates, handles pong, and sees the server close', async () => {
    const t = await startTestGateway({ throttleMs: 50 });
    for (let i = 0; i < 3; i++) t.store.put('BTC/USDT', '5m', makeBar(T0 + i * FIVE_MIN, `6723${i}.5`, 10));

    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', PING_AFTER_FIRST_SEND + SEED_CLIENT_EXAMPLE],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, TICKWIRE_SEED_URL: t.gateway.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');

    try {
      await waitFor(
        () => stdout.includes('Received 3 initial candles') && stdout.includes('Pong received'),
        10_000,
      );
      t.publish(makeUpdate(makeBar(T0 + 2 * FIVE_MIN, '67310.25', 11), 'live', 'BTC/USDT', '5m'));
      await waitFor(() => stdout.includes('Candle update:'), 5000, 'an update in the example output');
      t.publish(makeUpdate(makeBar(T0 + 3 * FIVE_MIN, '67400.75', 1), 'live', 'BTC/USDT', '5m'));
      await waitFor(() => stdout.includes('67400.75'), 5000, 'the second update');
    } finally {
      await t.close();
    }
    const [code] = await exited;

    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const at = (text: string): number => {
      const i = stdout.indexOf(text);
      assert.notEqual(i, -1, `missing "${text}" in:\n${stdout}`);
      return i;
    };
    assert.ok(at('Connected to WebSocket') < at('Received 3 initial candles'));
    assert.ok(at('Received 3 initial candles') < at('Candle update:'));
    assert.ok(at("time: '2024-10-24T10:10:00.000Z'") > at('Received 3 initial candles'));
    assert.ok(at('close: 67310.25') < at('close: 67400.75'));
    assert.ok(at('Pong received') > 0);
    assert.ok(at('Disconnected from WebSocket') > at('close: 67400.75'));
  });
});
