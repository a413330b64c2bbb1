import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { TickwireError } from '../../domain/errors.ts';
import { backoffDelay } from '../../util/backoff.ts';
import { systemClock, type Clock } from '../../util/clock.ts';
import { mainThreadTurns, type TurnBudget } from '../../util/turn-budget.ts';

/**
 * A small JSON-over-HTTP client for venue REST APIs: request pacing, timeouts and bounded retries, with failures
 * turned into catalogue errors (VENUE_UNREACHABLE, VENUE_RATE_LIMITED, VENUE_REJECTED). Knows nothing of any venue.
 */

export interface TokenBucketOptions {
  /** Largest burst, in cost units (a venue's request weight). */
  readonly capacity: number;
  /** Units refilled per second. */
  readonly refillPerSecond: number;
  /** Time and the waits for refills. Default the system clock. */
  readonly clock?: Clock;
}

/**
 * Paces requests by cost: `take(cost)` resolves once `cost` units are available. Waiters are served in order, so a
 * heavy request is not starved by light ones.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private tokens: number;
  private updatedAt: number;
  private tail: Promise<void> = Promise.resolve();
  private readonly clock: Clock;

  constructor(options: TokenBucketOptions) {
    if (!(options.capacity > 0) || !(options.refillPerSecond > 0)) {
      throw new RangeError('token bucket capacity and refillPerSecond must be positive');
    }
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.clock = options.clock ?? systemClock;
    this.tokens = options.capacity;
    this.updatedAt = this.clock.now();
  }

  /** Units available right now. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Waits until `cost` units (capped at capacity) are available, then takes them. */
  take(cost: number): Promise<void> {
    const next = this.tail.then(() => this.acquire(Math.min(Math.max(cost, 0), this.capacity)));
    this.tail = next;
    return next;
  }

  /** Lowers the available units to at most `units`: the server reported more usage than we counted. */
  limitTo(units: number): void {
    this.refill();
    this.tokens = Math.min(this.tokens, Math.max(units, 0));
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.refillPerSecond) / 1000);
      this.updatedAt = now;
    }
  }

  private async acquire(cost: number): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= cost) {
        this.tokens -= cost;
        return;
      }
      await sleep(this.clock, Math.ceil(((cost - this.tokens) * 1000) / this.refillPerSecond));
    }
  }
}

export interface HttpJsonClientOptions {
  /** Who answers, for error messages ("binance"). */
  readonly name: string;
  /** Per-attempt timeout. Default 10 s. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt for timeouts, network errors, 5xx, 429 and 418. Default 4. */
  readonly maxRetries?: number;
  /** First backoff delay for timeouts, network errors and 5xx; doubles per retry. Default 500 ms. */
  readonly retryBaseMs?: number;
  /** Backoff cap. Default 8 s. */
  readonly retryMaxMs?: number;
  /** A Retry-After longer than this is not waited for: the request fails with VENUE_RATE_LIMITED. Default 60 s. */
  readonly maxRetryAfterMs?: number;
  /** Paces requests; each takes its `weight` from it. */
  readonly limiter?: TokenBucket;
  /** Largest accepted response body. Default 16 MiB. */
  readonly maxBodyBytes?: number;
  /** Time for Retry-After dates, and the per-attempt timeout and retry waits. Default the system clock. */
  readonly clock?: Clock;
  /** Jitter source in [0, 1) for the retry backoff. Default Math.random. */
  readonly random?: () => number;
  /** When an answer is parsed (src/util/turn-budget.ts). Default the main thread's, which venue frames share. */
  readonly turns?: TurnBudget;
}

/** Per-request additions for signed venue APIs. */
export interface JsonRequestOptions {
  /**
   * Extra request headers, asked for on every attempt (a signature over a timestamp must be fresh on a retry). They
   * never appear in errors.
   */
  readonly headers?: () => Readonly<Record<string, string>>;
  /**
   * 4xx statuses whose JSON body is returned as the answer instead of failing with VENUE_REJECTED, for venues that
   * put their own error code in the body (Bitget answers 400 with `{"code":"40009",...}`).
   */
  readonly answerStatuses?: readonly number[];
}

/** The headers of an answer, read by name (any case), repeated headers joined with ", " as in `Headers`. */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface HttpJsonResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: unknown;
}

/** `restUrl` without trailing slashes, so that paths can be appended with one "/". */
export function restBase(restUrl: string): string {
  return restUrl.replace(/\/+$/, '');
}

/** `url` with the defined `params` as its query string; no "?" when none is defined. */
export function withQuery(
  url: string,
  params: Readonly<Record<string, string | number | undefined>>,
): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const query = search.toString();
  return query ? `${url}?${query}` : url;
}

/** `value` when it is a positive safe integer, undefined when absent; VENUE_REJECTED naming `name` otherwise. */
export function checkPositiveInt(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TickwireError('VENUE_REJECTED', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Runs `parse` on item `index` of an answer from `source` ("binance klines"); a parse failure becomes
 * VENUE_REJECTED saying which item was malformed.
 */
export function parseItem<T>(source: string, index: number, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new TickwireError(
      'VENUE_REJECTED',
      `${source}: item ${index} of the answer is malformed: ${(err as Error).message}`,
    );
  }
}

const RATE_LIMIT_STATUSES = new Set([429, 418]);

/** GETs JSON with pacing, timeouts and bounded retries. */
export class HttpJsonClient {
  private readonly name: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxBodyBytes: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly turns: TurnBudget;
  readonly limiter: TokenBucket | undefined;
  private closed = false;
  /** Cuts off each request and ends each retry wait under way; close() calls them. */
  private readonly underway = new Set<() => void>();

  constructor(options: HttpJsonClientOptions) {
    this.name = options.name;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 4;
    this.retryBaseMs = options.retryBaseMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 8_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.limiter = options.limiter;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.turns = options.turns ?? mainThreadTurns;
  }

  /**
   * GETs `url` and parses the JSON body of a 2xx answer. Retries (bounded) on timeout, network error, 5xx and
   * 429/418 (honouring Retry-After). Throws TickwireError: VENUE_REJECTED for other 4xx, VENUE_RATE_LIMITED when
   * rate limiting outlasts the retries or Retry-After is too long, VENUE_UNREACHABLE otherwise.
   */
  async getJson(url: string, weight = 1, options: JsonRequestOptions = {}): Promise<HttpJsonResponse> {
    const label = `${this.name} GET ${url}`;
    for (let attempt = 0; ; attempt++) {
      this.checkOpen(label);
      if (this.limiter) await this.limiter.take(weight);
      this.checkOpen(label);
      let outcome: HttpJsonResponse | { readonly retryInMs: number };
      try {
        outcome = await this.attempt(url, label, attempt, options);
      } catch (err) {
        this.checkOpen(label, err);
        throw err;
      }
      if (!('retryInMs' in outcome)) return outcome;
      // An attempt cut off by close() ends here, not in a retry wait.
      this.checkOpen(label);
      await this.wait(outcome.retryInMs);
    }
  }

  /**
   * Stops the client, for the process's stop: each request under way is cut off and each retry wait ended, and those
   * requests, like any made later, fail with VENUE_UNREACHABLE ("the client was closed"). Without it a request that
   * failed as the venue's connections closed waited out its retries, seconds that kept the stopping process alive.
   */
  close(): void {
    this.closed = true;
    for (const cancel of [...this.underway]) cancel();
    this.underway.clear();
  }

  private checkOpen(label: string, cause?: unknown): void {
    if (this.closed)
      throw new TickwireError('VENUE_UNREACHABLE', `${label}: stopped, the client was closed`, { cause });
  }

  /** Resolves after `ms`, or at once on close(). */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.underway.delete(done);
        this.clock.clearTimer(timer);
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      this.underway.add(done);
    });
  }

  /**
   * One attempt, under its own timeout (the body included: a server that stalls mid-body is cut off too): the
   * answer, or how long to wait before the next attempt. Throws when the answer is final or no retry is left.
   */
  private async attempt(
    url: string,
    label: string,
    attempt: number,
    options: JsonRequestOptions,
  ): Promise<HttpJsonResponse | { readonly retryInMs: number }> {
    const last = attempt >= this.maxRetries;
    let exchange: Exchange | undefined;
    let timedOut = false;
    const timer = this.clock.setTimeout(() => {
      timedOut = true;
      exchange?.abort();
    }, this.timeoutMs);
    const cutOff = (): void => exchange?.abort();
    this.underway.add(cutOff);
    try {
      let response: Answer;
      try {
        exchange = send(url, { ...options.headers?.(), accept: 'application/json' });
        response = await exchange.answer;
      } catch (err) {
        const why = timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(err);
        if (last) {
          throw new TickwireError('VENUE_UNREACHABLE', `${label}: ${why} (after ${attempt + 1} attempts)`, {
            cause: err,
          });
        }
        return { retryInMs: this.backoff(attempt) };
      }

      if (RATE_LIMIT_STATUSES.has(response.status)) {
        response.discard();
        this.limiter?.limitTo(0);
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'), this.clock.now());
        const wait = retryAfter ?? this.backoff(attempt);
        if (last || wait > this.maxRetryAfterMs) {
          const after = retryAfter === undefined ? '' : `; retry after ${Math.ceil(retryAfter / 1000)} s`;
          throw new TickwireError(
            'VENUE_RATE_LIMITED',
            `${label}: HTTP ${response.status} (${response.status === 418 ? 'IP banned' : 'rate limited'})${after}`,
          );
        }
        return { retryInMs: wait };
      }

      if (response.status >= 500) {
        const text = await response.text(2048).catch(() => '');
        if (last) {
          throw new TickwireError(
            'VENUE_UNREACHABLE',
            `${label}: HTTP ${response.status}${text ? ` ${snippet(text)}` : ''} (after ${attempt + 1} attempts)`,
          );
        }
        return { retryInMs: this.backoff(attempt) };
      }

      let text: string;
      try {
        text = await response.text(this.maxBodyBytes);
      } catch (err) {
        if (last) {
          const why = timedOut ? `no whole answer within ${this.timeoutMs} ms` : (err as Error).message;
          throw new TickwireError('VENUE_UNREACHABLE', `${label}: reading the body failed: ${why}`, {
            cause: err,
          });
        }
        return { retryInMs: this.backoff(attempt) };
      }
      const answered = options.answerStatuses?.includes(response.status) === true;
      if (!answered && (response.status < 200 || response.status >= 300)) {
        throw new TickwireError('VENUE_REJECTED', `${label}: HTTP ${response.status} ${snippet(text)}`);
      }
      // Parsing the answer, and what the caller does with it before its next await (a page of history: its
      // rows' decimals, the bars), waits for frame time like a stream frame: answers that arrive together are
      // processed over several turns of the event loop.
      await this.turns.turn(this);
      try {
        return { status: response.status, headers: response.headers, body: JSON.parse(text) as unknown };
      } catch {
        throw new TickwireError('VENUE_REJECTED', `${label}: answer is not JSON: ${snippet(text)}`);
      }
    } finally {
      this.clock.clearTimer(timer);
      this.underway.delete(cutOff);
    }
  }

  /** Delay before retry number `attempt + 1`: full jitter, as wide as the reconnects' (see util/backoff). */
  private backoff(attempt: number): number {
    return backoffDelay(
      attempt + 1,
      { minMs: this.retryBaseMs, maxMs: this.retryMaxMs, jitter: 'full' },
      this.random,
    );
  }
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Retry-After as seconds or an HTTP date → ms to wait; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Connections to venue REST APIs, kept open between requests (as `fetch` keeps them) and closed after 4 s unused,
 * before the usual 5 s a server keeps an idle connection. Idle connections do not keep the process alive.
 */
const agents = {
  http: new HttpAgent({ keepAlive: true, timeout: 4_000 }),
  https: new HttpsAgent({ keepAlive: true, timeout: 4_000 }),
};

/** A GET under way: its answer once the status and headers are in, and a way to cut it off (body included). */
interface Exchange {
  readonly answer: Promise<Answer>;
  abort(): void;
}

interface Answer {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** The body as text, whole; rejects past `maxBytes` (declared or received), or when the connection ends early. */
  text(maxBytes: number): Promise<string>;
  /** Drops the body unread. */
  discard(): void;
}

/**
 * GETs `url` with node:http(s). Venue REST answers are read whole and parsed once, so the WHATWG `fetch` (undici:
 * request and header objects, web streams, a decoder per chunk) only added work: about three times the CPU per
 * request, most of it on the first requests of a process, when its code is still cold (docs/PERFORMANCE.md).
 */
function send(url: string, headers: Readonly<Record<string, string>>): Exchange {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  if (!secure && target.protocol !== 'http:') throw new TypeError(`unsupported protocol ${target.protocol}`);
  const req = (secure ? httpsRequest : httpRequest)(target, {
    method: 'GET',
    headers,
    agent: secure ? agents.https : agents.http,
  });
  let res: IncomingMessage | undefined;
  const abort = (): void => {
    const err = Object.assign(new Error('the operation timed out'), { name: 'TimeoutError' });
    if (res) res.destroy(err);
    req.destroy(err);
  };
  const answer = new Promise<Answer>((resolve, reject) => {
    // Later errors (the connection failing mid-body) are the body reader's; they must never go unheard.
    req.on('error', reject);
    req.once('response', (incoming: IncomingMessage) => {
      res = incoming;
      incoming.on('error', () => undefined);
      resolve({
        status: incoming.statusCode ?? 0,
        headers: headersOf(incoming),
        text: (maxBytes) => readText(incoming, maxBytes),
        discard: () => {
          incoming.resume();
        },
      });
    });
  });
  req.end();
  return { answer, abort };
}

function headersOf(res: IncomingMessage): ResponseHeaders {
  return {
    get(name) {
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

function readText(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.destroy();
      reject(new Error(`body of ${declared} bytes exceeds ${maxBytes}`));
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) {
        res.destroy();
        reject(new Error(`body exceeds ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.once('end', () => {
      const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes)).toString(
        'utf8',
      );
      // As TextDecoder (and so fetch's text()): a leading byte-order mark is not part of the text.
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    });
    res.once('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new Error('the connection closed before the end of the body'));
    });
  });
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

function describeNetworkError(err: unknown): string {
  const { code, message, cause } = err as {
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (code) return message ? `${code} (${message})` : code;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return (err as Error).message;
}
