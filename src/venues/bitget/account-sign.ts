import { createHmac } from 'node:crypto';
import type { BitgetLoginRequest } from './account-wire.ts';

/**
 * Bitget's request signatures (EXCHANGES.md §3 "Login", §6 "REST"): base64 of HMAC-SHA256 keyed with the API
 * secret. The socket login signs `timestamp + "GET" + "/user/verify"` with the timestamp in SECONDS; REST signs
 * `timestamp + METHOD + path + ("?" + query) + body` with the timestamp in MILLISECONDS. Pure: the caller passes the
 * time, so that tests can check known values.
 */

/** An account's API credentials. Never logged, never put into an error or status (docs/venues/BITGET.md). */
export interface BitgetCredentials {
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string;
}

/** base64(HMAC-SHA256(secret, prehash)). */
export function bitgetSign(secret: string, prehash: string): string {
  return createHmac('sha256', secret).update(prehash, 'utf8').digest('base64');
}

/** The login frame of the private socket, signed at `nowMs` (sent as whole seconds). */
export function bitgetLoginRequest(credentials: BitgetCredentials, nowMs: number): BitgetLoginRequest {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    op: 'login',
    args: [
      {
        apiKey: credentials.apiKey,
        passphrase: credentials.passphrase,
        timestamp,
        sign: bitgetSign(credentials.secret, `${timestamp}GET/user/verify`),
      },
    ],
  };
}

/** The headers of a signed REST request. */
export interface BitgetRestHeaders {
  readonly 'ACCESS-KEY': string;
  readonly 'ACCESS-SIGN': string;
  readonly 'ACCESS-TIMESTAMP': string;
  readonly 'ACCESS-PASSPHRASE': string;
  readonly 'Content-Type': 'application/json';
  readonly locale: 'en-US';
}

/**
 * Headers for `method path?query` with `body` (empty for GET), signed at `nowMs`. `query` is the exact text after
 * "?" as sent (empty: no "?" is signed).
 */
export function bitgetRestHeaders(
  credentials: BitgetCredentials,
  request: { readonly method: string; readonly path: string; readonly query: string; readonly body: string },
  nowMs: number,
): BitgetRestHeaders {
  const timestamp = String(Math.floor(nowMs));
  const target = request.query === '' ? request.path : `${request.path}?${request.query}`;
  return {
    'ACCESS-KEY': credentials.apiKey,
    'ACCESS-SIGN': bitgetSign(
      credentials.secret,
      timestamp + request.method.toUpperCase() + target + request.body,
    ),
    'ACCESS-TIMESTAMP': timestamp,
    'ACCESS-PASSPHRASE': credentials.passphrase,
    'Content-Type': 'application/json',
    locale: 'en-US',
  };
}
