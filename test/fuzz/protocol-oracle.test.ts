import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLOSE_CODES,
  ConnectionModel,
  expectReply,
  HISTORY_ERROR_CODES,
  serverMessageProblem,
  WS_ERROR_CODES,
  type ModelRules,
} from './protocol-oracle.ts';

/**
 * The fuzzer's oracle reads the error and close codes from docs/ERRORS.md: a misread table would let it accept
 * codes the document never promised (or refuse documented ones) without any fuzz case failing.
 */
const RULES: ModelRules = {
  symbols: ['BTC/USDT'],
  venues: ['binance'],
  maxInitialBars: 5000,
  defaultInitialBars: 100,
  maxBookDepth: 50,
  maxSubscriptions: 200,
};

const errorMessage = (code: string): unknown => ({ type: 'error', message: 'some text', code });

describe('protocol oracle: the codes of docs/ERRORS.md', () => {
  it('reads exactly the WebSocket error codes the document lists, the account ones included', () => {
    assert.deepEqual([...WS_ERROR_CODES].sort(), [
      'ACCOUNTS_UNAVAILABLE',
      'ACCOUNT_FORBIDDEN',
      'AUTH_EXPIRED',
      'AUTH_INVALID',
      'AUTH_REQUIRED',
      'HISTORY_BUDGET_EXCEEDED',
      'HISTORY_UNAVAILABLE',
      'INVALID_CHANNEL',
      'INVALID_DEPTH',
      'INVALID_INITIAL_BARS',
      'INVALID_INTERVAL',
      'INVALID_MESSAGE',
      'INVALID_SEVERITY',
      'INVALID_SYMBOL',
      'INVALID_VENUE',
      'RATE_LIMITED',
      'TOO_MANY_SUBSCRIPTIONS',
    ]);
    // HTTP-only codes of the same document are not WebSocket answers.
    for (const code of ['INVALID_LIMIT', 'INVALID_RANGE', 'API_RATE_LIMITED', 'CONFIG_INVALID'])
      assert.ok(!WS_ERROR_CODES.has(code), code);
  });

  it('reads the close codes and the history endpoint codes, and nothing else', () => {
    assert.deepEqual(
      [...CLOSE_CODES].sort((a, b) => a - b),
      [1001, 1006, 1007, 1009, 4008, 4029, 4401, 4440],
    );
    assert.deepEqual([...HISTORY_ERROR_CODES].sort(), [
      'API_RATE_LIMITED',
      'HISTORY_BUDGET_EXCEEDED',
      'HISTORY_UNAVAILABLE',
      'INVALID_END',
      'INVALID_INTERVAL',
      'INVALID_LIMIT',
      'INVALID_SYMBOL',
    ]);
  });

  it('accepts an error with a documented code and flags a made-up one', () => {
    assert.equal(serverMessageProblem(errorMessage('INVALID_SYMBOL'), RULES), null);
    assert.equal(serverMessageProblem(errorMessage('ACCOUNTS_UNAVAILABLE'), RULES), null);
    assert.equal(
      serverMessageProblem(errorMessage('INVALID_WHATEVER'), RULES),
      'undocumented error code INVALID_WHATEVER',
    );
    assert.equal(serverMessageProblem(errorMessage('Code'), RULES), 'undocumented error code Code');
    assert.ok(!CLOSE_CODES.has(4000));
  });
});

describe('protocol oracle: one documented answer where the documents give one', () => {
  // JSON.parse reads 1e400 as Infinity: a number, so not INVALID_MESSAGE, but no integer.
  const replyTo = (text: string): ReturnType<typeof expectReply> =>
    expectReply(JSON.parse(text), new ConnectionModel(), RULES);
  const subscribe = (fields: string): string => `{"type":"subscribe","symbol":"BTC/USDT",${fields}}`;

  it('expects INVALID_INITIAL_BARS for an initialBars of 1e400, and nothing else', () => {
    assert.deepEqual(replyTo(subscribe('"interval":"1m","initialBars":1e400')), {
      expected: { kind: 'error', codes: new Set(['INVALID_INITIAL_BARS']) },
    });
  });

  it('expects INVALID_DEPTH for a book depth of 1e400; a channel that ignores depth may ignore or refuse it', () => {
    assert.deepEqual(replyTo(subscribe('"channel":"book","venue":"binance","depth":1e400')), {
      expected: { kind: 'error', codes: new Set(['INVALID_DEPTH']) },
    });
    const trades = replyTo(subscribe('"channel":"trades","venue":"binance","depth":1e400'));
    assert.equal(trades.expected.kind, 'subscribed');
    assert.deepEqual(trades.alsoAccepted, { kind: 'error', codes: new Set(['INVALID_MESSAGE']) });
  });
});
