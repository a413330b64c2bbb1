import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseControlMessage } from './requests.ts';

describe('parseControlMessage', () => {
  it('reads the documented requests', () => {
    assert.deepEqual(parseControlMessage('{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1}'), {
      method: 'SUBSCRIBE',
      streams: ['btcusdt@aggTrade'],
      id: 1,
    });
    assert.deepEqual(parseControlMessage('{"method":"LIST_SUBSCRIPTIONS","id":"abc"}'), {
      method: 'LIST_SUBSCRIPTIONS',
      id: 'abc',
    });
    assert.deepEqual(parseControlMessage('{"method":"SET_PROPERTY","params":["combined",true],"id":null}'), {
      method: 'SET_PROPERTY',
      property: 'combined',
      value: true,
      id: null,
    });
  });

  it('answers with Binance error codes 0 to 3', () => {
    const code = (text: string): number | undefined => {
      const r = parseControlMessage(text);
      return 'error' in r ? r.error.code : undefined;
    };
    assert.equal(code('{"method":"GET_PROPERTY","params":["size"],"id":1}'), 0);
    assert.equal(code('{"method":"SET_PROPERTY","params":["combined",1],"id":1}'), 1);
    assert.equal(code('{"method":"SUBSCRIBE","params":"x","id":1}'), 2);
    assert.equal(code('{"method":"SUBSCRIBE","params":[]}'), 2);
    assert.equal(code('{"method":"SUBSCRIBE","params":[],"id":"has space"}'), 2);
    assert.equal(code('{"method":"SUBSCRIBE","params":[],"id":"' + 'a'.repeat(37) + '"}'), 2);
    assert.equal(code('{"method":"FETCH","params":[],"id":1}'), 2);
    assert.equal(code('[1,2]'), 2);
    assert.equal(code('not json'), 3);
  });
});
