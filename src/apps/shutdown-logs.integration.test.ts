import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/** More than a pipe takes at once: most are still in the logger's buffer when the second signal comes. */
const LINES = 20_000;

/**
 * Runs second-signal.test-support.ts, sends it the first SIGTERM and, once it has logged its lines, the second;
 * returns its exit code and the messages of its stderr. With `readerPausedMs`, stderr is not read from the start
 * until that long after the lines were logged, then the second signal is sent and reading resumes.
 */
async function stopTwice(readerPausedMs?: number): Promise<{ code: number | null; messages: string[] }> {
  const script = fileURLToPath(new URL('./second-signal.test-support.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(LINES)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stderr.setEncoding('utf8');
  const read = (): void => void child.stderr.on('data', (chunk: string) => chunks.push(chunk));
  if (readerPausedMs === undefined) read();
  const stderrEnded = once(child.stderr, 'end');
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  let stdout = '';
  child.stdout.setEncoding('utf8');
  const logged = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout === 'ready\n') child.kill('SIGTERM');
      if (stdout.endsWith('logged\n')) resolve();
    });
  });
  await logged;
  if (readerPausedMs !== undefined) await sleep(readerPausedMs);
  child.kill('SIGTERM');
  if (readerPausedMs !== undefined) read();
  const [code] = await exited;
  await stderrEnded;
  const messages = chunks
    .join('')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
  return { code, messages };
}

function assertEveryLine(run: { code: number | null; messages: string[] }): void {
  assert.equal(run.code, 143);
  assert.equal(run.messages[0], 'stopping');
  assert.equal(run.messages.filter((m) => m === 'stopping work').length, LINES);
  assert.equal(run.messages.at(-1), 'second signal: exiting at once');
}

describe('a second SIGTERM', () => {
  it('exits 143 at once without losing the JSON log lines already taken', async () => {
    assertEveryLine(await stopTwice());
  });

  it("loses no line when stderr's pipe was full: the write that waits to retry is written before the exit", async () => {
    // stderr is non-blocking once anything touches process.stderr (the logger does), so a write into the full
    // pipe fails with EAGAIN and waits for a retry while the reader is paused; the second signal then finds it so.
    assertEveryLine(await stopTwice(300));
  });
});
