/**
 * A page for the React tests: an entry module bundled by Vite for the browser (React included, in development
 * mode, so StrictMode runs its double effects) and served on loopback (a loopback page may open the gateway's
 * WebSocket) as `/`, an HTML page with `<div id="root">` that loads it.
 */
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type AliasOptions } from 'vite';

const INDEX_HTML =
  '<!doctype html><meta charset="utf-8"><title>tickwire/react</title><div id="root"></div>' +
  '<script type="module" src="/page.js"></script>';

export interface ServedPage {
  /** `http://127.0.0.1:<port>`: open `${origin}/` (with a query the page reads). */
  readonly origin: string;
  close(): Promise<void>;
}

/** Bundles `entry` (bare imports resolved as `alias` says, else from this repository) and serves it. */
export async function servePage(entry: string, alias: AliasOptions = []): Promise<ServedPage> {
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-react-page-'));
  try {
    await build({
      configFile: false,
      logLevel: 'silent',
      resolve: { alias },
      define: { 'process.env.NODE_ENV': JSON.stringify('development') },
      build: {
        outDir: dir,
        emptyOutDir: false,
        minify: false,
        lib: { entry, formats: ['es'], fileName: () => 'page.js' },
      },
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(INDEX_HTML);
      return;
    }
    const file = join(dir, path.replace(/^\/+/, ''));
    if (!file.startsWith(dir) || !file.endsWith('.js') || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/javascript' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
