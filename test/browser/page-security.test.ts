/**
 * The page the gateway serves, as Chromium takes it: a fixture page stands for the dashboard and checks what the
 * security headers allow. Its own module script runs and reaches the gateway's WebSocket on the page's own origin;
 * an inline script, a remote fetch and a remote WebSocket are refused by the Content-Security-Policy.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { startGateway } from '../../src/gateway/gateway.ts';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { testConfig } from '../gateway/helpers.ts';
import { launchBrowser, waitInPage } from '../support/browser.ts';

const INDEX = `<!doctype html>
<html><head><meta charset="utf-8"><title>fixture</title>
<script type="module" src="./assets/app-Ab12Cd34.js"></script>
<script>document.documentElement.dataset.inline = 'ran';</script>
</head><body data-pong="waiting"></body></html>`;

/** Records every refusal of the policy, then tries what the page may and may not do. */
const APP = `
const refused = [];
document.addEventListener('securitypolicyviolation', (e) => {
  refused.push(e.violatedDirective + ' ' + e.blockedURI);
  document.body.dataset.refused = JSON.stringify(refused);
});
const ws = new WebSocket('ws://' + location.host + '/ws');
ws.onopen = () => ws.send(JSON.stringify({ type: 'ping' }));
ws.onmessage = (e) => { if (JSON.parse(e.data).type === 'pong') document.body.dataset.pong = 'received'; };
fetch('http://198.51.100.7/exfiltrate').then(
  () => (document.body.dataset.remoteFetch = 'allowed'),
  () => (document.body.dataset.remoteFetch = 'refused'),
);
try { new WebSocket('wss://198.51.100.7/feed'); document.body.dataset.remoteSocket = 'allowed'; }
catch { document.body.dataset.remoteSocket = 'refused'; }
`;

describe('the served page in Chromium', () => {
  it("runs its own module, reaches its own origin's WebSocket, and is refused everything remote", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tickwire-page-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'assets', 'app-Ab12Cd34.js'), APP);
    const gateway = await startGateway({
      config: testConfig(),
      bus: new MemoryBus(),
      store: new MemoryCandleStore(),
      logger: silentLogger(),
      dashboardDir: dir,
    });
    t.after(() => gateway.close());
    const browser = await launchBrowser();
    t.after(() => browser.close());

    const page = await browser.newPage();
    const response = await page.goto(`http://127.0.0.1:${gateway.port}/`);
    assert.equal(response?.status(), 200);
    await waitInPage(
      browser,
      page,
      'the pong over the WebSocket',
      () => document.body.dataset['pong'] === 'received',
      null,
    );
    await waitInPage(
      browser,
      page,
      'the remote fetch and socket to be refused',
      () =>
        document.body.dataset['remoteFetch'] !== undefined &&
        document.body.dataset['remoteSocket'] !== undefined,
      null,
    );
    const seen = await page.evaluate(() => ({
      inline: document.documentElement.dataset['inline'] ?? 'blocked',
      remoteFetch: document.body.dataset['remoteFetch'],
      refused: JSON.parse(document.body.dataset['refused'] ?? '[]') as string[],
    }));
    assert.equal(seen.inline, 'blocked', 'an inline script does not run');
    assert.equal(seen.remoteFetch, 'refused');
    assert.ok(
      seen.refused.some((r) => r.startsWith('connect-src http://198.51.100.7')),
      `the remote fetch is refused by connect-src: ${JSON.stringify(seen.refused)}`,
    );
    assert.ok(
      seen.refused.some((r) => r.startsWith('connect-src wss://198.51.100.7')),
      `the remote socket is refused by connect-src: ${JSON.stringify(seen.refused)}`,
    );
    // The inline script ran (or not) before the module could listen: Chromium's console says why it did not.
    assert.ok(
      browser.problems.some((p) => /inline script violates .*script-src 'self'/.test(p)),
      JSON.stringify(browser.problems),
    );
    await browser.screenshot(page, 'page-security-fixture');
  });
});
