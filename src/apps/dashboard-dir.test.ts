import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { packageDashboardDir } from './dashboard-dir.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('packageDashboardDir', () => {
  it("finds dist/dashboard at this package's root, beside its package.json", () => {
    const dir = packageDashboardDir();
    assert.equal(join(dir), join(REPO_ROOT, 'dist', 'dashboard') + '/');
    const manifest = JSON.parse(readFileSync(join(dir, '..', '..', 'package.json'), 'utf8')) as {
      name: string;
    };
    assert.equal(manifest.name, 'tickwire');
  });
});
