import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../domain/errors.ts';
import { positiveInteger } from '../util/options.ts';
import { clientKey } from './client-address.ts';

/**
 * The request limit of the `/api/` routes (docs/PROTOCOL.md, "Rate limit of /api/"): at most `max` requests per
 * client address in a fixed window of `windowMs` that starts at the client's first request. Every answer carries
 * the IETF RateLimit header fields (draft 6: `RateLimit-Policy`, `RateLimit-Limit`, `RateLimit-Remaining`,
 * `RateLimit-Reset`, as express-rate-limit's `standardHeaders` sends them); a request over the limit is answered
 * 429 with `Retry-After` and an `API_RATE_LIMITED` error.
 *
 * Our own counter rather than a library: rate-limiter-flexible's memory limiter reads Date.now and keeps one timer
 * per client, so its windows cannot follow an injected clock; a fixed window is a map and a comparison. With
 * `shared` (Redis, src/bus/redis-rate-windows.ts) the windows are counted there, one limit per client across
 * every gateway; while it cannot count, this process's memory does, so the API never goes unlimited or closed.
 */

export interface ApiRateLimitOptions {
  /** Requests allowed per client address and window. */
  readonly max: number;
  readonly windowMs: number;
  /**
   * Proxies in front of the gateway that append the address they received from to `X-Forwarded-For`. 0: the
   * header is ignored and the socket's peer is the client (a client could write anything in it).
   */
  readonly trustedProxies: number;
  /** The gateway's clock (windows start and end on it). */
  readonly now: () => number;
  /** Windows counted outside this process (every gateway's); without it, in memory. */
  readonly shared?: SharedRateWindows;
  /** Told when the shared windows fail (counting moves to memory) and when they count again. */
  readonly onShared?: (up: boolean, err?: unknown) => void;
}

/** A client's window: requests counted in it (stops at max + 1) and when it ends, ms. */
export interface RateWindow {
  readonly count: number;
  readonly resetAt: number;
}

/** Fixed windows counted outside the process, shared by several gateways. */
export interface SharedRateWindows {
  /** Counts one request of `client` at `now`; a window that has ended starts again with this request. */
  hit(client: string, now: number, windowMs: number, max: number): Promise<RateWindow>;
}

/** The state of one client's window after counting a request. */
export interface RateLimitState {
  readonly allowed: boolean;
  readonly limit: number;
  /** Requests left in the window (0 once the limit is reached). */
  readonly remaining: number;
  /** Time at which the window ends and the count starts again, ms. */
  readonly resetAt: number;
}

interface Window {
  count: number;
  readonly resetAt: number;
}

export class ApiRateLimiter {
  /** Clients with an open window, in the order their windows started, so the oldest expire first. */
  private readonly windows = new Map<string, Window>();
  /** The shared windows failed at the last count (told once per outage). */
  private sharedDown = false;

  constructor(private readonly options: ApiRateLimitOptions) {
    positiveInteger('apiRateLimit', 'max', options.max);
    positiveInteger('apiRateLimit', 'windowMs', options.windowMs);
  }

  /** Clients currently remembered (one small entry each, dropped when their window ends). */
  get size(): number {
    return this.windows.size;
  }

  /** Counts one request of `client` (a key from `clientKey`) in the shared windows, or in memory. */
  async count(client: string): Promise<RateLimitState> {
    const { shared, max } = this.options;
    if (shared === undefined) return this.hit(client);
    try {
      const window = await shared.hit(client, this.options.now(), this.options.windowMs, max);
      if (this.sharedDown) {
        this.sharedDown = false;
        this.options.onShared?.(true);
      }
      return stateOf(window, max);
    } catch (err) {
      if (!this.sharedDown) {
        this.sharedDown = true;
        this.options.onShared?.(false, err);
      }
      return this.hit(client);
    }
  }

  /** Counts one request of `client` (a key from `clientKey`) in this process's memory. */
  hit(client: string): RateLimitState {
    const now = this.options.now();
    this.dropExpired(now);
    let window = this.windows.get(client);
    if (window === undefined || window.resetAt <= now) {
      this.windows.delete(client);
      window = { count: 0, resetAt: now + this.options.windowMs };
      this.windows.set(client, window);
    }
    const { max } = this.options;
    if (window.count <= max) window.count++;
    return stateOf(window, max);
  }

  /**
   * Applies the limit to one `/api/` request: sets the RateLimit headers on `res`, and when the client is over
   * the limit answers 429 itself. Resolves with whether the request may be served.
   */
  async admit(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const state = await this.count(clientKey(req, this.options.trustedProxies));
    const resetSeconds = Math.max(0, Math.ceil((state.resetAt - this.options.now()) / 1000));
    res.setHeader('RateLimit-Policy', `${state.limit};w=${Math.ceil(this.options.windowMs / 1000)}`);
    res.setHeader('RateLimit-Limit', String(state.limit));
    res.setHeader('RateLimit-Remaining', String(state.remaining));
    res.setHeader('RateLimit-Reset', String(resetSeconds));
    if (state.allowed) return true;
    const retryAfter = Math.max(1, resetSeconds);
    const code: ErrorCode = 'API_RATE_LIMITED';
    const text = JSON.stringify({
      error: { code, message: apiRateLimitedText(state.limit, this.options.windowMs, retryAfter) },
    });
    res.writeHead(429, {
      'retry-after': String(retryAfter),
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
    return false;
  }

  /** Windows are kept in start order, and all have the same length: expired ones are at the head. */
  private dropExpired(now: number): void {
    for (const [client, window] of this.windows) {
      if (window.resetAt > now) return;
      this.windows.delete(client);
    }
  }
}

function stateOf(window: RateWindow, max: number): RateLimitState {
  return {
    allowed: window.count <= max,
    limit: max,
    remaining: Math.max(0, max - window.count),
    resetAt: window.resetAt,
  };
}

/** "Too many requests: at most 100 per 15 minutes to /api/. Retry after 840 s." */
export function apiRateLimitedText(max: number, windowMs: number, retryAfterSeconds: number): string {
  return `Too many requests: at most ${max} per ${durationText(windowMs)} to /api/. Retry after ${retryAfterSeconds} s.`;
}

function durationText(ms: number): string {
  const unit = (n: number, name: string): string => `${n} ${name}${n === 1 ? '' : 's'}`;
  if (ms % 3_600_000 === 0) return unit(ms / 3_600_000, 'hour');
  if (ms % 60_000 === 0) return unit(ms / 60_000, 'minute');
  if (ms % 1000 === 0) return unit(ms / 1000, 'second');
  return `${ms} ms`;
}
