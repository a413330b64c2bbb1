/**
 * Bitget's signature checks, for the private socket's login and for signed REST requests, each failure with the
 * code Bitget answers. Login (EXCHANGES.md §3): timestamp in seconds within 30 s of the server's clock,
 * sign = base64(HMAC-SHA256(secret, timestamp + "GET" + "/user/verify")). REST (§6): ACCESS-TIMESTAMP in ms within
 * 30 s, ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + path + ("?" + query when any) + body)).
 * The path may be signed with or without the simulator's `/bitget` prefix. Signatures are compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Longest gap, either way, between a request's timestamp and the server's clock. */
export const BITGET_AUTH_WINDOW_MS = 30_000;

export interface BitgetCredentials {
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string;
}

export type AuthResult<A> =
  | { readonly ok: true; readonly account: A }
  | { readonly ok: false; readonly code: number | string; readonly msg: string };

export function bitgetSign(secret: string, prehash: string): string {
  return createHmac('sha256', secret).update(prehash).digest('base64');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks a login request's one argument against the accounts; codes 30011–30015, 30005 for a malformed one. */
export function verifyLogin<A extends BitgetCredentials>(
  arg: unknown,
  accounts: ReadonlyMap<string, A>,
  nowMs: number,
): AuthResult<A> {
  if (typeof arg !== 'object' || arg === null) return { ok: false, code: 30005, msg: 'Login failed' };
  const { apiKey, passphrase, timestamp, sign } = arg as Record<string, unknown>;
  if (typeof apiKey !== 'string' || typeof passphrase !== 'string' || typeof sign !== 'string')
    return { ok: false, code: 30005, msg: 'Login failed' };
  const account = accounts.get(apiKey);
  if (account === undefined) return { ok: false, code: 30011, msg: 'Invalid ACCESS_KEY' };
  if (!sameText(passphrase, account.passphrase))
    return { ok: false, code: 30012, msg: 'Invalid ACCESS_PASSPHRASE' };
  const ts = typeof timestamp === 'number' ? String(timestamp) : timestamp;
  if (typeof ts !== 'string' || !/^\d{1,11}$/.test(ts))
    return { ok: false, code: 30013, msg: 'Invalid ACCESS_TIMESTAMP' };
  if (Math.abs(nowMs - Number(ts) * 1000) > BITGET_AUTH_WINDOW_MS)
    return { ok: false, code: 30014, msg: 'Request timestamp expired' };
  if (!sameText(sign, bitgetSign(account.secret, `${ts}GET/user/verify`)))
    return { ok: false, code: 30015, msg: 'Invalid sign' };
  return { ok: true, account };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}

/**
 * Checks a signed REST request (GET, empty body) whose full path is `fullPath` and venue path is `venuePath`;
 * `search` is the raw query with its "?" or ''. Codes: 40001 key missing, 40003 sign missing, 40011 passphrase
 * missing, 40005 timestamp missing or not ms, 40008 expired, 40037 unknown key, 40012 wrong passphrase, 40009 bad sign.
 */
export function verifyRest<A extends BitgetCredentials>(
  req: IncomingMessage,
  fullPath: string,
  venuePath: string,
  search: string,
  accounts: ReadonlyMap<string, A>,
  nowMs: number,
): AuthResult<A> {
  const key = header(req, 'access-key');
  const sign = header(req, 'access-sign');
  const ts = header(req, 'access-timestamp');
  const passphrase = header(req, 'access-passphrase');
  if (key === undefined) return { ok: false, code: '40001', msg: 'ACCESS_KEY cannot be empty' };
  if (sign === undefined) return { ok: false, code: '40003', msg: 'Signature cannot be empty' };
  if (passphrase === undefined) return { ok: false, code: '40011', msg: 'ACCESS_PASSPHRASE cannot be empty' };
  if (ts === undefined || !/^\d{13}$/.test(ts))
    return { ok: false, code: '40005', msg: 'Invalid ACCESS_TIMESTAMP' };
  if (Math.abs(nowMs - Number(ts)) > BITGET_AUTH_WINDOW_MS)
    return { ok: false, code: '40008', msg: 'Request timestamp expired' };
  const account = accounts.get(key);
  if (account === undefined) return { ok: false, code: '40037', msg: 'Apikey does not exist' };
  if (!sameText(passphrase, account.passphrase))
    return { ok: false, code: '40012', msg: 'apikey/password is incorrect' };
  const method = (req.method ?? 'GET').toUpperCase();
  const signs = [venuePath, fullPath].map((p) => bitgetSign(account.secret, `${ts}${method}${p}${search}`));
  if (!signs.some((s) => sameText(sign, s))) return { ok: false, code: '40009', msg: 'sign signature error' };
  return { ok: true, account };
}
