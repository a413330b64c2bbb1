/**
 * The package as npm ships it: `npm run build` compiles the sources, `npm pack` keeps what `files` lists, and in
 * a project that has the tarball unpacked (with the production dependencies, and React for `tickwire/react`) the
 * `tickwire` command answers, and every entry point of `exports` (`tickwire`, `tickwire/protocol`,
 * `tickwire/client`, `tickwire/react`) imports by name, with types. Everything happens in a temporary folder
 * (pack.ts): the repository's own dist/ is left as it is. test/package/packed-client.test.ts installs the tarball
 * with npm and connects its client to a gateway.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyPgliteTemplate } from '../../src/store/pglite-dirs.test-support.ts';
import { MANIFEST, REPO_ROOT, TSC, packTickwire, run } from './pack.ts';

describe('the built package', () => {
  let work = '';
  let packed: readonly string[] = [];
  /** A project with the tarball in node_modules/tickwire and links to the production dependencies and React. */
  let project = '';

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tickwire-package-'));
    const result = await packTickwire();
    packed = result.files;

    project = join(work, 'project');
    const installed = join(project, 'node_modules', 'tickwire');
    mkdirSync(installed, { recursive: true });
    await run('tar', ['-xzf', result.tarball, '-C', installed, '--strip-components=1']);
    // React is the optional peer `tickwire/react` needs; its types let the project check that entry point too.
    for (const name of [...Object.keys(MANIFEST.dependencies), '@types/node', 'react', '@types/react']) {
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
      'dist/client/index.js',
      'dist/client/index.d.ts',
      'dist/client/react.js',
      'dist/client/react.d.ts',
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

  it('ships the files every entry point of `exports` names', () => {
    for (const [entry, target] of Object.entries(MANIFEST.exports)) {
      const paths = typeof target === 'string' ? [target] : Object.values(target as Record<string, string>);
      for (const path of paths) {
        assert.ok(packed.includes(path.replace(/^\.\//, '')), `${entry}: ${path} is in the package`);
      }
    }
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
    // An empty database to open, copied from the tests' template: creating one (PGlite's initdb) takes seconds of
    // CPU, and is tested on its own (src/store/pglite-create.integration.test.ts).
    await copyPgliteTemplate(join(work, 'pglite'));
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

  it('imports `tickwire`, `tickwire/protocol`, `tickwire/client` and `tickwire/react` by name', async () => {
    const script = `
      const tickwire = await import('tickwire');
      const protocol = await import('tickwire/protocol');
      const client = await import('tickwire/client');
      const react = await import('tickwire/react');
      const parsed = protocol.parseClientMessage('{"type":"ping"}', {
        symbols: ['BTC/USDT'], maxInitialBars: 10, defaultInitialBars: 5,
      });
      console.log(JSON.stringify({
        tickwire: Object.keys(tickwire).sort(),
        protocol: Object.keys(protocol).sort(),
        client: Object.keys(client).sort(),
        react: Object.keys(react).sort(),
        port: tickwire.loadConfig({ PORT: '7123' }).port,
        parsed,
      }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
    const seen = JSON.parse(stdout) as {
      tickwire: string[];
      protocol: string[];
      client: string[];
      react: string[];
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
    assert.ok(seen.client.includes('TickwireClient'), `tickwire/client exports ${seen.client.join(', ')}`);
    assert.deepEqual(seen.react, [
      'TickwireProvider',
      'useAccount',
      'useAlerts',
      'useBook',
      'useCandles',
      'useConnectionStatus',
      'useTicker',
      'useTickwireClient',
      'useTrades',
    ]);
    assert.equal(seen.port, 7123);
    assert.deepEqual(seen.parsed, { ok: true, message: { type: 'ping' } });
  });

  it('gives a TypeScript project the types of every entry point', async () => {
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
        "import { TickwireClient, type CandleSeriesState, type ConnectionState } from 'tickwire/client';",
        "import { TickwireProvider, useCandles, type CandlesResult } from 'tickwire/react';",
        "const client = new TickwireClient({ url: 'ws://localhost:7000/ws' });",
        "const series: CandleSeriesState = client.candles({ symbol: 'BTC/USDT', interval: '1m' }).get();",
        'const state: ConnectionState = client.status.state;',
        'const provider = TickwireProvider;',
        'const hook: (request: { symbol: string; interval: string }) => CandlesResult = useCandles;',
        // The types are real, not `any`: a wrong use is an error.
        '// @ts-expect-error port is a number',
        'const wrong: string = config.port;',
        '// @ts-expect-error bars are objects, not numbers',
        'const bars: readonly number[] = series.bars;',
        'export { port, result, started, message, away, wrong, startAll, state, provider, hook, bars };',
      ].join('\n'),
    );
    await run(process.execPath, [TSC, '-p', project], { cwd: project }).catch((err: { stdout?: string }) => {
      assert.fail(`the project does not type-check against the package:\n${err.stdout ?? String(err)}`);
    });
  });
});
