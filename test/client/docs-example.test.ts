/**
 * docs/CLIENT.md's Node example is what a developer copies first: it must run as written (on Node 20, against a
 * real gateway), with `tickwire/client` resolved to this checkout's source.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeBar, makeUpdate, startTestGateway } from '../gateway/helpers.ts';
import { until } from './support.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT_MD = readFileSync(new URL('../../docs/CLIENT.md', import.meta.url), 'utf8');
const SOURCE = pathToFileURL(fileURLToPath(new URL('../../src/client/index.ts', import.meta.url))).href;

/** The first ```js block after the heading `## Node`. */
function nodeExample(): string {
  const section = CLIENT_MD.slice(CLIENT_MD.indexOf('\n## Node\n'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(match?.[1], 'docs/CLIENT.md has a Node example');
  return match[1];
}

describe('docs/CLIENT.md', () => {
  it('the Node example connects to a gateway and prints its live series', async () => {
    const t = await startTestGateway();
    const T0 = Date.UTC(2024, 9, 24, 10);
    for (let i = 0; i < 5; i++) t.publish(makeUpdate(makeBar(T0 + i * 60_000, String(100 + i)), 'closed'));
    const code = nodeExample()
      .replaceAll("'tickwire/client'", `'${SOURCE}'`)
      .replaceAll('ws://localhost:7000/ws', `${t.gateway.url}/ws`);
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(
        () =>
          output.includes('5 bars, last 2024-10-24T10:04:00.000Z close 104 live') || child.exitCode !== null,
        'the series',
        60_000,
      );
      assert.match(output, /connection: connected via websocket/);
      assert.match(output, /5 bars, last 2024-10-24T10:04:00\.000Z close 104 live/);
    } finally {
      child.kill();
      await exited;
      await t.close();
    }
  });
});
