/**
 * The browser the end-to-end suites of test/browser/ drive: Debian's Chromium (.ci/services.sh installs it) under
 * playwright-core, which downloads no browser of its own. One browser per test file, on a fresh profile that is
 * deleted afterwards; what a page reports as broken (an uncaught error, a console error, a request the Content
 * Security Policy refused) is collected for the test to assert on; screenshots are kept as test artifacts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, errors, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** The flags of docs/DASHBOARD.md's browser tests: headless, sandbox-less (containers), and quiet (no network). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where screenshots go: test-artifacts/screenshots (gitignored), for CI to keep with the test report. */
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-artifacts', 'screenshots');

/** A waiting budget for the loaded machines tests run on: a condition is waited for, never a fixed time. */
export const PAGE_TIMEOUT_MS = 60_000;

export interface TestBrowser {
  readonly context: BrowserContext;
  /**
   * What the pages reported as broken so far: uncaught errors, console errors (a refused WebSocket, a
   * Content-Security-Policy violation), requests that failed or were answered 4xx/5xx.
   */
  readonly problems: string[];
  /** A new tab whose problems are collected. */
  newPage(): Promise<Page>;
  /** Saves a PNG of `page` as test-artifacts/screenshots/<name>.png; returns its path. */
  screenshot(page: Page, name: string, path?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Launches Chromium on a fresh profile (a new temporary user-data-dir). Fails, saying how to install it, when
 * Chromium is not there: the suites are part of `npm test` and do not skip.
 */
export async function launchBrowser(
  o: { readonly viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: run .ci/services.sh (apt-get install chromium)`);
  const profile = await mkdtemp(join(tmpdir(), 'tickwire-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: o.viewport ?? { width: 1440, height: 900 },
      // Times are shown in the viewer's zone; a fixed one keeps screenshots alike across machines.
      timezoneId: 'UTC',
      locale: 'en-US',
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(PAGE_TIMEOUT_MS);
  const problems: string[] = [];
  const watch = (page: Page): Page => {
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (message) => {
      // A failed load is reported below with its address (the console's line names none).
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        problems.push(`console error (${new Date().toISOString()}): ${message.text()}`);
    });
    page.on('response', (response) => {
      // Chromium asks every site for /favicon.ico on its own; the page never does.
      if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico')
        problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
    });
    page.on('requestfailed', (request) =>
      problems.push(
        `request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText ?? '?'})`,
      ),
    );
    return page;
  };
  // A persistent context opens with one blank tab; close it so that every page is one the test made.
  await Promise.all(context.pages().map((page) => page.close()));
  return {
    context,
    problems,
    newPage: async () => watch(await context.newPage()),
    async screenshot(page, name) {
      await mkdir(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      try {
        await context.close();
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Waits until `condition` holds in the page (it runs there, with `arg`, checked every 100 ms and on no timer of
 * the test's); on timeout, saves a screenshot `<failure>.png` and rejects naming `what` and the page's state.
 */
export async function waitInPage<Arg>(
  browser: TestBrowser,
  page: Page,
  what: string,
  condition: (arg: Arg) => boolean,
  arg: Arg,
  timeoutMs = PAGE_TIMEOUT_MS,
): Promise<void> {
  try {
    // `arg` crosses into the page as JSON: plain values arrive as they are.
    await page.waitForFunction(condition as (arg: unknown) => boolean, arg as unknown, {
      timeout: timeoutMs,
      polling: 100,
    });
  } catch (err) {
    if (!(err instanceof errors.TimeoutError)) throw err;
    const shot = await browser
      .screenshot(page, `failure-${what.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`)
      .catch(() => 'none');
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what} (screenshot: ${shot}; page problems: ${JSON.stringify(browser.problems)})`,
      { cause: err },
    );
  }
}

/** The value of `attribute` on the element with `data-testid` = `testId` (the first one), or null. */
export function attributeOf(page: Page, testId: string, attribute: string): Promise<string | null> {
  return page.getByTestId(testId).first().getAttribute(attribute);
}
