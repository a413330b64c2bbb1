#!/usr/bin/env node
// Entry point of the `tickwire` CLI: loads the TypeScript sources through tsx, then runs the chosen role.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/apps/cli.ts');
process.exitCode = await main(process.argv.slice(2));
