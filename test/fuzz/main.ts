/**
 * `npm run fuzz`: the gateway protocol, the HTTP routes' query strings and the venue parsers, each with its own
 * count of cases from one seed. FUZZ_SEED replays a run (it is printed first); FUZZ_CASES (WebSocket frames,
 * default 100,000), FUZZ_REST_CASES (HTTP requests, default 20,000) and FUZZ_PARSER_CASES (venue frames, default
 * 100,000) set the counts. Every finding is printed with the frames that led to it; the exit code is 1 when
 * there is one.
 */
import { runGatewayFuzz, startFuzzTarget, type Finding } from './gateway-fuzz.ts';
import { runParserFuzz } from './parser-fuzz.ts';
import { seedFromEnv } from './random.ts';
import { runRestFuzz } from './rest-fuzz.ts';

function count(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`${name} must be a count, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Findings of one kind are printed a few times, then counted. */
function printFindings(part: string, findings: readonly Finding[]): void {
  const shown = new Map<string, number>();
  for (const f of findings) {
    const kind = f.problem.replace(/\d+/g, '#').slice(0, 80);
    const n = (shown.get(kind) ?? 0) + 1;
    shown.set(kind, n);
    if (n > 3) continue;
    console.log(`  ${part} case ${f.caseNo}: ${f.problem}`);
    for (const frame of f.frames) console.log(`      ${frame}`);
  }
  for (const [kind, n] of shown) if (n > 3) console.log(`  ... ${n - 3} more like "${kind}"`);
}

const seed = seedFromEnv();
const wsCases = count('FUZZ_CASES', 100_000);
const restCases = count('FUZZ_REST_CASES', 20_000);
const parserCases = count('FUZZ_PARSER_CASES', 100_000);
console.log(`fuzz: seed ${seed} (replay with FUZZ_SEED=${seed})`);

let failed = false;
const target = await startFuzzTarget();
try {
  const ws = await runGatewayFuzz(target, {
    cases: wsCases,
    seed,
    normalClientEvery: 10_000,
    progress: (done) => process.stdout.write(`  websocket: ${done} cases\r`),
  });
  console.log(
    `websocket: ${ws.cases} cases in ${ws.seconds.toFixed(1)} s, ${ws.findings.length} findings, ${ws.reconnects} reconnects after a documented close; expected answers ${JSON.stringify(ws.outcomes)}`,
  );
  printFindings('websocket', ws.findings);
  failed ||= ws.findings.length > 0;

  const rest = await runRestFuzz(target, { cases: restCases, seed });
  console.log(
    `http: ${rest.cases} requests in ${rest.seconds.toFixed(1)} s, ${rest.findings.length} findings; statuses ${JSON.stringify(rest.statuses)}`,
  );
  printFindings('http', rest.findings);
  failed ||= rest.findings.length > 0;
} finally {
  await target.close();
}

const parsers = runParserFuzz({ cases: parserCases, seed });
console.log(
  `venue parsers: ${parsers.cases} frames in ${parsers.seconds.toFixed(1)} s, ${parsers.findings.length} findings`,
);
for (const [venue, s] of Object.entries(parsers.perVenue)) {
  console.log(`  ${venue}: ${s.cases} frames, ${s.unknown} rejected as unknown, ${s.data} gave domain data`);
}
printFindings('parser', parsers.findings);
failed ||= parsers.findings.length > 0;

console.log(failed ? `fuzz: FAIL (seed ${seed})` : `fuzz: PASS (seed ${seed})`);
process.exitCode = failed ? 1 : 0;
