import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../telemetry/logger.ts';
import { DASHBOARD_NOT_BUILT_TEXT, staticFiles } from './static-files.ts';
import { pathOf } from './request-url.ts';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-B1x9Qa7c.js"></script></head></html>';
const SCRIPT = 'console.log("dashboard");\n';
const SECRET = 'TOP SECRET: outside the dashboard';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A request with its path sent exactly as written: fetch() and URL would resolve `..` and `%2e%2e` before
 * sending, and the point is to see what the server does with them.
 */
function raw(port: number, path: string, o: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function serveDir(root: string): Promise<{ server: Server; port: number }> {
  const files = staticFiles({ root, logger: silentLogger() });
  const server = createServer((req, res) => files(req, res, pathOf(req.url)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('staticFiles over HTTP', () => {
  let dir: string;
  let server: Server;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tickwire-static-'));
    const root = join(dir, 'dashboard');
    await mkdir(join(root, 'assets'), { recursive: true });
    await mkdir(join(root, 'empty-dir'));
    await mkdir(join(dir, 'dashboard-evil'));
    await writeFile(join(root, 'index.html'), INDEX);
    await writeFile(join(root, 'assets', 'index-B1x9Qa7c.js'), SCRIPT);
    await writeFile(join(root, '.env'), SECRET);
    await writeFile(join(dir, 'secret.txt'), SECRET);
    await writeFile(join(dir, 'dashboard-evil', 'x.js'), SECRET);
    await symlink(join(dir, 'secret.txt'), join(root, 'link-out.txt'));
    await symlink(join(dir, 'dashboard-evil'), join(root, 'assets', 'sibling'));
    ({ server, port } = await serveDir(root));
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with its type, no-cache, and the page security headers', async () => {
    const page = await raw(port, '/', { headers: { host: 'localhost:7000' } });
    assert.equal(page.status, 200);
    assert.equal(page.body, INDEX);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.match(
      String(page.headers['content-security-policy']),
      /connect-src 'self' ws:\/\/localhost:7000 wss:\/\/localhost:7000/,
    );
    assert.equal((await raw(port, '/index.html')).body, INDEX);
  });

  it('serves a hashed asset as immutable, with its length; HEAD gives the headers alone', async () => {
    const script = await raw(port, '/assets/index-B1x9Qa7c.js');
    assert.equal(script.status, 200);
    assert.equal(script.body, SCRIPT);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(script.headers['content-length'], String(Buffer.byteLength(SCRIPT)));
    const head = await raw(port, '/assets/index-B1x9Qa7c.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(SCRIPT)));
  });

  it('answers 304 to a request that already holds the current version', async () => {
    const first = await raw(port, '/');
    const etag = first.headers.etag;
    assert.ok(etag);
    const again = await raw(port, '/', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal((await raw(port, '/', { headers: { 'if-none-match': 'W/"other"' } })).status, 200);
  });

  it('answers 404 for a missing file and for a directory', async () => {
    for (const path of ['/missing.js', '/assets/index-00000000.js', '/empty-dir', '/assets']) {
      const answer = await raw(port, path);
      assert.equal(answer.status, 404, path);
      assert.deepEqual(JSON.parse(answer.body), { error: 'Not found' }, path);
    }
  });

  it('never serves a file outside the directory, however the path is written', async () => {
    const attempts = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/..%5csecret.txt',
      '/%5c..%5csecret.txt',
      '/..\\secret.txt',
      '//secret.txt',
      `/${encodeURIComponent(join(dir, 'secret.txt'))}`,
      '/.env',
      '/%2eenv',
      '/link-out.txt',
      '/assets/sibling/x.js',
      '/../dashboard-evil/x.js',
      '/index.html%00',
    ];
    for (const path of attempts) {
      const answer = await raw(port, path);
      assert.equal(answer.status, 404, path);
      assert.ok(!answer.body.includes('SECRET'), path);
    }
  });

  it("answers / with a note to run `npm run build` while the directory holds no build, and serves it once it's there", async () => {
    const unbuilt = join(dir, 'not-built-yet');
    const running = await serveDir(unbuilt);
    try {
      const html = await raw(running.port, '/', { headers: { accept: 'text/html,application/xhtml+xml' } });
      assert.equal(html.status, 404);
      assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(html.body, /<code>npm run build<\/code>/);
      const json = await raw(running.port, '/');
      assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(JSON.parse(json.body), { error: 'Not found', message: DASHBOARD_NOT_BUILT_TEXT });
      assert.equal((await raw(running.port, '/assets/index-B1x9Qa7c.js')).status, 404);

      await mkdir(unbuilt);
      await writeFile(join(unbuilt, 'index.html'), INDEX);
      const built = await raw(running.port, '/');
      assert.equal(built.status, 200);
      assert.equal(built.body, INDEX);
    } finally {
      running.server.close();
    }
  });
});
