/**
 * `tickwire/client` and `tickwire/react` run in browsers: bundled by Vite for the browser (library mode, React left
 * to the page), they reach no Node built-in, directly or through a dependency, and the bundle imports nothing
 * but React. The lint's import rules check our own files; this checks what a bundler really pulls in. And they
 * type-check with a browser's globals alone, so no Node global (`process`, `Buffer`) hides in them either.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { build, type Plugin, type Rolldown } from 'vite';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRIES = {
  client: join(REPO_ROOT, 'src/client/index.ts'),
  react: join(REPO_ROOT, 'src/client/react.ts'),
};
const NODE_BUILTINS = new Set(builtinModules);
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || NODE_BUILTINS.has(specifier.split('/')[0] ?? specifier);
}

interface BrowserBundle {
  /** Each import of a Node built-in met while bundling: `specifier <- importer`. */
  readonly nodeImports: readonly string[];
  /** Vite's warnings (a Node module it replaced by an empty stub for the browser among them). */
  readonly warnings: readonly string[];
  readonly chunks: readonly Rolldown.OutputChunk[];
}

/** Bundles `entries` as a browser library with React external, as a page's bundler would. */
async function bundleForBrowser(entries: Record<string, string>): Promise<BrowserBundle> {
  const nodeImports: string[] = [];
  const warnings: string[] = [];
  // Sees every import before Vite's own resolution, which would silently stub a Node module for the browser.
  const spotNodeImports: Plugin = {
    name: 'spot-node-imports',
    enforce: 'pre',
    resolveId(specifier, importer) {
      if (isNodeBuiltin(specifier)) nodeImports.push(`${specifier} <- ${importer ?? '(entry)'}`);
      return null;
    },
  };
  const output = await build({
    configFile: false,
    root: REPO_ROOT,
    logLevel: 'silent',
    plugins: [spotNodeImports],
    build: {
      write: false,
      minify: false,
      lib: { entry: entries, formats: ['es'] },
      rollupOptions: {
        external: [/^react($|\/)/],
        onwarn: (warning) => {
          warnings.push(warning.message);
        },
      },
    },
  });
  const outputs = (Array.isArray(output) ? output : [output]) as Rolldown.RolldownOutput[];
  const chunks = outputs
    .flatMap((o) => o.output)
    .filter((c): c is Rolldown.OutputChunk => c.type === 'chunk');
  return { nodeImports, warnings, chunks };
}

describe('the browser bundle of the client library', () => {
  let bundle: BrowserBundle;
  let scratch = '';

  before(async () => {
    bundle = await bundleForBrowser(ENTRIES);
    scratch = mkdtempSync(join(tmpdir(), 'tickwire-bundle-'));
  });

  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('builds both entry points', () => {
    const names = bundle.chunks.filter((c) => c.isEntry).map((c) => c.name);
    assert.deepEqual(names.sort(), ['client', 'react']);
    const client = bundle.chunks.find((c) => c.name === 'client');
    assert.match(client?.code ?? '', /TickwireClient/);
    const react = bundle.chunks.find((c) => c.name === 'react');
    for (const hook of ['useCandles', 'useTicker', 'useBook', 'useAccount', 'TickwireProvider']) {
      assert.ok(react?.exports.includes(hook), `tickwire/react exports ${hook}`);
    }
  });

  it('reaches no Node built-in and imports nothing but React', () => {
    assert.deepEqual(bundle.nodeImports, []);
    assert.deepEqual(
      bundle.warnings.filter((w) => /externalized for browser compatibility/.test(w)),
      [],
    );
    for (const chunk of bundle.chunks) {
      const foreign = [...chunk.imports, ...chunk.dynamicImports].filter(
        (specifier) =>
          !/^react($|\/)/.test(specifier) && !bundle.chunks.some((c) => c.fileName === specifier),
      );
      assert.deepEqual(foreign, [], `${chunk.fileName} imports only React and its sibling chunks`);
      assert.doesNotMatch(
        chunk.code,
        /\bfrom\s*["']node:|\brequire\(/,
        `${chunk.fileName} has no Node import`,
      );
    }
  });

  it('would notice a Node built-in (the check itself works)', async () => {
    const entry = join(scratch, 'uses-node.ts');
    writeFileSync(
      entry,
      "import { EventEmitter } from 'node:events';\nexport const events = new EventEmitter();\n",
    );
    const planted = await bundleForBrowser({ planted: entry });
    assert.deepEqual(planted.nodeImports, [`node:events <- ${entry}`]);
  });

  it("type-checks with a browser's globals alone (no Node types)", async () => {
    const tsconfig = join(scratch, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023', 'DOM'],
          module: 'ESNext',
          moduleResolution: 'Bundler',
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          verbatimModuleSyntax: true,
          skipLibCheck: true,
          types: [],
        },
        files: Object.values(ENTRIES),
      }),
    );
    await promisify(execFile)(process.execPath, [TSC, '-p', tsconfig]).catch((err: { stdout?: string }) => {
      assert.fail(
        `tickwire/client or tickwire/react needs more than a browser has:\n${err.stdout ?? String(err)}`,
      );
    });
  });
});
