import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/** More than a pipe takes at once: most are still in the logger's buffer when the second signal comes. */
const LINES = 20_000;

describe('a second SIGTERM', () => {
  it('exits 143 at once without losing the JSON log lines already written', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./second-signal.test-support.ts', import.meta.url)),
        String(LINES),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => void (stderr += chunk));
    const stderrEnded = once(child.stderr, 'end');
    child.stdout.setEncoding('utf8');
    const [ready] = (await once(child.stdout, 'data')) as [string];
    assert.equal(ready, 'ready\n');
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    child.kill('SIGTERM');
    const [code] = await exited;
    await stderrEnded;
    assert.equal(code, 143);
    const messages = stderr
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    assert.equal(messages[0], 'stopping');
    assert.equal(messages.filter((m) => m === 'stopping work').length, LINES);
    assert.equal(messages.at(-1), 'second signal: exiting at once');
  });
});
