#!/usr/bin/env node
// The `tickwire` command: the compiled CLI in dist/, which `npm run build` makes (and `npm ci` runs it).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/apps/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('tickwire: dist/ is missing; run `npm run build` first (npm ci and npm install run it)');
  process.exit(1);
}
await import(entry.href);
