/**
 * Bar bucket arithmetic for any venue interval, in UTC: fixed-size buckets counted from an origin (minutes, hours,
 * days from the epoch; weeks from Monday 1970-01-05) and calendar months.
 */
import { DAY_MS } from '../../domain/interval.ts';

export type BucketRule =
  { readonly kind: 'fixed'; readonly ms: number; readonly originMs: number } | { readonly kind: 'month' };

/** First Monday 00:00 UTC after the epoch (1970-01-01 was a Thursday). */
export const MONDAY_ORIGIN_MS = 4 * DAY_MS;

export function fixedRule(ms: number, originMs = 0): BucketRule {
  return { kind: 'fixed', ms, originMs };
}

export const MONTH_RULE: BucketRule = { kind: 'month' };

/** Start of the bucket containing `t`. */
export function bucketStartOf(rule: BucketRule, t: number): number {
  if (rule.kind === 'fixed') return Math.floor((t - rule.originMs) / rule.ms) * rule.ms + rule.originMs;
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start of the bucket after the one starting at `start`. */
export function bucketAfter(rule: BucketRule, start: number): number {
  if (rule.kind === 'fixed') return start + rule.ms;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Start of the bucket before the one starting at `start`. */
export function bucketBefore(rule: BucketRule, start: number): number {
  if (rule.kind === 'fixed') return start - rule.ms;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
}
