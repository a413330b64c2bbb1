import { runParserFuzz } from './parser-fuzz.ts';
const run = runParserFuzz({ cases: Number(process.argv[2] ?? 2000), seed: Number(process.argv[3] ?? 1) });
console.log(run.seconds, run.perVenue);
const byKind = new Map<string, number>();
for (const f of run.findings) {
  const k = f.problem.replace(/\(.*?\)|-?\d[\d.e-]*/g, '#').slice(0, 120);
  byKind.set(k, (byKind.get(k) ?? 0) + 1);
}
console.log(byKind);
const seen = new Set<string>();
for (const f of run.findings) {
  const k = f.problem.replace(/\(.*?\)|-?\d[\d.e-]*/g, '#').slice(0, 120);
  if (seen.has(k)) continue;
  seen.add(k);
  console.log(f.caseNo, f.problem.slice(0, 600), '\n   ', f.frames[0]?.slice(0, 500));
}
console.log('findings', run.findings.length);
