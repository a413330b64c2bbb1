/**
 * Parsing of the JSON control messages a Binance stream client may send (SUBSCRIBE, UNSUBSCRIBE,
 * LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY), with Binance's error codes: 0 unknown property, 1 bad value
 * type, 2 invalid request, 3 invalid JSON. Pure: text in, request or error reply out.
 */
import type { BinanceSimErrorReply, BinanceSimRequestId } from './wire.ts';

export type BinanceControlRequest =
  | {
      readonly method: 'SUBSCRIBE' | 'UNSUBSCRIBE';
      readonly streams: readonly string[];
      readonly id: BinanceSimRequestId;
    }
  | { readonly method: 'LIST_SUBSCRIPTIONS'; readonly id: BinanceSimRequestId }
  | {
      readonly method: 'SET_PROPERTY';
      readonly property: 'combined';
      readonly value: boolean;
      readonly id: BinanceSimRequestId;
    }
  | { readonly method: 'GET_PROPERTY'; readonly property: 'combined'; readonly id: BinanceSimRequestId };

const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];
const STRING_ID = /^[A-Za-z0-9]{1,36}$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function fail(code: 0 | 1 | 2 | 3, msg: string, id: BinanceSimRequestId = null): BinanceSimErrorReply {
  return { error: { code, msg }, id };
}

function validId(id: unknown): id is BinanceSimRequestId {
  if (id === null) return true;
  if (typeof id === 'string') return STRING_ID.test(id);
  if (typeof id === 'number' && Number.isInteger(id)) {
    const big = BigInt(id);
    return big >= INT64_MIN && big <= INT64_MAX;
  }
  return false;
}

/** Reads one control message; returns the request or the error reply to send back. */
export function parseControlMessage(text: string): BinanceControlRequest | BinanceSimErrorReply {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : 'expected value';
    return fail(3, `Invalid JSON: ${detail}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(2, 'Invalid request: expected an object');
  }
  const msg = value as Record<string, unknown>;
  const { method, params } = msg;
  if (!('id' in msg) || !validId(msg['id'])) {
    return fail(2, 'Invalid request: request ID must be an unsigned integer');
  }
  const id = msg['id'];
  if (method === undefined) return fail(2, 'Invalid request: missing field `method`', id);
  if (typeof method !== 'string' || !METHODS.includes(method)) {
    const shown = typeof method === 'string' ? method : JSON.stringify(method);
    return fail(
      2,
      `Invalid request: unknown variant \`${shown}\`, expected one of ${METHODS.map((m) => `\`${m}\``).join(', ')}`,
      id,
    );
  }
  switch (method) {
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      if (!Array.isArray(params)) return fail(2, 'Invalid request: streams must be an array', id);
      if (params.some((p) => typeof p !== 'string'))
        return fail(1, 'Invalid value type: expected string', id);
      return { method, streams: params as string[], id };
    case 'LIST_SUBSCRIPTIONS':
      if (params !== undefined && !(Array.isArray(params) && params.length === 0)) {
        return fail(2, 'Invalid request: too many parameters', id);
      }
      return { method, id };
    default: {
      if (!Array.isArray(params) || params.length === 0 || typeof params[0] !== 'string') {
        return fail(2, 'Invalid request: property name must be a string', id);
      }
      if (params[0] !== 'combined') return fail(0, 'Unknown property', id);
      if (method === 'GET_PROPERTY') {
        if (params.length > 1) return fail(2, 'Invalid request: too many parameters', id);
        return { method, property: 'combined', id };
      }
      if (params.length > 2) return fail(2, 'Invalid request: too many parameters', id);
      if (typeof params[1] !== 'boolean') return fail(1, 'Invalid value type: expected Boolean', id);
      return { method: 'SET_PROPERTY', property: 'combined', value: params[1], id };
    }
  }
}

export function isErrorReply(x: BinanceControlRequest | BinanceSimErrorReply): x is BinanceSimErrorReply {
  return 'error' in x;
}
