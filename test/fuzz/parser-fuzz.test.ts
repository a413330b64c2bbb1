import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runParserFuzz } from './parser-fuzz.ts';

/** A small, fixed-seed share of `npm run fuzz` on the venue parsers (replay: FUZZ_SEED=<seed> npm run fuzz). */
const SEED = 20261203;

describe('fuzz: the venue parsers', () => {
  it('turn 2,000 mutated captured frames into well-formed domain data or an unknown frame, never a throw', () => {
    const run = runParserFuzz({ cases: 2000, seed: SEED });
    const shown = run.findings.slice(0, 5).map((f) => `${f.problem}\n    ${f.frames.join('\n    ')}`);
    assert.deepEqual(run.findings, [], shown.join('\n'));
    for (const [venue, s] of Object.entries(run.perVenue)) {
      assert.ok(s.unknown > 0 && s.data > 0, `${venue}: some frames rejected, some read`);
    }
  });
});
