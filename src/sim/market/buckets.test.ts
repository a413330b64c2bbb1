import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY_MS } from '../../domain/interval.ts';
import {
  bucketAfter,
  bucketBefore,
  bucketStartOf,
  fixedRule,
  MONDAY_ORIGIN_MS,
  MONTH_RULE,
} from './buckets.ts';

describe('buckets', () => {
  it('starts weeks on Monday 00:00 UTC', () => {
    const week = fixedRule(7 * DAY_MS, MONDAY_ORIGIN_MS);
    // 2026-01-08 is a Thursday; its week starts on Monday 2026-01-05.
    const start = bucketStartOf(week, Date.UTC(2026, 0, 8, 15, 30));
    assert.equal(start, Date.UTC(2026, 0, 5));
    assert.equal(new Date(start).getUTCDay(), 1);
    assert.equal(bucketStartOf(week, Date.UTC(2026, 0, 5)), Date.UTC(2026, 0, 5));
    assert.equal(bucketStartOf(week, Date.UTC(2026, 0, 4, 23, 59, 59, 999)), Date.UTC(2025, 11, 29));
  });

  it('follows calendar months, including February and year ends', () => {
    assert.equal(bucketStartOf(MONTH_RULE, Date.UTC(2024, 1, 29, 12)), Date.UTC(2024, 1, 1));
    assert.equal(bucketAfter(MONTH_RULE, Date.UTC(2024, 1, 1)), Date.UTC(2024, 2, 1));
    assert.equal(bucketAfter(MONTH_RULE, Date.UTC(2025, 11, 1)), Date.UTC(2026, 0, 1));
    assert.equal(bucketBefore(MONTH_RULE, Date.UTC(2026, 0, 1)), Date.UTC(2025, 11, 1));
  });

  it('aligns fixed buckets to the epoch', () => {
    const fourHours = fixedRule(4 * 3_600_000);
    assert.equal(bucketStartOf(fourHours, Date.UTC(2026, 2, 3, 7, 59)), Date.UTC(2026, 2, 3, 4));
    assert.equal(bucketBefore(fourHours, Date.UTC(2026, 2, 3, 4)), Date.UTC(2026, 2, 3, 0));
  });
});
