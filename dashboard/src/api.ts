import type { SourceRow } from '../../src/client/types.ts';
import type { PerformanceJson } from '../../src/protocol/account-messages.ts';
import { readRateLimit, type RateLimitHeaders } from './rate-limit.ts';

/**
 * The gateway's HTTP endpoints the page reads besides what the client library gives: the configured instruments
 * (GET /health, not rate limited), the sources' health (GET /api/websocket/sources) and the account's stored
 * equity curve (GET /api/account/performance), on the page's own origin like the client library's requests.
 */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly limit: RateLimitHeaders,
  ) {
    super(message);
  }
}

export interface HealthBody {
  readonly status: string;
  readonly symbols: readonly string[];
  readonly connectedVenues?: readonly string[];
}

export interface PerformanceBody {
  readonly account: string;
  readonly venue: string;
  readonly performance: PerformanceJson;
  readonly equityCurve: readonly { readonly time: number; readonly equity: string }[];
}

export interface Answer<T> {
  readonly body: T;
  readonly limit: RateLimitHeaders;
}

/** The error of a non-2xx answer: `{"error":{"code","message"}}` or `{"error":"text"}`. */
async function errorOf(response: Response, limit: RateLimitHeaders): Promise<HttpError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || code;
  try {
    const body = (await response.json()) as { error?: string | { code?: string; message?: string } };
    if (typeof body.error === 'string') message = body.error;
    else if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
    }
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  return new HttpError(response.status, code, message, limit);
}

export class GatewayHttp {
  constructor(
    /** The gateway's origin (the page's own): `http://localhost:7000`. */
    private readonly base: string,
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  private async get<T>(path: string, headers: Record<string, string> = {}): Promise<Answer<T>> {
    const response = await this.fetchImpl(new URL(path, this.base), { headers, cache: 'no-store' });
    const limit = readRateLimit(response.headers);
    if (!response.ok) throw await errorOf(response, limit);
    return { body: (await response.json()) as T, limit };
  }

  /** The instruments the gateway serves; `/health` answers 503 while not every instrument is live, with the same body. */
  async health(): Promise<HealthBody> {
    const response = await this.fetchImpl(new URL('/health', this.base), { cache: 'no-store' });
    return (await response.json()) as HealthBody;
  }

  sources(): Promise<Answer<readonly SourceRow[]>> {
    return this.get('/api/websocket/sources');
  }

  performance(token: string): Promise<Answer<PerformanceBody>> {
    return this.get('/api/account/performance?limit=1000', { Authorization: `Bearer ${token}` });
  }
}
