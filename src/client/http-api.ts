/**
 * The gateway's HTTP API as the client uses it: history pages (`/api/candles`) and, while the WebSocket cannot
 * connect, the polling endpoints. Every request goes through one pacer, so the client as a whole keeps to the
 * gateway's `/api/` rate limit however many views poll.
 */
import type { ClientClock } from './types.ts';
import { RateLimitPacer } from './rate-limit-pacer.ts';

/** A failed request: the gateway's error code (`{"error":{"code","message"}}`) or an HTTP/network code. */
export class TickwireHttpError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TickwireHttpError';
  }
}

export interface HttpApiOptions {
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly clock: ClientClock;
  /** Gives the Authorization header's token for the account endpoints. */
  readonly token?: () => Promise<string | undefined>;
}

export class HttpApi {
  readonly pacer = new RateLimitPacer();

  constructor(private readonly options: HttpApiOptions) {}

  /** Waits until the pacer lets a request go, then GETs `path` (with `query`) and parses the JSON answer. */
  async get<T>(path: string, query: Record<string, string | number | undefined>, auth = false): Promise<T> {
    const { clock } = this.options;
    const wait = this.pacer.nextAt(clock.now()) - clock.now();
    if (wait > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, wait));
    const url = new URL(path, this.options.baseUrl);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth) {
      const token = await this.options.token?.();
      if (token === undefined)
        throw new TickwireHttpError('AUTH_REQUIRED', 'no token: pass the `token` option');
      headers.authorization = `Bearer ${token}`;
    }
    let response: Response;
    try {
      response = await this.options.fetch(url, { headers });
    } catch (error) {
      throw new TickwireHttpError('NETWORK_ERROR', `GET ${url.pathname} failed: ${(error as Error).message}`);
    }
    this.pacer.answered(clock.now(), response.status, response.headers);
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) throw errorOf(response.status, url.pathname, body);
    return body as T;
  }
}

function errorOf(status: number, path: string, body: unknown): TickwireHttpError {
  const error = (body as { error?: unknown } | undefined)?.error;
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return new TickwireHttpError(
      String(code ?? `HTTP_${status}`),
      String(message ?? `GET ${path}: ${status}`),
      status,
    );
  }
  const text = typeof error === 'string' ? error : `GET ${path} answered ${status}`;
  return new TickwireHttpError(`HTTP_${status}`, text, status);
}
