import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { serviceSkip, testRedisPrefix, TEST_REDIS_URL } from '../../test/support/services.ts';
import { startTcpProxy } from '../../test/support/tcp-proxy.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { waitUntil } from './bus.contract.ts';
import { INGEST_LOCK_KEY, LeaderLock, type LeaderLockOptions, type LeaderLostReason } from './leader-lock.ts';

/** A lock with its events recorded. */
class Contender {
  readonly lock: LeaderLock;
  readonly events: ('acquired' | LeaderLostReason)[] = [];

  constructor(options: Partial<LeaderLockOptions> & { readonly prefix: string }) {
    this.lock = new LeaderLock({ url: TEST_REDIS_URL, logger: silentLogger(), ...options });
    this.lock.onAcquired(() => this.events.push('acquired'));
    this.lock.onLost((reason) => this.events.push(reason));
  }
}

describe('LeaderLock', { skip: await serviceSkip('redis') }, () => {
  let raw: Redis;
  const stops: (() => Promise<void>)[] = [];
  before(() => {
    raw = new Redis(TEST_REDIS_URL);
  });
  after(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await raw.quit();
  });

  /** Contenders on one fresh key, one per options given; stopped (and the key deleted) after the suite. */
  function contenders(...options: Partial<LeaderLockOptions>[]): Contender[] {
    const prefix = testRedisPrefix();
    const made = options.map((o) => new Contender({ prefix, ...o }));
    stops.push(async () => {
      await Promise.all(made.map((c) => c.lock.stop()));
      await raw.del(made[0]?.lock.key ?? '');
    });
    return made;
  }

  it('lets one of two contenders take the lock while the other keeps trying', async () => {
    const [a, b] = contenders({ retryMs: 50 }, { retryMs: 50 }) as [Contender, Contender];
    a.lock.start();
    b.lock.start();
    await waitUntil(() => a.lock.isLeader() || b.lock.isLeader(), 'a leader');
    const [winner, loser] = a.lock.isLeader() ? [a, b] : [b, a];
    const tries = loser.lock.stats().attempts;
    await waitUntil(() => loser.lock.stats().attempts >= tries + 3, 'three more tries by the other');
    assert.equal(winner.lock.isLeader(), true);
    assert.equal(loser.lock.isLeader(), false);
    assert.deepEqual(winner.events, ['acquired']);
    assert.deepEqual(loser.events, []);
    assert.equal(await raw.get(winner.lock.key), winner.lock.token);
    assert.ok((await raw.pttl(winner.lock.key)) > 0);
    assert.ok(a.lock.key.endsWith(INGEST_LOCK_KEY));
  });

  it('hands over to a standby when the holder stops', async () => {
    const [holder, standby] = contenders({ retryMs: 50 }, { retryMs: 50 }) as [Contender, Contender];
    holder.lock.start();
    await waitUntil(() => holder.lock.isLeader(), 'the holder');
    standby.lock.start();
    await waitUntil(() => standby.lock.stats().attempts >= 2, 'the standby trying');
    await holder.lock.stop();
    assert.equal(holder.lock.isLeader(), false);
    await waitUntil(() => standby.lock.isLeader(), 'the standby taking over');
    assert.equal(await raw.get(standby.lock.key), standby.lock.token);
    // A voluntary stop is not a loss.
    assert.deepEqual(holder.events, ['acquired']);
  });

  it('hands over within ttl + retry (defaults: under 10 s) when the holder is killed with -9', async () => {
    const [standby] = contenders({}) as [Contender];
    const script = [
      `const { LeaderLock } = await import(${JSON.stringify(new URL('./leader-lock.ts', import.meta.url).href)});`,
      `const { silentLogger } = await import(${JSON.stringify(new URL('../telemetry/logger.ts', import.meta.url).href)});`,
      `const lock = new LeaderLock({ url: process.env.LOCK_URL, prefix: process.env.LOCK_PREFIX, logger: silentLogger() });`,
      `lock.onAcquired(() => process.stdout.write('acquired\\n'));`,
      `lock.start();`,
    ].join('\n');
    const prefix = standby.lock.key.slice(0, -INGEST_LOCK_KEY.length);
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, LOCK_URL: TEST_REDIS_URL, LOCK_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await waitUntil(() => out.includes('acquired'), 'the child process to take the lock');
      standby.lock.start();
      await waitUntil(() => standby.lock.stats().attempts >= 1, 'the standby trying');
      assert.equal(standby.lock.isLeader(), false);

      child.kill('SIGKILL');
      const killedAt = Date.now();
      await exited;
      await waitUntil(() => standby.lock.isLeader(), 'the standby taking over');
      const takeoverMs = Date.now() - killedAt;
      assert.ok(takeoverMs < 10_000, `took ${takeoverMs} ms`);
      assert.equal(await raw.get(standby.lock.key), standby.lock.token);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('tells a holder whose key was taken over, and never deletes the other token', async () => {
    const [holder] = contenders({ ttlMs: 600, retryMs: 50 }) as [Contender];
    holder.lock.start();
    await waitUntil(() => holder.lock.isLeader(), 'the holder');
    await raw.set(holder.lock.key, 'someone-else');
    await waitUntil(() => holder.events.length === 2, 'the loss');
    assert.deepEqual(holder.events, ['acquired', 'taken']);
    assert.equal(holder.lock.isLeader(), false);
    await waitUntil(() => holder.lock.stats().attempts >= 2, 'tries after the loss');
    await holder.lock.stop();
    assert.equal(await raw.get(holder.lock.key), 'someone-else');
  });

  it('releases only its own token on stop, even before it noticed the takeover', async () => {
    // A long TTL: no renewal happens during this test, so the lock still believes it leads when it stops.
    const [holder] = contenders({ ttlMs: 60_000 }) as [Contender];
    holder.lock.start();
    await waitUntil(() => holder.lock.isLeader(), 'the holder');
    await raw.set(holder.lock.key, 'someone-else');
    await holder.lock.stop();
    assert.equal(await raw.get(holder.lock.key), 'someone-else');
  });

  it('tells a holder whose key vanished that it expired, then takes the lock again', async () => {
    const [holder] = contenders({ ttlMs: 600, retryMs: 50 }) as [Contender];
    holder.lock.start();
    await waitUntil(() => holder.lock.isLeader(), 'the holder');
    await raw.del(holder.lock.key);
    await waitUntil(() => holder.events.length === 3, 'the loss and the new acquisition');
    assert.deepEqual(holder.events, ['acquired', 'expired', 'acquired']);
    assert.equal(await raw.get(holder.lock.key), holder.lock.token);
  });

  it('keeps the lead while Redis is unreachable and re-checks ownership when it answers', async () => {
    const target = new URL(TEST_REDIS_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    try {
      const url = new URL(TEST_REDIS_URL);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      const ttlMs = 900;
      const [holder, standby] = contenders(
        { url: url.toString(), ttlMs, retryMs: 50 },
        { ttlMs, retryMs: 50 },
      ) as [Contender, Contender];
      holder.lock.start();
      await waitUntil(() => holder.lock.isLeader(), 'the holder');

      // Cut off from Redis, the holder cannot renew; here Redis itself is fine, so a standby takes over after
      // the TTL. The holder cannot know and keeps leading until Redis answers it again.
      proxy.cut();
      standby.lock.start();
      await waitUntil(() => standby.lock.isLeader(), 'the standby taking over');
      assert.ok(holder.lock.stats().renewFailures >= 1);
      assert.equal(holder.lock.isLeader(), true);
      assert.deepEqual(holder.events, ['acquired']);

      proxy.restore();
      await waitUntil(() => holder.events.length === 2, 'the re-check after the outage');
      assert.deepEqual(holder.events, ['acquired', 'taken']);
      assert.equal(holder.lock.isLeader(), false);
      assert.equal(standby.lock.isLeader(), true);
    } finally {
      await proxy.close();
    }
  });

  it('rejects bad options with the reason', () => {
    const logger = silentLogger();
    assert.throws(() => new LeaderLock({ url: 'tcp://x', logger }), /url must be a redis:\/\//);
    assert.throws(
      () => new LeaderLock({ url: TEST_REDIS_URL, logger, ttlMs: 0 }),
      /ttlMs must be a positive integer, got 0/,
    );
    assert.throws(
      () => new LeaderLock({ url: TEST_REDIS_URL, logger, ttlMs: 10 }),
      /ttlMs must be at least 30/,
    );
    assert.throws(
      () => new LeaderLock({ url: TEST_REDIS_URL, logger, retryMs: -1 }),
      /retryMs must be a positive integer/,
    );
  });
});
