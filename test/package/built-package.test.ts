/**
 * The package as npm ships it: `npm run build` compiles the sources, `npm pack` keeps what `files` lists, and in
 * a project that has the tarball installed (with the production dependencies only) the `tickwire` command
 * answers, and `tickwire` and `tickwire/protocol` import by name, with types. Everything happens in a temporary
 * folder: the repository's own dist/ is left as it is.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MANIFEST = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  readonly files: readonly string[];
  readonly dependencies: Readonly<Record<string, string>>;
};
/** What decides the tarball's contents besides `files`; copied to the staging folder when present. */
const PACKING_FILES = ['package.json', 'README.md', 'LICENSE', '.npmignore', '.gitignore'];

interface PackResult {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

describe('the built package', () => {
  let work = '';
  let packed: readonly string[] = [];
  /** A project with the tarball in node_modules/tickwire and links to the production dependencies only. */
  let project = '';

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tickwire-package-'));
    const stage = join(work, 'stage');
    mkdirSync(stage);
    for (const entry of [...PACKING_FILES, ...MANIFEST.files.filter((f) => f !== 'dist')]) {
      if (existsSync(join(REPO_ROOT, entry)))
        cpSync(join(REPO_ROOT, entry), join(stage, entry), { recursive: true });
    }
    // `npm run typecheck` checks the sources; without checking again, the build emits the same files sooner.
    await run('npm', ['run', 'build', '--', '--outDir', join(stage, 'dist'), '--noCheck'], {
      cwd: REPO_ROOT,
    });
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: stage,
    });
    const [result] = JSON.parse(stdout) as PackResult[];
    assert.ok(result, stdout);
    packed = result.files.map((f) => f.path);

    project = join(work, 'project');
    const installed = join(project, 'node_modules', 'tickwire');
    mkdirSync(installed, { recursive: true });
    await run('tar', ['-xzf', join(work, result.filename), '-C', installed, '--strip-components=1']);
    for (const name of [...Object.keys(MANIFEST.dependencies), '@types/node']) {
      const link = join(project, 'node_modules', name);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(REPO_ROOT, 'node_modules', name), link, 'dir');
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the compiled entry points, the command and the docs, and no tests', () => {
    for (const path of [
      'package.json',
      'bin/tickwire.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/protocol/index.js',
      'dist/protocol/index.d.ts',
      'dist/apps/main.js',
      'docs/PROTOCOL.md',
    ]) {
      assert.ok(packed.includes(path), `${path} is in the package`);
    }
    const strays = packed.filter(
      (p) => /(^|\/)(src|test)\/|\.test\.|test-support|\.contract\.|\.ts$/.test(p) && !p.endsWith('.d.ts'),
    );
    assert.deepEqual(strays, [], 'no sources or tests in the package');
  });

  it('runs the `tickwire` command from dist/ without tsx', async () => {
    const bin = join(project, 'node_modules', 'tickwire', 'bin', 'tickwire.js');
    const { stdout } = await run(process.execPath, [bin, '--help'], { cwd: project });
    assert.match(stdout, /^Usage: tickwire \[role\] \[options\]$/m);
    assert.match(stdout, /^ {2}demo {8}/m);
  });

  it('runs the embedded database in its worker thread from dist/', async () => {
    // The worker's entry is a file of its own, found beside the store at run time: it must be in dist/ too.
    const dist = join(project, 'node_modules', 'tickwire', 'dist');
    const script = `
      const { openPgliteCandleStore } = await import(process.argv[1] + '/store/pglite-candle-store.js');
      const { silentLogger } = await import(process.argv[1] + '/telemetry/logger.js');
      const store = await openPgliteCandleStore({ dataDir: process.argv[2], logger: silentLogger() });
      const d = (coef) => ({ coef, scale: 2 });
      const bar = { time: 60000, open: d(150n), high: d(200n), low: d(100n), close: d(125n), volume: d(3n),
        quoteVolume: d(4n), takerBuyVolume: d(0n), takerBuyQuoteVolume: d(0n), trades: 7 };
      await store.write([{ symbol: 'BTC/USDT', interval: '1m', state: 'closed', sources: ['binance'], bar }]);
      const [read] = await store.recent('BTC/USDT', '1m', 10);
      await store.close();
      console.log(JSON.stringify({ close: String(read.bar.close.coef), trades: read.bar.trades }));`;
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', script, dist, join(work, 'pglite')],
      { cwd: project },
    );
    assert.deepEqual(JSON.parse(stdout), { close: '125', trades: 7 });
  });

  it('imports `tickwire` and `tickwire/protocol` by name', async () => {
    const script = `
      const tickwire = await import('tickwire');
      const protocol = await import('tickwire/protocol');
      const parsed = protocol.parseClientMessage('{"type":"ping"}', {
        symbols: ['BTC/USDT'], maxInitialBars: 10, defaultInitialBars: 5,
      });
      console.log(JSON.stringify({
        tickwire: Object.keys(tickwire).sort(),
        protocol: Object.keys(protocol).sort(),
        port: tickwire.loadConfig({ PORT: '7123' }).port,
        parsed,
      }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
    const seen = JSON.parse(stdout) as {
      tickwire: string[];
      protocol: string[];
      port: number;
      parsed: unknown;
    };
    assert.deepEqual(seen.tickwire, [
      'TickwireError',
      'createLogger',
      'loadConfig',
      'silentLogger',
      'startAll',
    ]);
    assert.deepEqual(seen.protocol, [
      'ACCOUNT_CHANNELS',
      'ACCOUNT_MESSAGE_TYPES',
      'CHANNELS',
      'CLOSE_CODES',
      'DEFAULT_BOOK_DEPTH',
      'ERROR_CODES',
      'MAX_BOOK_DEPTH',
      'parseClientMessage',
    ]);
    assert.equal(seen.port, 7123);
    assert.deepEqual(seen.parsed, { ok: true, message: { type: 'ping' } });
  });

  it('gives a TypeScript project the types of both entry points', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2023',
          strict: true,
          noEmit: true,
          // The dependencies' own declarations are theirs to check (PGlite's need Emscripten's types).
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['use.ts'],
      }),
    );
    writeFileSync(
      join(project, 'use.ts'),
      [
        "import { loadConfig, startAll, type Config, type RunningSystem } from 'tickwire';",
        "import { CLOSE_CODES, parseClientMessage, type ServerMessage, type SubscribeMessage } from 'tickwire/protocol';",
        'const config: Config = loadConfig({});',
        'const port: number = config.port;',
        "const result = parseClientMessage('{}', { symbols: [], maxInitialBars: 1, defaultInitialBars: 1 });",
        'const started: Promise<RunningSystem> | undefined = undefined;',
        'const message: ServerMessage | SubscribeMessage | undefined = undefined;',
        'const away: 1001 = CLOSE_CODES.GOING_AWAY;',
        // The types are real, not `any`: a wrong use is an error.
        '// @ts-expect-error port is a number',
        'const wrong: string = config.port;',
        'export { port, result, started, message, away, wrong, startAll };',
      ].join('\n'),
    );
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', project], { cwd: project }).catch((err: { stdout?: string }) => {
      assert.fail(`the project does not type-check against the package:\n${err.stdout ?? String(err)}`);
    });
  });
});
