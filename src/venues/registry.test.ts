import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VENUES, type VenueId } from '../domain/instrument.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { BinanceRest } from './binance/rest.ts';
import { TickwireError } from '../domain/errors.ts';
import {
  checkSymbolsListed,
  createVenueAdapter,
  supportedVenues,
  VENUE_REGISTRY,
  venuesListing,
} from './registry.ts';

const urls = { wsUrl: 'ws://127.0.0.1:1/x', restUrl: 'http://127.0.0.1:1/x' };
/** The same endpoints for every venue. */
const all = Object.fromEntries(VENUES.map((venue) => [venue, urls])) as Record<VenueId, typeof urls>;

describe('venue registry', () => {
  it('has an adapter for every venue of the domain', () => {
    assert.deepEqual([...supportedVenues()].sort(), [...VENUES].sort());
    for (const venue of VENUES) {
      const adapter = createVenueAdapter(venue, urls, silentLogger());
      assert.equal(adapter.venue, venue);
      assert.equal(typeof adapter.openMarketStream, 'function');
      assert.ok(adapter.bookRules);
    }
    assert.ok(createVenueAdapter('binance', urls, silentLogger()).rest instanceof BinanceRest);
  });

  it('lists each venue under its own id, with its secure production endpoints', () => {
    for (const [id, venue] of Object.entries(VENUE_REGISTRY)) {
      assert.equal(venue.id, id);
      assert.match(venue.defaultUrls.wsUrl, /^wss:\/\/[^/]/, id);
      assert.match(venue.defaultUrls.restUrl, /^https:\/\/[^/]/, id);
      assert.equal(venue.createAdapter({ ...urls, logger: silentLogger() }).venue, id);
    }
  });

  it('says which symbols each venue lists: USD-quoted perpetuals only on dYdX', () => {
    const lists = (venue: (typeof VENUES)[number], symbol: string): boolean =>
      createVenueAdapter(venue, urls, silentLogger()).supportsSymbol?.(symbol) ?? true;
    for (const venue of ['binance', 'okx', 'bitget'] as const) {
      assert.equal(lists(venue, 'BTC/USDT'), true, venue);
      assert.equal(lists(venue, 'BTC/USD'), false, venue);
    }
    assert.equal(lists('dydx', 'BTC/USD'), true);
    assert.equal(lists('dydx', 'BTC/USDT'), false);
  });

  it('finds the venues that list a symbol', () => {
    assert.deepEqual(venuesListing('ETH/USDT', all), ['binance', 'bitget', 'okx']);
    assert.deepEqual(venuesListing('ETH/USD', all), ['dydx']);
  });

  it('rejects at start a symbol no configured venue lists, naming every such symbol and who lists it', () => {
    checkSymbolsListed({ symbols: ['BTC/USDT', 'BTC/USD'], venues: ['okx', 'dydx'], urls: all });
    assert.throws(
      () => checkSymbolsListed({ symbols: ['ETH/USDT', 'ETH/USD', 'SOL/USDT'], venues: ['dydx'], urls: all }),
      (e: unknown) => {
        assert.ok(e instanceof TickwireError && e.code === 'CONFIG_INVALID');
        assert.deepEqual(e.message.split('\n'), [
          'invalid configuration:',
          '  symbols: ETH/USDT is listed by none of the configured venues (dydx); venues that list it: binance, bitget, okx',
          '  symbols: SOL/USDT is listed by none of the configured venues (dydx); venues that list it: binance, bitget, okx',
        ]);
        return true;
      },
    );
    assert.throws(
      () => checkSymbolsListed({ symbols: ['BTC/USD'], venues: ['binance', 'okx'], urls: all }),
      /BTC\/USD is listed by none of the configured venues \(binance, okx\); venues that list it: dydx/,
    );
  });

  it('marks which venues number trades without holes', () => {
    const contiguous = VENUES.filter(
      (v) => createVenueAdapter(v, urls, silentLogger()).contiguousTradeSeq !== false,
    );
    assert.deepEqual(contiguous, ['binance']);
  });
});
