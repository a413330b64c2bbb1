/**
 * The upstream record's contract (candle-store.contract.ts) on both SQL stores, each test on a database of its
 * own: the embedded PGlite and PostgreSQL.
 */
import { after, describe } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createTestDatabase, serviceSkip } from '../../test/support/services.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { runUpstreamRecordContract } from './candle-store.contract.ts';
import { openPgliteCandleStore } from './pglite-candle-store.ts';
import { freshPgliteDir, removePgliteDirs } from './pglite-dirs.test-support.ts';
import { openPostgresCandleStore } from './postgres-candle-store.ts';

const logger = silentLogger();
const ARCHIVED = 'SELECT count(*)::float8 AS n FROM candles_archive WHERE venue = $1';

after(removePgliteDirs);

runUpstreamRecordContract('SqlCandleStore on PGlite', async () => {
  const dir = await freshPgliteDir();
  return {
    open: () => openPgliteCandleStore({ dataDir: dir, logger }),
    async archivedCandles(venue) {
      const db = await PGlite.create({ dataDir: dir });
      try {
        return (await db.query<{ n: number }>(ARCHIVED, [venue])).rows[0]?.n ?? 0;
      } finally {
        await db.close();
      }
    },
    dispose: async () => undefined,
  };
});

describe('on PostgreSQL', { skip: await serviceSkip('postgres') }, () => {
  runUpstreamRecordContract('SqlCandleStore on PostgreSQL', async () => {
    const own = await createTestDatabase();
    return {
      open: () => openPostgresCandleStore({ url: own.url, logger }),
      async archivedCandles(venue) {
        const raw = new pg.Client({ connectionString: own.url });
        await raw.connect();
        try {
          return (await raw.query<{ n: number }>(ARCHIVED, [venue])).rows[0]?.n ?? 0;
        } finally {
          await raw.end();
        }
      },
      dispose: () => own.drop(),
    };
  });
});
