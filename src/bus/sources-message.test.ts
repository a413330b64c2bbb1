import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SourcesView } from '../protocol/source-status.ts';
import { decodeSourcesView, encodeSourcesView } from './sources-message.ts';

const view: SourcesView = {
  instruments: [
    {
      symbol: 'BTC/USDT',
      activeSource: 'okx',
      primary: 'binance',
      activeSince: 1_700_000_000_000,
      sources: [
        {
          exchange: 'binance',
          connected: false,
          latency: null,
          lastUpdate: 1_699_999_990_000,
          messagesReceived: 120,
          errors: 3,
          healthy: false,
          reason: 'disconnected',
        },
        {
          exchange: 'okx',
          connected: true,
          latency: 42,
          lastUpdate: 1_700_000_000_100,
          messagesReceived: 99,
          errors: 0,
          healthy: true,
          reason: null,
        },
      ],
    },
  ],
};

describe('sources bus message', () => {
  it('round-trips the view and the time it was taken', () => {
    assert.deepEqual(decodeSourcesView(encodeSourcesView(view, 1234)), { at: 1234, view });
  });

  it('rejects what the encoder never writes', () => {
    assert.throws(() => decodeSourcesView('{"view":{"instruments":[]}}'), /bad at/);
    assert.throws(() => decodeSourcesView('{"at":1,"view":{}}'), /no instruments/);
    const badVenue = JSON.stringify({
      at: 1,
      view: { instruments: [{ ...view.instruments[0], primary: 'kraken' }] },
    });
    assert.throws(() => decodeSourcesView(badVenue), /bad primary/);
    assert.throws(() => decodeSourcesView('nope'));
  });
});
