import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelay } from './retry-delay.ts';

describe('retryDelay', () => {
  it('doubles from the minimum up to the maximum, with jitter that stays within the cap', () => {
    for (let i = 0; i < 100; i++) {
      const first = retryDelay(1, 500, 30_000);
      assert.ok(first >= 400 && first <= 600, String(first));
      const third = retryDelay(3, 500, 30_000);
      assert.ok(third >= 1600 && third <= 2400, String(third));
      const late = retryDelay(40, 500, 30_000);
      assert.ok(late >= 24_000 && late <= 30_000, String(late));
    }
  });
});
