import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { RepeatedFailure } from './repeated-failure.ts';

/** A real pino logger whose records are kept, and a clock the test moves. */
function setup(): { records: Record<string, unknown>[]; clock: { t: number }; failure: RepeatedFailure } {
  const records: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void records.push(JSON.parse(line)) });
  const clock = { t: 1_000_000 };
  const failure = new RepeatedFailure({
    logger,
    now: () => clock.t,
    fields: { venue: 'binance' },
    failing: 'stream unreachable',
    stillFailing: 'still unreachable',
    recovered: 'stream connected again',
    maxSummaryEveryMs: 60_000,
  });
  return { records, clock, failure };
}

const refused = (): Error =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });

describe('repeated failures in the log', () => {
  it('logs the first failure with its cause, then a summary with the count, not a line per attempt', () => {
    const { records, clock, failure } = setup();
    failure.failed(refused(), 1000);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.['msg'], 'stream unreachable; retrying in 1 s');
    assert.equal((records[0]?.['err'] as { message: string }).message, 'connect ECONNREFUSED 127.0.0.1:9');
    assert.equal(records[0]?.['venue'], 'binance');

    // Eleven more attempts within the first 10 s: no line.
    for (let i = 0; i < 11; i++) {
      clock.t += 800;
      failure.failed(refused(), 15_000);
    }
    assert.equal(records.length, 1);

    // The twelfth, 10 s after the first failure: one summary.
    clock.t += 1200;
    failure.failed(refused(), 15_000);
    assert.equal(records.length, 2);
    assert.equal(records[1]?.['msg'], 'still unreachable (13 attempts, next in 15 s)');
    assert.deepEqual((records[1]?.['repeat'] as { attempts: number }).attempts, 13);

    // The next summary comes twice as late (20 s), then 40 s, 80 s…, here capped at 60 s.
    let previous = clock.t;
    const gaps: number[] = [];
    for (let i = 0; i < 200; i++) {
      clock.t += 1000;
      const before = records.length;
      failure.failed(refused(), 15_000);
      if (records.length > before) {
        gaps.push(clock.t - previous);
        previous = clock.t;
      }
    }
    assert.deepEqual(gaps, [20_000, 40_000, 60_000, 60_000]);
    assert.equal(records.length, 6);
  });

  it('logs a new cause at once, and the recovery with the number of failed attempts', () => {
    const { records, clock, failure } = setup();
    failure.failed(refused(), 1000);
    clock.t += 500;
    failure.failed(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:10'), { code: 'ECONNREFUSED' }));
    assert.equal(records.length, 1, 'the same failure on another port is a repeat');
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND stream.example'), { code: 'ENOTFOUND' });
    failure.failed(notFound, 2000);
    assert.equal(records.length, 2);
    assert.equal(records[1]?.['msg'], 'stream unreachable (attempt 3); retrying in 2 s');
    clock.t += 4500;
    failure.succeeded();
    assert.equal(records[2]?.['msg'], 'stream connected again after 3 failed attempts (5 s)');
    assert.equal(records[2]?.['level'], 30);
    failure.succeeded();
    assert.equal(records.length, 3, 'a success after a success logs nothing');
    failure.failed(refused(), 1000);
    assert.equal(records[3]?.['msg'], 'stream unreachable; retrying in 1 s', 'counting starts afresh');
  });
});
