/**
 * How tests run the `tickwire` command: the CLI's process entry (src/apps/main.ts) from source through tsx, so
 * that they check the code as it is now, never a dist/ left over from an earlier build. The built package has a
 * test of its own (test/package/built-package.test.ts).
 */
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/apps/main.ts', import.meta.url));
/** tsx's loader, resolved here so that a child started in any directory finds it. */
const TSX = import.meta.resolve('tsx');

/** Node's arguments that run `tickwire <args>`: `spawn(process.execPath, tickwireArgs('sim', '--env'))`. */
export function tickwireArgs(...args: readonly string[]): string[] {
  return ['--import', TSX, MAIN, ...args];
}
