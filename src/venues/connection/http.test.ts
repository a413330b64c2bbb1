import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { TickwireError } from '../../domain/errors.ts';
import { ManualClock } from '../../util/clock.ts';
import {
  checkPositiveInt,
  HttpJsonClient,
  parseItem,
  parseRetryAfter,
  restBase,
  TokenBucket,
  withQuery,
} from './http.ts';
import { TurnBudget } from '../../util/turn-budget.ts';

/** Whether `promise` has settled once the callbacks already due have run (no time passes). */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('TokenBucket', () => {
  it('allows a burst up to capacity, then paces by the refill rate', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 20, clock });
    assert.equal(await settles(bucket.take(4)), true, 'the burst passes at once');
    const taken = bucket.take(2);
    assert.equal(await settles(taken), false);
    clock.advance(99);
    assert.equal(await settles(taken), false, '2 units at 20/s need 100 ms');
    clock.advance(1);
    assert.equal(await settles(taken), true);
  });

  it('serves waiters in order and caps a cost above capacity', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 100, clock });
    const order: number[] = [];
    const all = Promise.all([
      bucket.take(2).then(() => order.push(1)),
      bucket.take(50).then(() => order.push(2)),
      bucket.take(1).then(() => order.push(3)),
    ]);
    for (let t = 0; t < 100 && order.length < 3; t++) {
      await settles(all);
      clock.advance(10);
    }
    await all;
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('lowers what is available when told the budget is spent', () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1, clock });
    bucket.limitTo(3);
    assert.equal(bucket.available(), 3);
    clock.advanceTo(2000);
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

describe('request helpers', () => {
  it('withQuery keeps defined params only and adds no "?" when none is left', () => {
    assert.equal(withQuery('http://h/a', { x: 1, y: undefined, z: 'b c' }), 'http://h/a?x=1&z=b+c');
    assert.equal(withQuery('http://h/a', { y: undefined }), 'http://h/a');
  });

  it('restBase drops trailing slashes only', () => {
    assert.equal(restBase('http://h/okx//'), 'http://h/okx');
    assert.equal(restBase('http://h/okx'), 'http://h/okx');
  });

  it('checkPositiveInt passes positive integers and absence, rejects the rest by name', () => {
    assert.equal(checkPositiveInt(undefined, 'limit'), undefined);
    assert.equal(checkPositiveInt(5, 'limit'), 5);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => checkPositiveInt(bad, 'pageLimit'),
        (err: unknown) =>
          err instanceof TickwireError &&
          err.code === 'VENUE_REJECTED' &&
          err.message.startsWith('pageLimit must be a positive integer'),
      );
    }
  });

  it('parseItem returns the parsed value and names source and index on failure', () => {
    assert.equal(
      parseItem('x y', 0, () => 7),
      7,
    );
    assert.throws(
      () =>
        parseItem('binance klines', 3, () => {
          throw new Error('bad row');
        }),
      (err: unknown) =>
        err instanceof TickwireError &&
        err.code === 'VENUE_REJECTED' &&
        err.message === 'binance klines: item 3 of the answer is malformed: bad row',
    );
  });
});

describe('HttpJsonClient and the turn budget', () => {
  it('parses an answer only when the turn budget lets it, behind the frames already waiting', async () => {
    let now = 0;
    const turns = new TurnBudget({ budgetMs: 5, now: () => now });
    const order: string[] = [];
    const FRAMES = 1000;
    let spendTurns = false;
    const server = createServer((_req, res) => {
      if (spendTurns) {
        // Frames that each spend a whole turn's budget: one runs per turn, for a thousand turns.
        for (let i = 0; i < FRAMES; i++)
          turns.run({}, () => {
            now += 6;
            order.push('frame');
          });
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const client = new HttpJsonClient({ name: 'test', turns });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      assert.deepEqual((await client.getJson(url)).body, { ok: true }, 'with nothing waiting, at once');

      spendTurns = true;
      const response = await client.getJson(url);
      order.push('answer');
      assert.deepEqual(response.body, { ok: true });
      assert.equal(order.indexOf('answer'), FRAMES, 'the answer came after every frame queued before it');
    } finally {
      server.close();
    }
  });
});

describe('HttpJsonClient over node:http', () => {
  async function serve(
    handler: Parameters<typeof createServer>[1],
  ): Promise<{ url: string; close: () => void; closeAllConnections: () => void }> {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      close: () => server.close(),
      closeAllConnections: () => server.closeAllConnections(),
    };
  }

  it('answers without the global fetch: the body parsed, headers by any case, a byte-order mark dropped', async () => {
    const server = await serve((_req, res) => {
      res.setHeader('X-MBX-USED-WEIGHT-1M', '7');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('\ufeff{"rows":[1,2,3]}');
    });
    const saved = globalThis.fetch;
    globalThis.fetch = () => Promise.reject(new Error('fetch is not used'));
    try {
      const response = await new HttpJsonClient({ name: 'test', maxRetries: 0 }).getJson(server.url);
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { rows: [1, 2, 3] });
      assert.equal(response.headers.get('x-mbx-used-weight-1m'), '7');
      assert.equal(response.headers.get('Set-Cookie'), 'a=1, b=2');
      assert.equal(response.headers.get('retry-after'), null);
    } finally {
      globalThis.fetch = saved;
      server.close();
    }
  });

  it('cuts off a body that stalls past the timeout', async () => {
    let sentHead!: () => void;
    const headSent = new Promise<void>((resolve) => (sentHead = resolve));
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"rows":[1,');
      sentHead();
    });
    const clock = new ManualClock(0);
    try {
      const client = new HttpJsonClient({ name: 'test', maxRetries: 0, timeoutMs: 1000, clock });
      const answer = client.getJson(server.url);
      await headSent;
      assert.equal(await settles(answer), false, 'waits for the rest of the body');
      clock.advance(1000);
      await assert.rejects(answer, (err: unknown) => {
        assert.ok(err instanceof TickwireError);
        assert.equal(err.code, 'VENUE_UNREACHABLE');
        assert.match(err.message, /no (whole )?answer within 1000 ms/);
        return true;
      });
    } finally {
      server.close();
    }
  });

  it('on close, stops a request under way and a retry wait at once, and refuses later requests', async () => {
    let answered = 0;
    let asked!: () => void;
    const stalled = new Promise<void>((resolve) => (asked = resolve));
    const server = await serve((req, res) => {
      // One answers 503 (a retry follows after the backoff), the other never answers.
      if (req.url === '/failing') {
        answered++;
        res.writeHead(503).end();
      } else asked();
    });
    const clock = new ManualClock(0);
    try {
      const client = new HttpJsonClient({
        name: 'test',
        maxRetries: 4,
        retryBaseMs: 10_000,
        clock,
        random: () => 1,
      });
      const retrying = client.getJson(`${server.url}failing`);
      const waiting = client.getJson(`${server.url}stalled`);
      await stalled;
      while (answered === 0) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(await settles(retrying), false, 'waits out its backoff');
      assert.equal(await settles(waiting), false, 'waits for an answer');
      client.close();
      const closed = (err: unknown): boolean => {
        assert.ok(err instanceof TickwireError);
        assert.equal(err.code, 'VENUE_UNREACHABLE');
        assert.match(
          err.message,
          /^test GET http:\/\/127\.0\.0\.1:\d+\/\w+: stopped, the client was closed$/,
        );
        return true;
      };
      // No time passes on the clock: neither the backoff nor the 10 s timeout has run out.
      await assert.rejects(retrying, closed);
      await assert.rejects(waiting, closed);
      assert.equal(answered, 1, 'no second attempt');
      await assert.rejects(client.getJson(`${server.url}failing`), closed);
      assert.equal(answered, 1, 'nothing asked after the close');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('refuses a body over the limit, declared or streamed, and names a refused connection', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/declared') res.end('{"rows":[1,2,3,4,5,6,7,8,9]}');
      else {
        res.write('{"rows":[1,2,3,');
        res.end('4,5,6,7,8,9]}');
      }
    });
    try {
      const client = new HttpJsonClient({ name: 'test', maxRetries: 0, maxBodyBytes: 16 });
      for (const path of ['declared', 'chunked'])
        await assert.rejects(
          client.getJson(`${server.url}${path}`),
          /reading the body failed: body .*exceeds 16/,
        );
    } finally {
      server.close();
    }
    const client = new HttpJsonClient({ name: 'test', maxRetries: 0 });
    await assert.rejects(client.getJson(server.url), /ECONNREFUSED \(connect ECONNREFUSED/);
  });
});
