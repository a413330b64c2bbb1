/**
 * The gateway serves the built dashboard on its one port beside the WebSocket and the HTTP API: a fixture
 * directory stands for Vite's output here (test/browser/ opens the real one in Chromium).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { startGateway, type Gateway } from '../../src/gateway/gateway.ts';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { TestClient, testConfig } from './helpers.ts';

const INDEX =
  '<!doctype html><title>Tickwire</title><script type="module" src="/assets/index-Qw3rTy12.js"></script>';
const SCRIPT = 'export const dashboard = true;\n';

describe('gateway: the dashboard at /', () => {
  let dir: string;
  let gateway: Gateway;
  let http: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tickwire-dashboard-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'assets', 'index-Qw3rTy12.js'), SCRIPT);
    gateway = await startGateway({
      config: testConfig({ apiRateLimit: 2 }),
      bus: new MemoryBus(),
      store: new MemoryCandleStore(),
      logger: silentLogger(),
      dashboardDir: dir,
    });
    http = gateway.url.replace(/^ws/, 'http');
  });
  after(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page and its assets on the API port, and the API routes as before', async () => {
    const page = await fetch(`${http}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await page.text(), INDEX);
    const script = await fetch(`${http}/assets/index-Qw3rTy12.js`);
    assert.equal(script.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(await script.text(), SCRIPT);
    const health = await fetch(`${http}/health`);
    assert.equal(health.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.ok('uptimeMs' in ((await health.json()) as object));
    const unknownApi = await fetch(`${http}/api/index.html`);
    assert.equal(unknownApi.status, 404, 'nothing below /api/ is a file');
    assert.deepEqual(await unknownApi.json(), { error: 'Not found' });
  });

  it('answers a method other than GET and HEAD 405, naming the allowed ones', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const answer = await fetch(`${http}/index.html`, { method });
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.get('allow'), 'GET, HEAD');
    }
    const head = await fetch(`${http}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('keeps WebSocket upgrades on / and /ws, from the page itself', async () => {
    for (const path of ['/', '/ws']) {
      const client = await TestClient.connect(`${gateway.url}${path}`, { origin: http });
      client.send({ type: 'ping' });
      assert.deepEqual(await client.nextOfType('pong'), { type: 'pong' });
      client.close();
    }
  });

  it('does not count the page and its assets against the /api/ rate limit', async () => {
    let limited = false;
    for (let i = 0; i < 5 && !limited; i++) limited = (await fetch(`${http}/api/candles`)).status === 429;
    assert.ok(limited, 'the /api/ limit of 2 is reached');
    for (let i = 0; i < 5; i++) {
      const page = await fetch(`${http}/`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('ratelimit-limit'), null);
      await page.text();
      const script = await fetch(`${http}/assets/index-Qw3rTy12.js`);
      assert.equal(script.status, 200);
      await script.text();
    }
  });
});

describe('gateway: no dashboard directory given', () => {
  it('serves no page: / is not found, as any unknown path', async () => {
    const gateway = await startGateway({
      config: testConfig(),
      bus: new MemoryBus(),
      store: new MemoryCandleStore(),
      logger: silentLogger(),
    });
    try {
      const answer = await fetch(gateway.url.replace(/^ws/, 'http') + '/');
      assert.equal(answer.status, 404);
      assert.deepEqual(await answer.json(), { error: 'Not found' });
    } finally {
      await gateway.close();
    }
  });
});
