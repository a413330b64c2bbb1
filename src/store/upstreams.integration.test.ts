/**
 * The upstream record's contract (candle-store.contract.ts) on both SQL stores, each test on a database of its
 * own: the embedded PGlite (one database emptied for each test) and PostgreSQL.
 */
import { describe } from 'node:test';
import pg from 'pg';
import { createTestDatabase, serviceSkip } from '../../test/support/services.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { runUpstreamRecordContract } from './candle-store.contract.ts';
import { openPostgresCandleStore } from './postgres-candle-store.ts';
import { sharedPglite } from './shared-pglite.test-support.ts';

const logger = silentLogger();
const ARCHIVED = 'SELECT count(*)::float8 AS n FROM candles_archive WHERE venue = $1';

// One embedded database for the file, emptied for each test: the contract tests what a store adopts and serves
// across runs, not opening the database, which pglite-candle-store.integration.test.ts tests.
const shared = sharedPglite(logger);
runUpstreamRecordContract('SqlCandleStore on PGlite', async () => {
  await shared.empty();
  return {
    open: () => shared.store(),
    async archivedCandles(venue) {
      return (await shared.query<{ n: number }>(ARCHIVED, [venue])).rows[0]?.n ?? 0;
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
