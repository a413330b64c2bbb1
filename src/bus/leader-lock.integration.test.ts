import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { serviceSkip, testRedisPrefix, TEST_REDIS_URL } from '../../test/support/services.ts';
import { startProxyFor, viaProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { loadConfig } from '../config/config.ts';
import { ManualClock } from '../util/clock.ts';
import { waitUntil } from './bus.contract.ts';
import {
  INGEST_LOCK_KEY,
  LeaderLock,
  lockTimingOf,
  type LeaderLockOptions,
  type LeaderLostReason,
} from './leader-lock.ts';

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

  describe('through a Redis outage', () => {
    let proxy: TcpProxy;
    before(async () => {
      proxy = await startProxyFor(TEST_REDIS_URL);
    });
    after(async () => {
      await proxy.close();
    });

    /**
     * A holder behind the proxy on a manual clock, and a standby straight on Redis. The TTL is long in real time,
     * so that Redis never expires the key during the test: the holder's lease is judged by the manual clock.
     */
    async function holderAndStandby(timing: Partial<LeaderLockOptions> = { ttlMs: TTL_MS }): Promise<{
      holder: Contender;
      standby: Contender;
      clock: ManualClock;
    }> {
      proxy.restore();
      const clock = new ManualClock(1_000_000);
      const [holder, standby] = contenders(
        { url: viaProxy(TEST_REDIS_URL, proxy.port), ...timing, retryMs: 50, clock },
        { ...timing, retryMs: 50 },
      ) as [Contender, Contender];
      holder.lock.start();
      await waitUntil(() => {
        clock.advance(0);
        return holder.lock.isLeader();
      }, 'the holder');
      standby.lock.start();
      return { holder, standby, clock };
    }
    const TTL_MS = 60_000;
    /** ttlMs minus the default safety margin (a fifth of it). */
    const LEASE_MS = 48_000;

    it('keeps the lock through a cut shorter than the lease and renews as soon as Redis is back', async () => {
      const { holder, standby, clock } = await holderAndStandby();
      const acquiredAt = clock.now();
      proxy.cut();
      // Renewals fail while cut off; the standby keeps trying against a key that is alive.
      clock.advance(TTL_MS / 5);
      await waitUntil(() => holder.lock.stats().renewFailures >= 1, 'a failed renewal');
      clock.advanceTo(acquiredAt + LEASE_MS - 1);
      const tries = standby.lock.stats().attempts;
      await waitUntil(() => standby.lock.stats().attempts >= tries + 3, 'three tries by the standby');
      assert.equal(holder.lock.isLeader(), true);
      assert.equal(standby.lock.isLeader(), false);

      proxy.restore();
      // No time passes on the holder's clock: the renewal is made because the connection is back.
      await waitUntil(() => {
        clock.advance(0);
        return holder.lock.stats().renewals >= 1;
      }, 'the renewal after the reconnect');
      clock.advance(LEASE_MS / 2);
      assert.equal(holder.lock.isLeader(), true, 'the lease runs from the renewal');
      assert.deepEqual(holder.events, ['acquired']);
      assert.deepEqual(standby.events, []);
      assert.equal(await raw.get(holder.lock.key), holder.lock.token);
      assert.ok((await raw.pttl(holder.lock.key)) > TTL_MS - 10_000, 'the TTL was renewed');
    });

    it('steps down when its lease runs out, before a standby can take the key', async () => {
      const { holder, standby, clock } = await holderAndStandby();
      const acquiredAt = clock.now();
      proxy.cut();
      clock.advanceTo(acquiredAt + LEASE_MS - 1);
      await waitUntil(() => holder.lock.stats().renewFailures >= 1, 'a failed renewal');
      assert.equal(holder.lock.isLeader(), true);
      clock.advance(1);
      assert.deepEqual(holder.events, ['acquired', 'unreachable']);
      assert.equal(holder.lock.isLeader(), false);

      // The key is still alive in Redis: the standby waits for it to expire.
      const tries = standby.lock.stats().attempts;
      await waitUntil(() => standby.lock.stats().attempts >= tries + 3, 'three tries by the standby');
      assert.equal(standby.lock.isLeader(), false);
      await raw.pexpire(holder.lock.key, 1);
      await waitUntil(() => standby.lock.isLeader(), 'the standby taking the expired key');

      // Back on Redis, the former holder tries at once, finds the lock taken and stays a standby.
      const before = holder.lock.stats().attempts;
      proxy.restore();
      await waitUntil(() => {
        clock.advance(0);
        return holder.lock.stats().attempts > before;
      }, 'a try by the former holder');
      assert.equal(holder.lock.isLeader(), false);
      assert.deepEqual(holder.events, ['acquired', 'unreachable']);
      assert.deepEqual(standby.events, ['acquired']);
      assert.equal(await raw.get(holder.lock.key), standby.lock.token);
    });

    it("steps down at the TTL minus the configuration's ingest.lockSafetyMarginMs", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tickwire-lock-'));
      const file = join(dir, 'tickwire.json');
      writeFileSync(file, JSON.stringify({ ingest: { lockTtlMs: TTL_MS, lockSafetyMarginMs: 25_000 } }));
      const ingest = loadConfig({}, file).ingest;
      rmSync(dir, { recursive: true, force: true });
      const { holder, clock } = await holderAndStandby(lockTimingOf(ingest));
      const acquiredAt = clock.now();
      proxy.cut();
      // Short of this lease (35 s), which is shorter than the default (48 s): still the holder.
      clock.advanceTo(acquiredAt + TTL_MS - 25_000 - 1);
      await waitUntil(() => holder.lock.stats().renewFailures >= 1, 'a failed renewal');
      assert.equal(holder.lock.isLeader(), true);
      clock.advance(1);
      assert.deepEqual(holder.events, ['acquired', 'unreachable']);
      assert.equal(holder.lock.isLeader(), false);
      proxy.restore();
    });

    it('never has two leaders across a cut longer than the TTL (real time)', async () => {
      proxy.restore();
      const ttlMs = 1500;
      const [holder, standby] = contenders(
        { url: viaProxy(TEST_REDIS_URL, proxy.port), ttlMs, retryMs: 50 },
        { ttlMs, retryMs: 50 },
      ) as [Contender, Contender];
      const timeline: string[] = [];
      holder.lock.onLost((reason) => timeline.push(`holder ${reason}`));
      standby.lock.onAcquired(() => timeline.push('standby acquired'));
      holder.lock.start();
      await waitUntil(() => holder.lock.isLeader(), 'the holder');
      standby.lock.start();
      proxy.cut();
      await waitUntil(() => standby.lock.isLeader(), 'the standby taking over after the TTL');
      // The holder had stepped down before the key expired, so before the standby could take it.
      assert.deepEqual(timeline, ['holder unreachable', 'standby acquired']);
      assert.equal(holder.lock.isLeader(), false);
      proxy.restore();
    });
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
      () => new LeaderLock({ url: TEST_REDIS_URL, logger, ttlMs: 1000, safetyMarginMs: 600 }),
      /safetyMarginMs must be an integer from 0 to ttlMs \/ 2, got 600/,
    );
    assert.throws(
      () => new LeaderLock({ url: TEST_REDIS_URL, logger, retryMs: -1 }),
      /retryMs must be a positive integer/,
    );
  });
});
