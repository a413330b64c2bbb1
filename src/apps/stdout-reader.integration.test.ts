import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

describe('stdout whose reader leaves', () => {
  it('ends the process with 0, also when stderr has lost its reader with log lines still queued', async (t) => {
    const script = fileURLToPath(new URL('./stdout-reader.test-support.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    // Both readers leave at once, as when `tickwire … 2>&1 | head` has read enough.
    child.stdout.destroy();
    child.stderr.destroy();
    const [code, signal] = await exited;
    assert.deepEqual([code, signal], [0, null]);
  });
});
