/**
 * Run as a process of its own (loaded-packages.integration.test.ts): starts `tickwire all` in this process with the
 * environment's configuration, stops it, and prints the npm packages it loaded as a JSON array.
 */
import { register } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';

// Every module resolved from here on is reported; Tickwire's are imported below, after the hooks are in place.
const resolved = new Set<string>();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url: string) => resolved.add(url));
register('./loaded-packages.hooks.test-support.ts', import.meta.url, {
  data: { port: port2 },
  transferList: [port2],
});

const [{ loadConfig }, { copyPgliteTemplate }, { silentLogger }, { startAll }] = await Promise.all([
  import('../config/config.ts'),
  import('../store/pglite-dirs.test-support.ts'),
  import('../telemetry/logger.ts'),
  import('./run-all.ts'),
]);
const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-loaded-'));
try {
  await copyPgliteTemplate(join(dataDir, 'pglite'));
  const system = await startAll(loadConfig({ ...process.env, DATA_DIR: dataDir }), silentLogger());
  await system.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
// The hooks post from their own thread: let the last reports arrive.
await new Promise((r) => setTimeout(r, 100));
port1.close();
const packages = new Set<string>();
for (const url of resolved) {
  const name = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (name !== undefined) packages.add(name);
}
process.stdout.write(JSON.stringify([...packages].sort()) + '\n');
