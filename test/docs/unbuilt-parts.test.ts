import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The docs and the code's comments describe what exists. Tickwire has no browser bundle: nothing may speak of one
 * as if it did.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UNBUILT = [/\bthe browser (can )?bundles?\b/i];

async function filesUnder(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path, keep)));
    else if (keep(entry.name)) out.push(path);
  }
  return out;
}

describe('docs and comments', () => {
  it('speak of no browser bundle', async () => {
    const files = [
      join(ROOT, 'README.md'),
      join(ROOT, '.dependency-cruiser.cjs'),
      ...(await filesUnder(join(ROOT, 'docs'), (n) => n.endsWith('.md'))),
      ...(await filesUnder(join(ROOT, 'src'), (n) => n.endsWith('.ts') && !/\.test(-support)?\.ts$/.test(n))),
    ];
    const found: string[] = [];
    for (const file of files) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (UNBUILT.some((word) => word.test(line)))
          found.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(found, []);
  });
});
