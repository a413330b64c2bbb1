/**
 * The README's quick start is what a new user copies first: its client snippets must work on the Node version we
 * support (20), and the demo banner it shows must be the one the CLI prints.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { demoBanner } from '../../src/apps/cli.ts';
import { VENUES } from '../../src/domain/instrument.ts';
import { makeBar, startTestGateway, waitFor } from '../gateway/helpers.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The fenced blocks of the README with their language tag. */
function codeBlocks(markdown: string): { lang: string; body: string }[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] ?? '',
    body: m[2] ?? '',
  }));
}

/** Runs a README snippet in Node (this one: 20 in CI) against `url` and resolves with its output once it shows `initial`. */
async function runSnippet(source: string, url: string, nodeFlags: string[] = []): Promise<string> {
  const code = source.replaceAll('ws://localhost:7000', url);
  const child = spawn(process.execPath, [...nodeFlags, '--input-type=module', '-e', code], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await waitFor(() => /type: 'initial'/.test(output) || child.exitCode !== null, 15_000, 'initial');
  } finally {
    child.kill();
    await exited;
  }
  return output;
}

describe('README quick start', () => {
  it('the Node snippet receives `initial` on Node 20, and so does the browser snippet with its flag', async () => {
    const t = await startTestGateway();
    try {
      const MINUTE = 60_000;
      const start = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * MINUTE;
      for (let i = 0; i < 3; i++) t.store.put('BTC/USDT', '1m', makeBar(start + i * MINUTE, `6700${i}.5`));
      const js = codeBlocks(README).filter((b) => b.lang === 'js' && b.body.includes('ws://localhost:7000'));
      const node = js.find((b) => b.body.includes("from 'ws'"));
      const browser = js.find((b) => !b.body.includes('import '));
      assert.ok(node, 'the README shows a snippet for Node 20 (with the ws package)');
      assert.ok(browser, 'the README shows the browser snippet');

      const fromNode = await runSnippet(node.body, t.gateway.url);
      assert.match(fromNode, /type: 'initial'/, fromNode);
      assert.match(fromNode, /67002\.5/, fromNode);

      if (README.includes('--experimental-websocket')) {
        const fromBrowserSnippet = await runSnippet(browser.body, t.gateway.url, [
          '--experimental-websocket',
        ]);
        assert.match(fromBrowserSnippet, /type: 'initial'/, fromBrowserSnippet);
      }
    } finally {
      await t.close();
    }
  });

  it("shows the demo's banner as the CLI prints it (ports aside)", () => {
    const block = codeBlocks(README).find((b) => b.body.startsWith('Tickwire demo is running'));
    assert.ok(block, 'the README shows the demo banner');
    const printed = demoBanner({
      venues: [...VENUES],
      symbols: ['BTC/USDT', 'BTC/USD'],
      wsUrl: 'ws://127.0.0.1:7000',
      simulatorPort: 7100,
    });
    const ports = (text: string): string => text.trimEnd().replace(/:\d{2,5}\b/g, ':PORT');
    assert.equal(ports(block.body), ports(printed));
  });
});
