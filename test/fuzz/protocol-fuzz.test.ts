import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runGatewayFuzz, startFuzzTarget, type Finding, type FuzzTarget } from './gateway-fuzz.ts';
import { runRestFuzz } from './rest-fuzz.ts';

/**
 * A small, fixed-seed share of `npm run fuzz` against a real gateway: the same cases on every run, so a failure
 * here is replayed by `FUZZ_SEED=<seed> npm run fuzz`.
 */
const SEED = 20261203;

function report(findings: readonly Finding[]): string {
  return findings
    .slice(0, 5)
    .map((f) => `case ${f.caseNo}: ${f.problem}\n    ${f.frames.join('\n    ')}`)
    .join('\n');
}

describe('fuzz: the gateway protocol and HTTP routes', () => {
  let target: FuzzTarget;
  before(async () => {
    target = await startFuzzTarget();
  });
  after(() => target.close());

  it('answers 2,000 random and mutated client frames as documented, and still serves a normal client', async () => {
    const run = await runGatewayFuzz(target, { cases: 2000, seed: SEED, normalClientEvery: 1000 });
    assert.deepEqual(run.findings, [], report(run.findings));
    // The cases reach every kind of answer, the documented closes included.
    for (const kind of ['error', 'pong', 'initial', 'subscribed', 'alerts', 'unsubscribe', 'close']) {
      assert.ok((run.outcomes[kind] ?? 0) > 0, `some case expects ${kind}`);
    }
  });

  it('answers 500 mutated query strings with 200 or a documented 4xx, never a 5xx', async () => {
    const run = await runRestFuzz(target, { cases: 500, seed: SEED });
    assert.deepEqual(run.findings, [], report(run.findings));
    assert.ok((run.statuses['200'] ?? 0) > 0 && (run.statuses['400'] ?? 0) > 0);
  });
});
