#!/usr/bin/env node
// Entry point of the `tickwire` CLI: loads the TypeScript sources through tsx, then runs the chosen role.
import { register } from 'tsx/esm/api';

register();
// `tickwire aggregate … | head` closes stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../src/apps/cli.ts');
process.exitCode = await main(process.argv.slice(2));
