import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('proportional: doubles from the minimum up to the maximum, ±20%, never above the cap', () => {
    const policy = { minMs: 500, maxMs: 30_000, jitter: 'proportional' } as const;
    for (let i = 0; i < 100; i++) {
      const first = backoffDelay(1, policy);
      assert.ok(first >= 400 && first <= 600, String(first));
      const third = backoffDelay(3, policy);
      assert.ok(third >= 1600 && third <= 2400, String(third));
      const late = backoffDelay(40, policy);
      assert.ok(late >= 24_000 && late <= 30_000, String(late));
    }
    assert.equal(
      backoffDelay(3, policy, () => 0),
      1600,
    );
    assert.equal(
      backoffDelay(3, policy, () => 0.999_999),
      2400,
    );
    assert.equal(
      backoffDelay(40, policy, () => 0.999_999),
      30_000,
    );
  });

  it('full: uniform below the doubled ceiling, at least 1 ms', () => {
    const policy = { minMs: 1000, maxMs: 30_000, jitter: 'full' } as const;
    assert.equal(
      backoffDelay(1, policy, () => 0),
      1,
    );
    assert.equal(
      backoffDelay(1, policy, () => 0.5),
      500,
    );
    assert.equal(
      backoffDelay(4, policy, () => 0.5),
      4000,
    );
    assert.equal(
      backoffDelay(10, policy, () => 0.5),
      15_000,
    );
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, policy);
      assert.ok(d >= 1 && d < 4000, String(d));
    }
  });

  it('none: the ceiling itself; attempt 0 counts as the first', () => {
    const policy = { minMs: 1000, maxMs: 30_000, jitter: 'none' } as const;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, policy)),
      [1000, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
    );
  });
});
