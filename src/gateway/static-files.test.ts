import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pageSecurityHeaders } from './page-security.ts';
import { cacheControlOf, contentTypeOf, staticFileSegments } from './static-files.ts';

describe('staticFileSegments', () => {
  it('names the index for `/` and plain names below the root for other paths', () => {
    assert.deepEqual(staticFileSegments('/'), ['index.html']);
    assert.deepEqual(staticFileSegments('/index.html'), ['index.html']);
    assert.deepEqual(staticFileSegments('/assets/index-B1x9Qa7c.js'), ['assets', 'index-B1x9Qa7c.js']);
    assert.deepEqual(staticFileSegments('/assets/my%20logo.svg'), ['assets', 'my logo.svg']);
  });

  it('names no file for a path that could leave the root or reach a hidden file', () => {
    const refused = [
      '/..',
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%5c..%5csecret.txt',
      '/.env',
      '/assets/.hidden',
      '/./index.html',
      '//etc/passwd',
      '/assets/',
      '/index.html%00.js',
      '/C:%5cWindows',
      '/%E0%A4%A',
      'index.html',
      '',
    ];
    for (const path of refused) assert.equal(staticFileSegments(path), undefined, path);
  });
});

describe('cacheControlOf', () => {
  it('lets browsers keep hashed assets for good and revalidate everything else', () => {
    assert.equal(cacheControlOf('assets/index-B1x9Qa7c.js'), 'public, max-age=31536000, immutable');
    assert.equal(cacheControlOf('assets/index-Dk_3-zQ9.css'), 'public, max-age=31536000, immutable');
    assert.equal(cacheControlOf('assets/fonts/inter-AbCd1234.woff2'), 'public, max-age=31536000, immutable');
    assert.equal(cacheControlOf('index.html'), 'no-cache');
    assert.equal(cacheControlOf('favicon.svg'), 'no-cache');
    assert.equal(cacheControlOf('assets/logo.svg'), 'no-cache');
    assert.equal(cacheControlOf('app-B1x9Qa7c.js'), 'no-cache', 'only Vite’s assets/ directory is hashed');
  });
});

describe('contentTypeOf', () => {
  it('types the files a Vite build makes, and anything else as bytes', () => {
    assert.equal(contentTypeOf('index.html'), 'text/html; charset=utf-8');
    assert.equal(contentTypeOf('index-B1x9Qa7c.js'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeOf('index-B1x9Qa7c.CSS'), 'text/css; charset=utf-8');
    assert.equal(contentTypeOf('index.js.map'), 'application/json; charset=utf-8');
    assert.equal(contentTypeOf('logo.svg'), 'image/svg+xml');
    assert.equal(contentTypeOf('font.woff2'), 'font/woff2');
    assert.equal(contentTypeOf('data.bin'), 'application/octet-stream');
    assert.equal(contentTypeOf('README'), 'application/octet-stream');
  });
});

describe('pageSecurityHeaders', () => {
  const directives = (host: string | undefined): Map<string, string> =>
    new Map(
      (pageSecurityHeaders(host)['content-security-policy'] ?? '').split('; ').map((d) => {
        const space = d.indexOf(' ');
        return [d.slice(0, space), d.slice(space + 1)];
      }),
    );

  it("lets the page load only its own files and connect only to its own origin's HTTP, ws and wss", () => {
    const csp = directives('localhost:7000');
    assert.equal(csp.get('default-src'), "'self'");
    assert.equal(csp.get('script-src'), "'self'");
    assert.equal(csp.get('connect-src'), "'self' ws://localhost:7000 wss://localhost:7000");
    assert.equal(csp.get('object-src'), "'none'");
    assert.equal(csp.get('frame-ancestors'), "'none'");
    for (const [name, value] of csp) assert.doesNotMatch(value, /https?:|\*|unsafe-/, name);
    assert.equal(pageSecurityHeaders('localhost:7000')['x-content-type-options'], 'nosniff');
    assert.equal(directives('[::1]:7000').get('connect-src'), "'self' ws://[::1]:7000 wss://[::1]:7000");
  });

  it('never repeats a malformed Host inside the policy', () => {
    for (const host of [undefined, '', 'evil.example; script-src *', 'a b', 'x:7000/path', '*']) {
      assert.equal(directives(host).get('connect-src'), "'self'", String(host));
    }
  });
});
