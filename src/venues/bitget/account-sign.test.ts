import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bitgetLoginRequest, bitgetRestHeaders, bitgetSign } from './account-sign.ts';

/*
 * Bitget's documentation gives the recipe and demo code but no example secret with its signature (its HMAC demo
 * leaves the secret empty), so the expected values below were computed independently with OpenSSL:
 *
 *   printf '%s' '1700000000GET/user/verify' \
 *     | openssl dgst -sha256 -hmac 'secret-key-for-tests' -binary | base64
 *   → PITlrX1zhf8vtyMhASv1dXsCCQixpLSWxgnXQU82QtE=
 *   printf '%s' '1700000000123GET/api/v2/mix/order/fills?productType=USDT-FUTURES&startTime=1699999000000' \
 *     | openssl dgst -sha256 -hmac 'secret-key-for-tests' -binary | base64
 *   → NJLaSPfH06wSxeSpVQ2FViNOlKrg1JBEgJsYzB0c4II=
 *   printf '%s' '1685013478665POST/api/v2/mix/order/place-order{"symbol":"TRXUSDT"}' \
 *     | openssl dgst -sha256 -hmac 'secret-key-for-tests' -binary | base64
 *   → iqyyaQh558x1piC9zFh/1ZDPga6O4sxLkp3vhVoNEow=
 */
const credentials = { apiKey: 'key-1', secret: 'secret-key-for-tests', passphrase: 'pass-1' };

describe('Bitget signatures', () => {
  it('signs the socket login over seconds + GET + /user/verify', () => {
    const login = bitgetLoginRequest(credentials, 1_700_000_000_999);
    assert.deepEqual(login, {
      op: 'login',
      args: [
        {
          apiKey: 'key-1',
          passphrase: 'pass-1',
          timestamp: '1700000000',
          sign: 'PITlrX1zhf8vtyMhASv1dXsCCQixpLSWxgnXQU82QtE=',
        },
      ],
    });
  });

  it('signs a REST GET over ms + METHOD + path + ?query', () => {
    const headers = bitgetRestHeaders(
      credentials,
      {
        method: 'get',
        path: '/api/v2/mix/order/fills',
        query: 'productType=USDT-FUTURES&startTime=1699999000000',
        body: '',
      },
      1_700_000_000_123,
    );
    assert.equal(headers['ACCESS-SIGN'], 'NJLaSPfH06wSxeSpVQ2FViNOlKrg1JBEgJsYzB0c4II=');
    assert.equal(headers['ACCESS-TIMESTAMP'], '1700000000123');
    assert.equal(headers['ACCESS-KEY'], 'key-1');
    assert.equal(headers['ACCESS-PASSPHRASE'], 'pass-1');
    assert.equal(headers['Content-Type'], 'application/json');
  });

  it('signs a body, and no "?" when there is no query', () => {
    const headers = bitgetRestHeaders(
      credentials,
      { method: 'POST', path: '/api/v2/mix/order/place-order', query: '', body: '{"symbol":"TRXUSDT"}' },
      1_685_013_478_665,
    );
    assert.equal(headers['ACCESS-SIGN'], 'iqyyaQh558x1piC9zFh/1ZDPga6O4sxLkp3vhVoNEow=');
    assert.equal(
      bitgetSign(
        'secret-key-for-tests',
        '1685013478665POST/api/v2/mix/order/place-order{"symbol":"TRXUSDT"}',
      ),
      headers['ACCESS-SIGN'],
    );
  });
});
