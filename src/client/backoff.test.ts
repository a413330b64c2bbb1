import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffCeiling, backoffDelay, checkBackoffOptions } from './backoff.ts';

const options = { minDelayMs: 500, maxDelayMs: 30_000 };

describe('backoff', () => {
  it('doubles the ceiling from the minimum up to the maximum', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 60, 5000].map((attempt) => backoffCeiling(attempt, options)),
      [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000],
    );
  });

  it('draws each delay uniformly below the ceiling (full jitter)', () => {
    assert.equal(
      backoffDelay(3, options, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(3, options, () => 0.5),
      2000,
    );
    assert.equal(
      backoffDelay(3, options, () => 0.999999),
      3999,
    );
    assert.equal(
      backoffDelay(100, options, () => 0.5),
      15_000,
    );
  });

  it('refuses options that would reconnect in a tight loop or never', () => {
    assert.throws(
      () => checkBackoffOptions({ minDelayMs: 0, maxDelayMs: 10 }),
      /minDelayMs must be a positive/,
    );
    assert.throws(
      () => checkBackoffOptions({ minDelayMs: 100, maxDelayMs: 10 }),
      /maxDelayMs must be .* at least/,
    );
  });
});
