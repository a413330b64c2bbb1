import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/config.ts';
import type { ErrorCode } from '../domain/errors.ts';
import { clientKey } from './client-address.ts';
import type { AdmissionCounters } from './stats.ts';

/**
 * Which WebSocket upgrades are taken (docs/PROTOCOL.md, "Limits"): the browser origin must be allowed, and the
 * gateway must be under its connection limits, in total and per client address (counted as the /api/ rate limit
 * counts, behind `trustedProxies`). An admitted connection holds its place until `release` (exactly once, when
 * its socket closes). The result holds no closure: a connection costs the gateway its address, nothing more.
 */

export type AdmissionLimits = Pick<
  Config['gateway'],
  'maxConnections' | 'maxConnectionsPerIp' | 'allowedOrigins' | 'trustedProxies'
>;

export type Admission =
  | {
      readonly ok: true;
      /** The client address it is counted under (also the key of its history budget). */
      readonly address: string;
    }
  | {
      readonly ok: false;
      readonly status: 403 | 429 | 503;
      readonly code: ErrorCode;
      readonly message: string;
    };

export class ConnectionAdmission {
  readonly counters: AdmissionCounters = {
    refusedForOrigin: 0,
    refusedForConnectionsPerIp: 0,
    refusedForMaxConnections: 0,
  };
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** Admitted connections still open. */
  get open(): number {
    return this.total;
  }

  admit(req: IncomingMessage): Admission {
    const { limits } = this;
    const origin = req.headers.origin;
    if (!originAllowed(origin, req.headers.host, limits.allowedOrigins)) {
      this.counters.refusedForOrigin++;
      return {
        ok: false,
        status: 403,
        code: 'ORIGIN_NOT_ALLOWED',
        message: `Origin not allowed: ${String(origin).slice(0, 100)}. See gateway.allowedOrigins.`,
      };
    }
    if (this.total >= limits.maxConnections) {
      this.counters.refusedForMaxConnections++;
      return {
        ok: false,
        status: 503,
        code: 'TOO_MANY_CONNECTIONS',
        message: `The gateway holds its maximum of ${limits.maxConnections} connections. Try again later.`,
      };
    }
    const address = clientKey(req, limits.trustedProxies);
    const held = this.byAddress.get(address) ?? 0;
    if (held >= limits.maxConnectionsPerIp) {
      this.counters.refusedForConnectionsPerIp++;
      return {
        ok: false,
        status: 429,
        code: 'TOO_MANY_CONNECTIONS',
        message: `Too many connections from this address: at most ${limits.maxConnectionsPerIp}. Close one first.`,
      };
    }
    this.total++;
    this.byAddress.set(address, held + 1);
    return { ok: true, address };
  }

  /** Gives back the place of a connection admitted from `address` (its socket closed); once per admission. */
  release(address: string): void {
    const held = this.byAddress.get(address);
    if (held === undefined) return;
    this.total--;
    if (held > 1) this.byAddress.set(address, held - 1);
    else this.byAddress.delete(address);
  }
}

/**
 * Whether a WebSocket upgrade with this `Origin` header may proceed. No Origin: not a browser (a browser always
 * sends it), allowed, since the check protects browser users and any other client can write what it likes. A
 * page of the gateway's own origin (host and port of the `Host` header): allowed. Then `*` or the listed origins;
 * with an empty list, pages served from the loopback interface (localhost, 127.0.0.0/8, [::1]) at any port, which
 * a remote site cannot be: local development and the demo keep working.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes('*')) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    // `null` (a file:// page, a sandboxed frame) or garbage: no origin to match.
    return false;
  }
  if (host !== undefined && sameHost(url, host)) return true;
  if (allowed.length === 0) return isLoopback(url.hostname);
  return allowed.includes(url.origin);
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  'http:': '80',
  'https:': '443',
  'ws:': '80',
  'wss:': '443',
};

/** The Origin names the host and port the request was sent to (a Host without a port: the scheme's default). */
function sameHost(origin: URL, host: string): boolean {
  let target: URL;
  try {
    target = new URL(`http://${host}`);
  } catch {
    return false;
  }
  const defaultPort = DEFAULT_PORTS[origin.protocol] ?? '';
  return target.hostname === origin.hostname && (target.port || defaultPort) === (origin.port || defaultPort);
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}
