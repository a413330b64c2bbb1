import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickwireError } from '../domain/errors.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { BinanceRest } from './binance/rest.ts';
import { createVenueAdapter, supportedVenues, VENUE_FACTORIES } from './registry.ts';

describe('venue registry', () => {
  it('creates the Binance adapter from the configured URLs', () => {
    const adapter = createVenueAdapter(
      'binance',
      { wsUrl: 'ws://127.0.0.1:1/binance', restUrl: 'http://127.0.0.1:1/binance' },
      silentLogger(),
    );
    assert.equal(adapter.venue, 'binance');
    assert.ok(adapter.rest instanceof BinanceRest);
    assert.equal(typeof adapter.openMarketStream, 'function');
    assert.deepEqual(supportedVenues(), ['binance']);
    assert.equal(VENUE_FACTORIES.okx, undefined);
  });

  it('names the supported venues when asked for one without an adapter', () => {
    assert.throws(
      () => createVenueAdapter('okx', { wsUrl: 'ws://x', restUrl: 'http://x' }, silentLogger()),
      (e: unknown) =>
        e instanceof TickwireError &&
        e.code === 'CONFIG_INVALID' &&
        /okx.*supported: binance/.test(e.message),
    );
  });
});
