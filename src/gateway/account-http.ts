import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountHub, AccountStreamStatus, FillQuery } from '../account/contract.ts';
import { toPlainString } from '../domain/decimal.ts';
import type { ErrorCode } from '../domain/errors.ts';
import {
  accountJson,
  dashboardJson,
  fillJson,
  orderJson,
  performanceJson,
  positionJson,
} from './account-json.ts';
import type { AccountAuth } from './auth.ts';
import { AUTH_TEXTS, bearerToken } from './auth-verdict.ts';
import { queryOf } from './request-url.ts';

/**
 * The account side's HTTP endpoints (docs/PROTOCOL.md, "Account endpoints"), each authenticated with
 * `Authorization: Bearer <token>` and answering for the token's account only:
 * `GET /ws/status/{address}` (seed 003's stream status), `GET /api/account/performance` (figures and equity
 * curve), `GET /api/account/fills` (stored fills) and `GET /api/account/state` (every account channel's state
 * at once, for a client that polls while its WebSocket cannot connect).
 */

export const STATUS_PREFIX = '/ws/status/';
export const PERFORMANCE_PATH = '/api/account/performance';
export const FILLS_PATH = '/api/account/fills';
export const STATE_PATH = '/api/account/state';
/** Fills in the state answer: the newest, as in the `trades` channel's snapshot. */
export const STATE_FILLS = 100;

export interface AccountHttpOptions {
  readonly hub: AccountHub | undefined;
  readonly auth: AccountAuth | undefined;
  /** The dYdX address of each dYdX account (by account id): `/ws/status/{address}` may name it. */
  readonly addresses: ReadonlyMap<string, string>;
}

/** Most fills or equity points one request returns, and the default. */
export const MAX_HISTORY_ROWS = 1000;
export const DEFAULT_HISTORY_ROWS = 100;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Whether `path` is one of these endpoints (the router sends its GETs to `answerAccountRequest`). */
export function isAccountPath(path: string): boolean {
  return (
    path === PERFORMANCE_PATH || path === FILLS_PATH || path === STATE_PATH || path.startsWith(STATUS_PREFIX)
  );
}

export async function answerAccountRequest(
  req: IncomingMessage,
  path: string,
  o: AccountHttpOptions,
): Promise<Answer> {
  const { hub, auth } = o;
  if (hub === undefined || auth === undefined || !auth.enabled) {
    return error(503, 'ACCOUNTS_UNAVAILABLE', AUTH_TEXTS.unavailable);
  }
  const verdict = await auth.verify(bearerToken(req.headers.authorization));
  if (!verdict.ok) {
    const status = verdict.code === 'ACCOUNTS_UNAVAILABLE' ? 503 : 401;
    return { ...error(status, verdict.code, verdict.message), headers: { 'WWW-Authenticate': 'Bearer' } };
  }
  const account = verdict.account;
  const ref = hub.accounts().find((a) => a.id === account);
  if (ref === undefined) return error(401, 'AUTH_INVALID', AUTH_TEXTS.unknownAccount);
  if (path.startsWith(STATUS_PREFIX)) {
    const address = decodeURIComponent(path.slice(STATUS_PREFIX.length));
    if (address !== account && address !== o.addresses.get(account)) {
      return error(403, 'ACCOUNT_FORBIDDEN', 'This token is for another account.');
    }
    return { status: 200, body: statusBody(address, account, ref.venue, hub.status(account)) };
  }
  if (path === STATE_PATH) return { status: 200, body: await stateBody(hub, account, ref.venue) };
  const query = readQuery(queryOf(req.url));
  if ('error' in query) return query.error;
  if (path === FILLS_PATH) {
    const fills = await hub.fills(account, query);
    return { status: 200, body: { account, venue: ref.venue, fills: fills.map(fillJson) } };
  }
  const view = hub.view(account);
  const curve = await hub.equityCurve(account, query);
  return {
    status: 200,
    body: {
      account,
      venue: ref.venue,
      ...(view ? { performance: performanceJson(view), sequence: view.sequence, time: view.time } : {}),
      equityCurve: curve.map((p) => ({ time: p.time, equity: toPlainString(p.equity) })),
    },
  };
}

/** Each account channel's whole state, as its WebSocket snapshot holds it (lists as arrays). */
async function stateBody(hub: AccountHub, account: string, venue: string): Promise<Record<string, unknown>> {
  const view = hub.view(account);
  const fills = await hub.fills(account, { limit: STATE_FILLS });
  return {
    account,
    venue,
    ...(view ? { sequence: view.sequence, time: view.time } : {}),
    channels: {
      dashboard: view ? dashboardJson(view) : {},
      account: view ? accountJson(view) : {},
      performance: view ? performanceJson(view) : {},
      positions: (view?.positions ?? []).map(positionJson),
      orders: (view?.openOrders ?? []).map(orderJson),
      trades: [...fills].sort((a, b) => a.time - b.time).map(fillJson),
    },
  };
}

/** Seed 003's fields, then Tickwire's: the account, its venue, the stream's mode and last error. */
function statusBody(
  address: string,
  account: string,
  venue: string,
  s: AccountStreamStatus | undefined,
): Record<string, unknown> {
  return {
    connected: s?.connected ?? false,
    is_healthy: s?.healthy ?? false,
    ws_url: s?.url ?? null,
    user_address: address,
    subscriptions: s?.subscriptions ?? [],
    handlers_registered: s?.subscriptions.length ?? 0,
    reconnect_count: s?.reconnects ?? 0,
    last_heartbeat: s?.lastHeartbeat === undefined ? null : new Date(s.lastHeartbeat).toISOString(),
    account,
    venue,
    mode: s?.mode ?? null,
    ...(s?.lastError ? { last_error: s.lastError } : {}),
  };
}

/** `from`, `to` (ms since the epoch, digits) and `limit` (1 to MAX_HISTORY_ROWS). */
function readQuery(q: URLSearchParams): (Required<Pick<FillQuery, 'limit'>> & FillQuery) | { error: Answer } {
  const out: { from?: number; to?: number; limit: number } = { limit: DEFAULT_HISTORY_ROWS };
  for (const key of ['from', 'to'] as const) {
    const raw = q.get(key);
    if (raw === null) continue;
    const n = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n)) {
      return {
        error: error(400, 'INVALID_RANGE', `Invalid ${key}: use milliseconds since the epoch (digits).`),
      };
    }
    out[key] = n;
  }
  if (out.from !== undefined && out.to !== undefined && out.from > out.to) {
    return { error: error(400, 'INVALID_RANGE', 'Invalid range: from is after to.') };
  }
  const limit = q.get('limit');
  if (limit !== null) {
    const n = /^\d{1,7}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_HISTORY_ROWS)) {
      return {
        error: error(400, 'INVALID_LIMIT', `Invalid limit: must be an integer from 1 to ${MAX_HISTORY_ROWS}`),
      };
    }
    out.limit = n;
  }
  return out;
}

function error(status: number, code: ErrorCode, message: string): Answer {
  return { status, body: { error: { code, message } } };
}

/** Sends an answer as JSON. */
export function sendAnswer(res: ServerResponse, answer: Answer): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...answer.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
