import assert from 'node:assert/strict';
import { test } from 'node:test';
import { integerOption, nonNegativeInteger, positiveInteger } from './options.ts';

test('option checks return a good value and name owner, field, rule and value otherwise', () => {
  assert.equal(positiveInteger('bus', 'maxLen', 5), 5);
  assert.equal(nonNegativeInteger('bus', 'retries', 0), 0);
  assert.equal(integerOption('alerts', 'recent', 100, 0, 100), 100);
  assert.throws(() => positiveInteger('bus', 'maxLen', 0), {
    name: 'RangeError',
    message: 'bus: maxLen must be a positive integer, got 0',
  });
  assert.throws(() => nonNegativeInteger('failover', 'holdDownMs', 1.5), {
    message: 'failover: holdDownMs must be an integer ≥ 0, got 1.5',
  });
  assert.throws(() => integerOption('alerts', 'recent', 101, 0, 100), {
    message: 'alerts: recent must be an integer from 0 to 100, got 101',
  });
  assert.throws(() => positiveInteger('x', 'y', Number.NaN), /got NaN/);
});
