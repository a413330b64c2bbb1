import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Ticker } from '../../domain/ticker.ts';
import type { Trade } from '../../domain/trade.ts';
import { startSimulator } from '../../sim/simulator.ts';
import { waitUntil } from '../../sim/test-kit.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { createVenueAdapter } from '../registry.ts';
import { BitgetRest } from './rest.ts';
import { BITGET_BOOK_RULES, createBitgetAdapter } from './index.ts';

test('the registry builds the Bitget adapter; openMarketStream subscribes the channels asked for', async () => {
  const sim = await startSimulator({
    symbols: ['BTC/USDT'],
    historyDays: 1,
    bitget: { tickerPushMs: 50 },
  });
  const urls = sim.urls.bitget;
  const fromRegistry = createVenueAdapter('bitget', urls, silentLogger());
  assert.equal(fromRegistry.venue, 'bitget');
  assert.ok(fromRegistry.rest instanceof BitgetRest);
  assert.deepEqual(fromRegistry.bookRules, BITGET_BOOK_RULES);

  const adapter = createBitgetAdapter({ ...urls, logger: silentLogger() });
  const tickers: Ticker[] = [];
  // Kept and asserted in the test body: a throw inside a stream handler would only count as a malformed frame.
  const trades: Trade[] = [];
  const stream = adapter.openMarketStream(
    ['BTC/USDT'],
    {
      trade: (t) => trades.push(t),
      ticker: (t) => tickers.push(t),
      status: () => {},
    },
    { channels: ['ticker'] },
  );
  try {
    await waitUntil(() => tickers.length >= 2, 5_000);
    assert.deepEqual(trades, [], 'trades were not asked for');
    assert.deepEqual(stream.status().subscriptions, ['SPOT:ticker:BTCUSDT']);
  } finally {
    await stream.close();
    await sim.close();
  }
});
