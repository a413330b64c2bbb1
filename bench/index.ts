/**
 * `npm run bench [section ...]`: runs the named benchmark sections, or all of them, one after the other. Each
 * section is `bench/<name>.bench.ts`, exporting `bench()`, which prints its own markdown table with its baselines
 * and ratios and reads its options from BENCH_* environment variables. A new section is one more line below.
 */
const SECTIONS: Record<string, () => Promise<{ bench(): Promise<void> }>> = {
  fanout: () => import('./fanout.bench.ts'),
  history: () => import('./history.bench.ts'),
  ingest: () => import('./ingest.bench.ts'),
  stack: () => import('./stack.bench.ts'),
};

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in SECTIONS));
if (unknown.length > 0) {
  console.error(
    `bench: unknown section ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}`,
  );
  process.exit(2);
}
for (const name of asked.length > 0 ? asked : Object.keys(SECTIONS)) {
  const section = await (SECTIONS[name] as () => Promise<{ bench(): Promise<void> }>)();
  await section.bench();
}
// Sections stop their child processes themselves; a stray handle must not keep the run open.
process.exit(0);
