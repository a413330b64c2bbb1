/**
 * The real services the integration suites run against: PostgreSQL and Redis on loopback.
 *
 * A suite passes `await serviceSkip('postgres')` as its `describe(..., { skip })` option. When the service
 * answers, the suite runs. When it does not: under CI (`CI` set) that is an error, as CI must run these suites
 * for real; elsewhere the suite is skipped and node:test prints the reason in its output ("# SKIP ...").
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';

/** Where the suites find PostgreSQL: a database they may create other databases from. */
export const TEST_DATABASE_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Where the suites find Redis. */
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export type Service = 'postgres' | 'redis';

const probes = new Map<Service, Promise<string | null>>();

/** `false` when `service` answers; otherwise the reason to skip (or, under CI, an error). */
export async function serviceSkip(service: Service): Promise<string | false> {
  let probe = probes.get(service);
  if (!probe) {
    probe = service === 'postgres' ? probePostgres() : probeRedis();
    probes.set(service, probe);
  }
  const problem = await probe;
  if (problem === null) return false;
  const reason = `${service} not reachable (${problem}); integration suite skipped`;
  if (process.env['CI']) throw new Error(`${reason} — under CI the services must run (.ci/services.sh)`);
  console.log(`# ${reason}`);
  return reason;
}

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return `${TEST_DATABASE_URL}: ${(err as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A PING over a raw socket, so that the probe does not depend on the client library under test. */
function probeRedis(): Promise<string | null> {
  const url = new URL(TEST_REDIS_URL);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
    const done = (problem: string | null): void => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(2000, () => done(`${TEST_REDIS_URL}: timed out`));
    socket.on('error', (err) => done(`${TEST_REDIS_URL}: ${err.message}`));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) =>
      done(data.toString().startsWith('+PONG') ? null : `${TEST_REDIS_URL}: ${data.toString().trim()}`),
    );
  });
}

/** A fresh, empty database for one suite, and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tickwire_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        // A pool's end() resolves before its sockets have closed. Forcing the drop at once would terminate those
        // backends mid-close, and their clients would raise "terminating connection due to administrator command"
        // with nobody left to catch it. So wait (a little) for them to go, and force only what lingers.
        for (let attempt = 0; attempt < 40; attempt++) {
          const { rows } = await client.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (rows[0]?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A key and channel prefix of its own for one suite, so suites that share one Redis never see each other. */
export function testRedisPrefix(): string {
  return `tickwire-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}
