import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorRoomKeyOf, roomKeyOf } from './message-routing.ts';

describe('message routing', () => {
  it('gives each data message its room, and none to types it does not know', () => {
    assert.equal(roomKeyOf({ type: 'update', symbol: 'BTC/USDT', interval: '1m' }), 'candles:BTC/USDT:1m');
    assert.equal(
      roomKeyOf({ type: 'ticker', symbol: 'BTC/USDT' }),
      'ticker::BTC/USDT',
      'the composite ticker',
    );
    assert.equal(roomKeyOf({ type: 'ticker', venue: 'okx', symbol: 'BTC/USDT' }), 'ticker:okx:BTC/USDT');
    assert.equal(roomKeyOf({ type: 'book', venue: 'okx', symbol: 'BTC/USDT' }), 'book:okx:BTC/USDT');
    assert.equal(roomKeyOf({ type: 'trades', venue: 'okx', symbol: 'BTC/USDT' }), 'trades:okx:BTC/USDT');
    assert.equal(roomKeyOf({ type: 'alert' }), 'alerts');
    assert.equal(roomKeyOf({ type: 'order_update', channel: 'orders', seq: 3 }), 'account');
    assert.equal(roomKeyOf({ type: 'margin_call_v9', channel: 'x' }), undefined);
    assert.equal(roomKeyOf({ type: 'subscribed', channel: 'book' }), undefined);
  });

  it('gives an error the room it is about', () => {
    const key = (m: Record<string, unknown>) => errorRoomKeyOf({ type: 'error', message: 'm', ...m });
    assert.equal(
      key({ code: 'HISTORY_UNAVAILABLE', symbol: 'BTC/USDT', interval: '5m' }),
      'candles:BTC/USDT:5m',
    );
    assert.equal(
      key({ code: 'INVALID_DEPTH', channel: 'book', venue: 'okx', symbol: 'BTC/USDT' }),
      'book:okx:BTC/USDT',
    );
    assert.equal(key({ code: 'TOO_MANY_SUBSCRIPTIONS', channel: 'alerts' }), 'alerts');
    assert.equal(key({ code: 'AUTH_REQUIRED', channel: 'positions' }), 'account');
    assert.equal(key({ code: 'AUTH_INVALID' }), 'account');
    assert.equal(key({ code: 'INVALID_MESSAGE' }), undefined);
    assert.equal(key({ code: 'INVALID_SYMBOL' }), undefined);
  });
});
