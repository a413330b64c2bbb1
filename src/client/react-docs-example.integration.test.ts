/**
 * docs/CLIENT.md's React example is what a developer copies to start a page: bundled by Vite as written (with
 * `tickwire/client` and `tickwire/react` resolved to this checkout's source, and the gateway's address in place of
 * the page's own host), it must render a live chart in Chromium against a real gateway.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, type TestBrowser } from '../../test/support/browser.ts';
import { M, makeBar, makeUpdate, startTestGateway, type TestGateway } from '../../test/gateway/helpers.ts';
import { servePage, type ServedPage } from './react-page.test-support.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT_MD = readFileSync(join(REPO_ROOT, 'docs/CLIENT.md'), 'utf8');

/** The first ```js block after the heading of the React section. */
function reactExample(): string {
  const section = CLIENT_MD.slice(CLIENT_MD.indexOf('\n## React'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(match?.[1], 'docs/CLIENT.md has a React example');
  return match[1];
}

/** Bare imports of the example, as an app with the package and React installed resolves them. */
const ALIAS = [
  { find: /^tickwire\/client$/, replacement: join(REPO_ROOT, 'src/client/index.ts') },
  { find: /^tickwire\/react$/, replacement: join(REPO_ROOT, 'src/client/react.ts') },
  { find: /^react$/, replacement: join(REPO_ROOT, 'node_modules/react/index.js') },
  { find: /^react-dom\/client$/, replacement: join(REPO_ROOT, 'node_modules/react-dom/client.js') },
];

describe("docs/CLIENT.md's React example", () => {
  let work = '';
  let gateway: TestGateway;
  let web: ServedPage;
  let browser: TestBrowser;

  before(async () => {
    gateway = await startTestGateway({}, { symbols: ['BTC/USDT'] });
    // Closed bars of the past hour: an `initial` shows them as they are.
    const start = (Math.floor(Date.now() / M) - 60) * M;
    for (let i = 0; i < 5; i++) gateway.publish(makeUpdate(makeBar(start + i * M, `${100 + i}`), 'closed'));
    work = mkdtempSync(join(tmpdir(), 'tickwire-react-example-'));
    const entry = join(work, 'example.js');
    const host = new URL(gateway.gateway.url).host;
    writeFileSync(entry, reactExample().replaceAll('${location.host}', host));
    web = await servePage(entry, ALIAS);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await gateway?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('renders the live series of a gateway', async () => {
    const page = await browser.newPage();
    await page.goto(`${web.origin}/`);
    const chart = page.locator('#root pre');
    await chart.waitFor({ timeout: 60_000 });
    await page.waitForFunction(
      () => /^connected /.test(document.querySelector('#root pre')?.textContent ?? ''),
      undefined,
      { timeout: 60_000, polling: 100 },
    );
    assert.match((await chart.textContent()) ?? '', /^connected –\n5 bars, last change: reset$/);

    gateway.publish(makeUpdate(makeBar((Math.floor(Date.now() / M) - 55) * M, '105'), 'closed'));
    await page.waitForFunction(
      () => /6 bars, last change: append$/.test(document.querySelector('#root pre')?.textContent ?? ''),
      undefined,
      { timeout: 60_000, polling: 100 },
    );
    assert.deepEqual(
      browser.problems.filter((problem) => problem.startsWith('page error')),
      [],
    );
  });
});
