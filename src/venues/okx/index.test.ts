import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../telemetry/logger.ts';
import { createVenueAdapter } from '../registry.ts';
import { createOkxAdapter, OKX_BOOK_RULES } from './index.ts';
import { OkxRest } from './rest.ts';

describe('OKX adapter', () => {
  it('is registered and describes its book rule and trade ids as data', () => {
    const adapter = createVenueAdapter(
      'okx',
      { wsUrl: 'ws://127.0.0.1:1/okx', restUrl: 'http://127.0.0.1:1/okx' },
      silentLogger(),
    );
    assert.equal(adapter.venue, 'okx');
    assert.ok(adapter.rest instanceof OkxRest);
    assert.equal(adapter.bookRules, OKX_BOOK_RULES);
    assert.deepEqual(OKX_BOOK_RULES, {
      snapshotSource: 'stream',
      sequence: 'prev-seq',
      sequenceExceptions: { keepAlive: true, resetOnLowerSeq: true },
      checksum: 'crc32-top25',
      checksumSnapshots: true,
      uncross: false,
    });
    assert.equal(
      createOkxAdapter({ wsUrl: 'ws://x', restUrl: 'http://x', logger: silentLogger() }).contiguousTradeSeq,
      false,
    );
  });

  it('refuses non-canonical symbols and empty symbol lists before connecting', () => {
    const adapter = createOkxAdapter({
      wsUrl: 'ws://127.0.0.1:1',
      restUrl: 'http://127.0.0.1:1',
      logger: silentLogger(),
    });
    const handlers = { trade: () => undefined, status: () => undefined };
    assert.throws(() => adapter.openMarketStream(['BTC-USDT'], handlers), /canonical/);
    assert.throws(() => adapter.openMarketStream([], handlers), /at least one symbol/);
  });
});
