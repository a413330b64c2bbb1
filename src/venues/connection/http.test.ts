import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfter, TokenBucket } from './http.ts';

describe('TokenBucket', () => {
  it('allows a burst up to capacity, then paces by the refill rate', async () => {
    const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 20 });
    const started = Date.now();
    await bucket.take(4);
    assert.ok(Date.now() - started < 40, 'the burst passes at once');
    await bucket.take(2);
    const waited = Date.now() - started;
    assert.ok(waited >= 90, `2 units at 20/s need ~100 ms, waited ${waited}`);
  });

  it('serves waiters in order and caps a cost above capacity', async () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 100 });
    const order: number[] = [];
    await Promise.all([
      bucket.take(2).then(() => order.push(1)),
      bucket.take(50).then(() => order.push(2)),
      bucket.take(1).then(() => order.push(3)),
    ]);
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('lowers what is available when told the budget is spent', () => {
    let now = 0;
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1, now: () => now });
    bucket.limitTo(3);
    assert.equal(bucket.available(), 3);
    now = 2000;
    assert.equal(bucket.available(), 5);
    bucket.limitTo(-5);
    assert.equal(bucket.available(), 0);
    assert.throws(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 }), RangeError);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('3', 0), 3000);
    assert.equal(parseRetryAfter(' 0 ', 0), 0);
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
    assert.equal(parseRetryAfter(null, 0), undefined);
    assert.equal(parseRetryAfter('soon', 0), undefined);
  });
});
