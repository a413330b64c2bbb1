import { open, realpath, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import type { Logger } from '../telemetry/logger.ts';
import { pageSecurityHeaders } from './page-security.ts';

/**
 * Serves the built dashboard (Vite's output, docs/DASHBOARD.md) from one directory: `/` is its index.html, every
 * other path a file below the directory or 404. Only regular files inside the directory are ever read: a path
 * with `..`, a dot-file, an encoded separator or a symbolic link out of the directory is not found. When the
 * directory has no index.html (sources run before `npm run build`), `/` answers a note saying so.
 */
export interface StaticFilesOptions {
  /** The directory of the built files (dist/dashboard). It may appear, or be rebuilt, while the gateway runs. */
  readonly root: string;
  readonly logger: Logger;
}

/** Answers a GET or HEAD of `path` (the request's path without its query). */
export type StaticFiles = (req: IncomingMessage, res: ServerResponse, path: string) => void;

export const INDEX_FILE = 'index.html';

/** What `/` says when the dashboard is not built. */
export const DASHBOARD_NOT_BUILT_TEXT =
  'The dashboard is not built: run `npm run build` (it compiles dist/ and builds the dashboard into dist/dashboard/), then reload.';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

/** Vite names every built asset `assets/<name>-<hash>.<ext>`: a new build gives a changed file a new name. */
const HASHED_ASSET = /^assets\/(?:[^/]+\/)*[^/]+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and unhashed files: kept, but asked again (cheaply, by ETag) on every use. */
const REVALIDATE = 'no-cache';

/**
 * The file a URL path names, as path segments below the root, or undefined when it names none that may be
 * served: `/` is the index; each segment is percent-decoded once and must be a plain name (not empty, not
 * starting with a dot, with no separator, NUL or drive colon once decoded).
 */
export function staticFileSegments(path: string): string[] | undefined {
  if (path === '/') return [INDEX_FILE];
  if (!path.startsWith('/')) return undefined;
  const segments: string[] = [];
  for (const raw of path.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '' || segment.startsWith('.') || /[/\\\0:]/.test(segment)) return undefined;
    segments.push(segment);
  }
  return segments;
}

/** The Cache-Control of a file, by its path below the root (`/`-separated). */
export function cacheControlOf(relativePath: string): string {
  return HASHED_ASSET.test(relativePath) ? IMMUTABLE : REVALIDATE;
}

/** The Content-Type of a file, by its extension. */
export function contentTypeOf(fileName: string): string {
  return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

export function staticFiles(o: StaticFilesOptions): StaticFiles {
  const root = resolve(o.root);
  return (req, res, path) => {
    void serveFile(req, res, root, path).catch((err: unknown) => {
      o.logger.warn({ err, path }, 'gateway: static file failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal error' });
      else res.destroy();
    });
  };
}

async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  path: string,
): Promise<void> {
  const segments = staticFileSegments(path);
  if (segments === undefined) return sendJson(res, 404, { error: 'Not found' });
  const isIndex = segments.length === 1 && segments[0] === INDEX_FILE;
  const file = join(root, ...segments);
  const handle = await openInside(root, file);
  if (handle === undefined)
    return isIndex ? sendNotBuilt(req, res) : sendJson(res, 404, { error: 'Not found' });
  let streaming = false;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return sendJson(res, 404, { error: 'Not found' });
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      ...pageSecurityHeaders(req.headers.host),
      'content-type': contentTypeOf(file),
      'cache-control': cacheControlOf(segments.join('/')),
      etag,
      'last-modified': stat.mtime.toUTCString(),
    };
    if (matchesEtag(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': stat.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    streaming = true;
    const stream = handle.createReadStream();
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  } finally {
    // The read stream closes the handle when it ends; every other way out closes it here.
    if (!streaming) await handle.close();
  }
}

/**
 * Opens `file` when it lies inside `root` once every symbolic link is followed; undefined when it is missing or
 * outside (both are "not found" to the client).
 */
async function openInside(root: string, file: string): Promise<FileHandle | undefined> {
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(file), realpath(root)]);
  } catch {
    return undefined;
  }
  if (!real.startsWith(realRoot + sep)) return undefined;
  try {
    return await open(real, 'r');
  } catch {
    return undefined;
  }
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || `W/${t}` === etag;
  });
}

/** `/` before the dashboard is built: an HTML note for a browser, JSON for anything else. */
function sendNotBuilt(req: IncomingMessage, res: ServerResponse): void {
  const headers = { ...pageSecurityHeaders(req.headers.host), 'cache-control': 'no-store' };
  if ((req.headers.accept ?? '').includes('text/html')) {
    const html =
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tickwire: dashboard not built</title></head>' +
      `<body><h1>Tickwire</h1><p>${DASHBOARD_NOT_BUILT_TEXT.replace(/`([^`]+)`/g, '<code>$1</code>')}</p>` +
      '<p>The API answers meanwhile: <a href="/health">/health</a>.</p></body></html>';
    res.writeHead(404, {
      ...headers,
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
    });
    res.end(html);
    return;
  }
  sendJson(res, 404, { error: 'Not found', message: DASHBOARD_NOT_BUILT_TEXT }, headers);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = { 'x-content-type-options': 'nosniff' },
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
