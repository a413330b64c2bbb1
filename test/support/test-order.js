/**
 * The order in which `npm test` starts its test files: reads their paths (one a line) on standard input and prints
 * them, the files of test/support/slow-files.txt first, in that list's order (the longest first), then the rest in
 * reverse path order. The workers (three; see docs/PERFORMANCE.md, "Test suite") take files in this order, so that
 * no long file starts last and keeps one worker busy while the others have nothing left to run. A listed file that
 * is not among the input is left out.
 */
import { readFileSync } from 'node:fs';

const listed = readFileSync(new URL('./slow-files.txt', import.meta.url), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
const files = readFileSync(0, 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '');
const given = new Set(files);
const first = [...new Set(listed)].filter((file) => given.has(file));
const firstSet = new Set(first);
const rest = files.filter((file) => !firstSet.has(file)).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
console.log([...first, ...rest].join('\n'));
