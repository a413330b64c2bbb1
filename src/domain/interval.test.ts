import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketEnd, bucketStart, INTERVAL_MS, parseIntervalList } from './interval.ts';

const t = (iso: string): number => Date.parse(iso);

test('buckets minutes, hours and 4h on UTC boundaries', () => {
  assert.equal(bucketStart('1m', t('2024-10-24T10:03:59.999Z')), t('2024-10-24T10:03:00Z'));
  assert.equal(bucketStart('5m', t('2024-10-24T10:04:59.999Z')), t('2024-10-24T10:00:00Z'));
  assert.equal(bucketStart('15m', t('2024-10-24T10:15:00Z')), t('2024-10-24T10:15:00Z'));
  assert.equal(bucketStart('1h', t('2024-10-24T10:59:00Z')), t('2024-10-24T10:00:00Z'));
  assert.equal(bucketStart('4h', t('2024-10-24T03:59:59Z')), t('2024-10-24T00:00:00Z'));
  assert.equal(bucketStart('4h', t('2024-10-24T23:00:00Z')), t('2024-10-24T20:00:00Z'));
});

test('days start at UTC midnight and weeks on Monday 00:00 UTC', () => {
  assert.equal(bucketStart('1D', t('2024-10-24T23:59:59Z')), t('2024-10-24T00:00:00Z'));
  // 2024-10-24 is a Thursday; its week began on Monday 2024-10-21.
  assert.equal(bucketStart('1W', t('2024-10-24T12:00:00Z')), t('2024-10-21T00:00:00Z'));
  assert.equal(bucketStart('1W', t('2024-10-21T00:00:00Z')), t('2024-10-21T00:00:00Z'));
  assert.equal(bucketStart('1W', t('2024-10-20T23:59:59.999Z')), t('2024-10-14T00:00:00Z'));
  assert.equal(new Date(bucketStart('1W', t('1970-01-01T00:00:00Z'))).getUTCDay(), 1);
  assert.equal(bucketEnd('1W', t('2024-10-21T00:00:00Z')), t('2024-10-28T00:00:00Z'));
});

test('handles times before the epoch', () => {
  assert.equal(bucketStart('1m', -1), -INTERVAL_MS['1m']);
});

test('parses interval lists and names the valid ones on error', () => {
  assert.deepEqual(parseIntervalList('1m, 5m,1m,1W'), ['1m', '5m', '1W']);
  assert.throws(() => parseIntervalList('10m'), /invalid interval "10m"; valid: 1m, 5m, 15m, 1h, 4h, 1D, 1W/);
  assert.throws(() => parseIntervalList(','), /no interval given/);
});
