import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TickwireError } from '../domain/errors.ts';
import { isCanonicalSymbol, type VenueId } from '../domain/instrument.ts';
import { LOG_FORMATS } from '../telemetry/log-format.ts';
import { supportedVenues, VENUE_REGISTRY } from '../venues/registry.ts';
import { Secret } from './secret.ts';

/**
 * Tickwire's one configuration: defaults ← JSON config file ← environment variables, validated by zod and
 * frozen. docs/CONFIGURATION.md lists every key.
 */

/** Every registered venue, in the registry's order: the default `venues`, and one `urls.<id>` key each. */
const VENUE_IDS: readonly VenueId[] = supportedVenues();

/** Each venue's own production endpoints (VenueModule.defaultUrls). */
const DEFAULT_URLS = perVenue((id) => ({ ...VENUE_REGISTRY[id].defaultUrls }));

const url = z.string().refine((s) => URL.canParse(s), { message: 'must be an absolute URL' });
const venueUrls = z.object({ wsUrl: url, restUrl: url }).strict();
const symbol = z
  .string()
  .refine(isCanonicalSymbol, { message: 'must look like BTC/USDT (BASE/QUOTE, upper case)' });
const venue = z.enum(VENUE_IDS);
const venueList = z.array(venue).min(1);
/** `*`, or a browser origin: scheme and host, and a port when not the scheme's default; no path. */
const origin = z
  .string()
  .refine((s) => s === '*' || (URL.canParse(s) && new URL(s).origin === s.toLowerCase()), {
    message: 'must be * or an origin such as https://charts.example.com (no path, no trailing slash)',
  });

/** A credential: a non-empty string, held as a Secret so that no dump or log of the configuration shows it. */
const secret = z
  .string()
  .min(1, { message: 'must not be empty' })
  .transform((s) => new Secret(s));
/** An account id: what tokens name (`sub`) and URLs carry, so plain and short. */
const accountId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
  message: 'must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit',
});
/** The name of an environment variable. */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be a variable name' });

/** The variables Bitget credentials are read from unless an account names its own (`accounts[].env`). */
export const BITGET_CREDENTIAL_VARIABLES = {
  apiKey: 'BITGET_API_KEY',
  secret: 'BITGET_API_SECRET',
  passphrase: 'BITGET_API_PASSPHRASE',
} as const;
type CredentialField = keyof typeof BITGET_CREDENTIAL_VARIABLES;
const CREDENTIAL_FIELDS = Object.keys(BITGET_CREDENTIAL_VARIABLES) as CredentialField[];

/**
 * A Bitget account: its API key, secret and passphrase, read from the environment (BITGET_API_KEY,
 * BITGET_API_SECRET, BITGET_API_PASSPHRASE, or the variables `env` names) unless the file gives `credentials`.
 */
const bitgetAccount = z
  .object({
    id: accountId,
    venue: z.literal('bitget'),
    env: z.object({ apiKey: envName, secret: envName, passphrase: envName }).partial().strict().optional(),
    credentials: z.object({ apiKey: secret, secret: secret, passphrase: secret }).strict(),
  })
  .strict();
/** A dYdX v4 subaccount: public on the indexer, so no credential; its address and subaccount number. */
const dydxAccount = z
  .object({
    id: accountId,
    venue: z.literal('dydx'),
    address: z.string().regex(/^dydx1[02-9ac-hj-np-z]{38}$/, {
      message: 'must be a dYdX address (dydx1 followed by 38 bech32 characters)',
    }),
    subaccountNumber: z.number().int().min(0).max(128_000),
  })
  .strict();
const accountList = z
  .array(z.discriminatedUnion('venue', [bitgetAccount, dydxAccount]))
  .superRefine((accounts, ctx) => {
    const seen = new Set<string>();
    accounts.forEach((a, i) => {
      if (seen.has(a.id))
        ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate account id "${a.id}"` });
      seen.add(a.id);
    });
  });
/** Tokens are compared to what clients send: long random strings only (at least 128 bits as hex). */
const MIN_STATIC_TOKEN_LENGTH = 32;
/** HS256 wants a key of at least its hash size: 256 bits, 32 characters or more. */
export const MIN_AUTH_SECRET_LENGTH = 32;

/** One value per registered venue, keyed by its id. */
function perVenue<T>(value: (id: VenueId) => T): Record<VenueId, T> {
  return Object.fromEntries(VENUE_IDS.map((id) => [id, value(id)])) as Record<VenueId, T>;
}

export const configSchema = z
  .object({
    port: z.number().int().min(0).max(65535),
    host: z.string().min(1),
    symbols: z.array(symbol).min(1),
    /** Venues whose streams feed the candles. */
    venues: venueList,
    /** Endpoints of each registered venue (variables `<VENUE>_WS_URL`, `<VENUE>_REST_URL`). */
    urls: z.object(perVenue(() => venueUrls)).strict(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** Text lines on a terminal and JSON otherwise (`auto`), or always one of them. */
    logFormat: z.enum(LOG_FORMATS),
    /** Warnings and errors kept in memory for GET /api/logs (the newest; 0 keeps none). */
    logRecent: z.number().int().min(0).max(100_000),
    candles: z
      .object({
        /** A bar closes this long after its end when no later trade closed it first. */
        closeGraceMs: z.number().int().min(0).max(60_000),
        /** Bars of each interval loaded from the venue at start. */
        historyBars: z.number().int().min(1).max(5000),
        /** Bars of each interval kept in memory for `initial` and the history endpoint. */
        memoryBars: z.number().int().min(100).max(100_000),
      })
      .strict(),
    gateway: z
      .object({
        /** Largest `initialBars` a client may ask for. */
        maxInitialBars: z.number().int().min(1).max(100_000),
        defaultInitialBars: z.number().int().min(0),
        /** Largest accepted client frame, bytes; larger frames close the connection with 1009. */
        maxPayloadBytes: z
          .number()
          .int()
          .min(256)
          .max(16 * 1024 * 1024),
        maxSubscriptionsPerConnection: z.number().int().min(1).max(10_000),
        /** Client messages allowed per second per connection before RATE_LIMITED errors. */
        maxMessagesPerSecond: z.number().int().min(1).max(100_000),
        /** Minimum time between two updates of one room. */
        throttleMs: z.number().int().min(0).max(60_000),
        /** Protocol ping period; a client that has not answered the previous ping is terminated. */
        heartbeatMs: z.number().int().min(100).max(600_000),
        /** Bytes buffered for one client before it counts as too slow and is closed with 4008. */
        maxBufferedBytes: z.number().int().min(1024),
        /**
         * Bytes of messages waiting above a backed-up client socket (candle, ticker and book states conflated)
         * before the client counts as too slow and is closed with 4008.
         */
        maxQueuedBytes: z.number().int().min(1024),
        /** Requests to /api/ routes allowed per client address and window; more are answered 429. */
        apiRateLimit: z.number().int().min(1).max(1_000_000_000),
        apiRateLimitWindowMs: z.number().int().min(1000).max(86_400_000),
        /** Proxies in front of the gateway whose X-Forwarded-For entry is believed (0: the header is ignored). */
        trustedProxies: z.number().int().min(0).max(10),
        /** Open WebSocket connections of the whole gateway; more are refused with HTTP 503. */
        maxConnections: z.number().int().min(1).max(1_000_000),
        /** Open WebSocket connections per client address (as the API rate limit counts it); more: HTTP 429. */
        maxConnectionsPerIp: z.number().int().min(1).max(1_000_000),
        /**
         * Browser origins allowed to open a WebSocket (`*`: any). Empty: the gateway's own origin and loopback
         * pages only. Clients that send no Origin (bots, servers) are always allowed; others get HTTP 403.
         */
        allowedOrigins: z.array(origin),
        /** Offer permessage-deflate: a client that asks for it gets compressed messages (over 1 KiB). */
        perMessageDeflate: z.boolean(),
        /** History budget of one connection: bars per second (`initialBars` of subscribes), and its burst. */
        historyBarsPerSecond: z.number().int().min(1).max(100_000_000),
        historyBurstBars: z.number().int().min(1).max(100_000_000),
        /** History budget of one client address, shared by its connections and its /api/candles requests. */
        historyBarsPerSecondPerIp: z.number().int().min(1).max(100_000_000),
        historyBurstBarsPerIp: z.number().int().min(1).max(100_000_000),
      })
      .strict()
      .superRefine((g, ctx) => {
        // A burst smaller than the largest request would refuse that request for ever.
        for (const key of ['historyBurstBars', 'historyBurstBarsPerIp'] as const) {
          if (g[key] < g.maxInitialBars)
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `must be at least gateway.maxInitialBars (${g.maxInitialBars}), got ${g[key]}`,
            });
        }
      }),
    /** Time allowed for a graceful stop (SIGTERM/SIGINT) before the process exits anyway. */
    shutdownTimeoutMs: z.number().int().min(100).max(600_000),
    /**
     * Several venues per instrument: which one feeds the composite stream, when to switch, and how prices of
     * several venues are reconciled (src/feed/source-health.ts, failover.ts, conflict-resolution.ts).
     */
    failover: z
      .object({
        /** False: the primary stays the source whatever its health; health is still reported. */
        enabled: z.boolean(),
        /** The preferred venue; one of `venues`. Default: the first of `venues`. */
        primary: venue.optional(),
        /** A source whose ping round trip or data lag exceeds this is unhealthy. */
        maxSourceLatencyMs: z.number().int().min(1).max(600_000),
        /** A source with no message for this long is unhealthy (stale). */
        staleAfterMs: z.number().int().min(100).max(600_000),
        /** The primary must stay healthy this long before the feed switches back to it (no flapping). */
        holdDownMs: z.number().int().min(0).max(600_000),
        /** At start, a venue that has not connected yet is not abandoned (nor alarmed about) for this long. */
        startupGraceMs: z.number().int().min(0).max(600_000),
        /** How often the active source is re-evaluated; time-based faults switch at most this late. */
        evaluateEveryMs: z.number().int().min(10).max(2000),
        /** Errors within `errorWindowMs` that make a source unhealthy. */
        maxErrors: z.number().int().min(1).max(100_000),
        errorWindowMs: z.number().int().min(1000).max(3_600_000),
        conflictResolution: z.enum(['primary', 'latest', 'average']),
        /** `average`: quotes farther than this from the median (basis points) are outliers. */
        outlierBandBps: z.number().int().min(0).max(10_000),
      })
      .strict(),
    /** Where history is kept (src/store/): PostgreSQL when `databaseUrl` is set, else embedded PGlite. */
    storage: z
      .object({
        /** postgres://… (DATABASE_URL). Required by the `ingest` and `gateway` roles, which share it. */
        databaseUrl: z
          .string()
          .refine((s) => /^postgres(ql)?:\/\//.test(s) && URL.canParse(s), {
            message: 'must be a postgres:// or postgresql:// URL',
          })
          .optional(),
        /** Folder of the embedded database (DATA_DIR); used when no databaseUrl is set. */
        dataDir: z.string().min(1),
        /** Also keep every trade (STORE_TRADES); candles are always kept. */
        storeTrades: z.boolean(),
        /** Bars are written in batches at most this often. */
        flushMs: z.number().int().min(10).max(60_000),
        /** Bars waiting for the database (an outage) beyond which the oldest are dropped. */
        maxPendingBars: z.number().int().min(1000).max(10_000_000),
      })
      .strict(),
    /** Redis (REDIS_URL): the bus between processes and the ingest lock. Unset: one process, in-memory bus. */
    redis: z
      .object({
        url: z
          .string()
          .refine((s) => /^rediss?:\/\//.test(s) && URL.canParse(s), {
            message: 'must be a redis:// or rediss:// URL',
          })
          .optional(),
        /** Prepended to every channel and key, so that several deployments can share one Redis. */
        prefix: z.string(),
      })
      .strict(),
    /** Traders' own accounts, served on the private channels (docs/PROTOCOL.md, "Account channels"). */
    accounts: accountList,
    /** When account alerts fire (docs/ACCOUNTS.md, "Account alerts"). */
    accountAlerts: z
      .object({
        /** `liquidation_near` once |mark − liquidation price| / mark is at most this: a decimal in (0, 1). */
        liquidationDistance: z.string().regex(/^0\.\d*[1-9]\d*$/, {
          message: 'must be a decimal fraction between 0 and 1, e.g. "0.05"',
        }),
      })
      .strict(),
    /** Tokens for the private channels: JWTs signed with `secret` (AUTH_SECRET), and static API tokens. */
    auth: z
      .object({
        /** HS256 signing secret of the account tokens (AUTH_SECRET); unset: no JWT is accepted or issued. */
        secret: z
          .string()
          .min(MIN_AUTH_SECRET_LENGTH, { message: `must be at least ${MIN_AUTH_SECRET_LENGTH} characters` })
          .transform((s) => new Secret(s))
          .optional(),
        /** Static API tokens, each for one configured account; they do not expire. */
        tokens: z.array(
          z
            .object({
              token: z
                .string()
                .min(MIN_STATIC_TOKEN_LENGTH, {
                  message: `must be at least ${MIN_STATIC_TOKEN_LENGTH} characters`,
                })
                .transform((s) => new Secret(s)),
              account: accountId,
            })
            .strict(),
        ),
      })
      .strict(),
    /** The `ingest` role's high availability (one active process, standbys wait on a Redis lock). */
    ingest: z
      .object({
        /** The lock expires this long after its holder stopped renewing it (killed); a standby then takes over. */
        lockTtlMs: z.number().int().min(1000).max(60_000),
        /** How often a standby tries to take the lock. */
        lockRetryMs: z.number().int().min(100).max(10_000),
        /** A holder that cannot renew steps down this long before its key could expire. Unset: lockTtlMs / 5. */
        lockSafetyMarginMs: z.number().int().min(0).optional(),
      })
      .strict()
      .refine((i) => i.lockSafetyMarginMs === undefined || i.lockSafetyMarginMs <= i.lockTtlMs / 2, {
        path: ['lockSafetyMarginMs'],
        message: 'must be at most half of ingest.lockTtlMs',
      }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const ids = new Set(c.accounts.map((a) => a.id));
    c.auth.tokens.forEach((t, i) => {
      if (!ids.has(t.account))
        ctx.addIssue({
          code: 'custom',
          path: ['auth', 'tokens', i, 'account'],
          message: `must be a configured account id, got "${t.account}"`,
        });
    });
  })
  .superRefine(
    (c, ctx) => {
      const primary = c.failover.primary;
      if (primary !== undefined && !c.venues.includes(primary))
        ctx.addIssue({
          code: 'custom',
          path: ['failover', 'primary'],
          message: `must be one of the configured venues (${c.venues.join(', ')}), got "${primary}"`,
        });
    },
    // Runs whenever the two keys it compares are valid, so that it is reported along with other bad keys.
    { when: ({ value }) => primaryIsCheckable(value) },
  )
  .transform((c) => ({
    ...c,
    failover: { ...c.failover, primary: c.failover.primary ?? (c.venues[0] as VenueId) },
  }));

function primaryIsCheckable(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const failover = value['failover'];
  return (
    venueList.safeParse(value['venues']).success &&
    isPlainObject(failover) &&
    venue.optional().safeParse(failover['primary']).success
  );
}

export type Config = Readonly<z.infer<typeof configSchema>>;
type ConfigInput = z.input<typeof configSchema>;

export const DEFAULT_CONFIG: ConfigInput = {
  port: 7000,
  host: '0.0.0.0',
  symbols: ['BTC/USDT'],
  venues: [...VENUE_IDS],
  urls: DEFAULT_URLS,
  logLevel: 'info',
  logFormat: 'auto',
  logRecent: 500,
  candles: { closeGraceMs: 2000, historyBars: 1000, memoryBars: 5000 },
  gateway: {
    maxInitialBars: 5000,
    defaultInitialBars: 100,
    maxPayloadBytes: 64 * 1024,
    maxSubscriptionsPerConnection: 200,
    maxMessagesPerSecond: 50,
    throttleMs: 1000,
    heartbeatMs: 30_000,
    maxBufferedBytes: 4 * 1024 * 1024,
    maxQueuedBytes: 4 * 1024 * 1024,
    apiRateLimit: 100,
    apiRateLimitWindowMs: 15 * 60_000,
    trustedProxies: 0,
    maxConnections: 10_000,
    maxConnectionsPerIp: 100,
    allowedOrigins: [],
    perMessageDeflate: false,
    historyBarsPerSecond: 5000,
    historyBurstBars: 20_000,
    historyBarsPerSecondPerIp: 10_000,
    historyBurstBarsPerIp: 50_000,
  },
  shutdownTimeoutMs: 8000,
  failover: {
    enabled: true,
    maxSourceLatencyMs: 5000,
    staleAfterMs: 10_000,
    holdDownMs: 3000,
    startupGraceMs: 10_000,
    evaluateEveryMs: 250,
    maxErrors: 5,
    errorWindowMs: 60_000,
    conflictResolution: 'primary',
    outlierBandBps: 100,
  },
  storage: { dataDir: './data', storeTrades: false, flushMs: 500, maxPendingBars: 200_000 },
  redis: { prefix: '' },
  ingest: { lockTtlMs: 5000, lockRetryMs: 1000 },
  accounts: [],
  accountAlerts: { liquidationDistance: '0.05' },
  auth: { tokens: [] },
};

type Env = Readonly<Record<string, string | undefined>>;

/** One bad key: its path in the configuration, the variable it came from (if any), and what is wrong. */
interface ConfigIssue {
  readonly path: string;
  readonly variable?: string;
  readonly message: string;
}

/**
 * Loads the configuration: defaults, then the JSON file (TICKWIRE_CONFIG or `file`), then the environment.
 * Throws TickwireError CONFIG_INVALID naming every bad key at once (a variable that cannot be read as its type,
 * and every value the schema rejects), each with the variable it came from when it was set in the environment.
 */
export function loadConfig(env: Env = process.env, file?: string): Config {
  const merged = structuredClone(DEFAULT_CONFIG) as Record<string, unknown>;
  const path = file ?? env['TICKWIRE_CONFIG'];
  if (path) deepMerge(merged, readConfigFile(path));
  const issues: ConfigIssue[] = [];
  const fromEnvironment = fromEnv(env, issues);
  deepMerge(merged, fromEnvironment);
  accountsFromEnv(merged, env, issues);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const reported = issues.map((i) => i.path);
    for (const i of parsed.error.issues) {
      const keyPath = i.path.map(String);
      // A missing credential was already named with its variable; the schema's "expected object" adds nothing.
      if (reported.some((p) => p.startsWith(keyPath.join('.') + '.'))) continue;
      const variable = variableOf(keyPath, fromEnvironment);
      issues.push({
        path: keyPath.join('.') || '(root)',
        ...(variable ? { variable } : {}),
        message: i.message,
      });
    }
  }
  if (issues.length > 0 || !parsed.success) {
    const lines = issues.map((i) => `  ${i.path}: ${i.message}${i.variable ? ` (from ${i.variable})` : ''}`);
    throw new TickwireError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
  }
  return deepFreeze(parsed.data);
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TickwireError('CONFIG_INVALID', `cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new TickwireError(
      'CONFIG_INVALID',
      `config file ${path} is not a JSON object: ${(err as Error).message}`,
    );
  }
}

/** The variable each configuration key is read from (ENV_VARIABLES[path]); keys of `fromEnv`. */
const ENV_VARIABLES: Readonly<Record<string, string>> = {
  port: 'PORT',
  host: 'HOST',
  symbols: 'SYMBOLS',
  venues: 'VENUES',
  logLevel: 'LOG_LEVEL',
  logRecent: 'LOG_RECENT',
  ...Object.fromEntries(
    VENUE_IDS.flatMap((v) => [
      [`urls.${v}.wsUrl`, `${v.toUpperCase()}_WS_URL`],
      [`urls.${v}.restUrl`, `${v.toUpperCase()}_REST_URL`],
    ]),
  ),
  'failover.enabled': 'ENABLE_FAILOVER',
  'failover.primary': 'PRIMARY_EXCHANGE',
  'failover.maxSourceLatencyMs': 'MAX_SOURCE_LATENCY',
  'failover.conflictResolution': 'CONFLICT_RESOLUTION',
  'storage.databaseUrl': 'DATABASE_URL',
  'storage.dataDir': 'DATA_DIR',
  'storage.storeTrades': 'STORE_TRADES',
  'gateway.apiRateLimit': 'API_RATE_LIMIT',
  'gateway.apiRateLimitWindowMs': 'API_RATE_LIMIT_WINDOW_MS',
  'gateway.trustedProxies': 'TRUSTED_PROXIES',
  'gateway.maxConnections': 'MAX_CONNECTIONS',
  'gateway.maxConnectionsPerIp': 'MAX_CONNECTIONS_PER_IP',
  'gateway.allowedOrigins': 'ALLOWED_ORIGINS',
  'gateway.perMessageDeflate': 'PER_MESSAGE_DEFLATE',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  'auth.secret': 'AUTH_SECRET',
  'redis.url': 'REDIS_URL',
  'redis.prefix': 'REDIS_PREFIX',
};

/** The variable a rejected value came from: the longest prefix of `path` that the environment set, if any. */
function variableOf(path: readonly string[], fromEnvironment: Record<string, unknown>): string | undefined {
  for (let n = path.length; n > 0; n--) {
    let value: unknown = fromEnvironment;
    for (const key of path.slice(0, n)) value = isPlainObject(value) ? value[key] : undefined;
    const variable = ENV_VARIABLES[path.slice(0, n).join('.')];
    if (value !== undefined && variable !== undefined) return variable;
  }
  return undefined;
}

/** `name` as an integer; undefined when unset, or when not an integer (then an issue for `path` is recorded). */
function intFromEnv(env: Env, name: string, path: string, issues: ConfigIssue[]): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (Number.isInteger(n)) return n;
  issues.push({ path, variable: name, message: `must be an integer, got "${raw}"` });
  return undefined;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** `name` as a boolean; undefined when unset, or when not a boolean word (then an issue is recorded). */
function boolFromEnv(env: Env, name: string, path: string, issues: ConfigIssue[]): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  issues.push({ path, variable: name, message: `must be true or false, got "${raw}"` });
  return undefined;
}

function listFromEnv(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The configuration keys set by environment variables; a value that cannot be read is left out, in `issues`. */
function fromEnv(env: Env, issues: ConfigIssue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const port = intFromEnv(env, 'PORT', 'port', issues);
  if (port !== undefined) out['port'] = port;
  if (env['HOST']) out['host'] = env['HOST'];
  const symbols = listFromEnv(env, 'SYMBOLS');
  if (symbols) out['symbols'] = symbols.map((s) => s.toUpperCase());
  const venues = listFromEnv(env, 'VENUES');
  if (venues) out['venues'] = venues.map((s) => s.toLowerCase());
  if (env['LOG_LEVEL']) out['logLevel'] = env['LOG_LEVEL'];
  if (env['LOG_FORMAT']) out['logFormat'] = env['LOG_FORMAT'].trim().toLowerCase();
  const logRecent = intFromEnv(env, 'LOG_RECENT', 'logRecent', issues);
  if (logRecent !== undefined) out['logRecent'] = logRecent;
  const urls: Record<string, Record<string, string>> = {};
  for (const venue of VENUE_IDS) {
    const prefix = venue.toUpperCase();
    const ws = env[`${prefix}_WS_URL`];
    const rest = env[`${prefix}_REST_URL`];
    if (ws || rest) urls[venue] = { ...(ws ? { wsUrl: ws } : {}), ...(rest ? { restUrl: rest } : {}) };
  }
  if (Object.keys(urls).length > 0) out['urls'] = urls;
  const failover: Record<string, unknown> = {};
  const enabled = boolFromEnv(env, 'ENABLE_FAILOVER', 'failover.enabled', issues);
  if (enabled !== undefined) failover['enabled'] = enabled;
  if (env['PRIMARY_EXCHANGE']) failover['primary'] = env['PRIMARY_EXCHANGE'].trim().toLowerCase();
  const maxLatency = intFromEnv(env, 'MAX_SOURCE_LATENCY', 'failover.maxSourceLatencyMs', issues);
  if (maxLatency !== undefined) failover['maxSourceLatencyMs'] = maxLatency;
  if (env['CONFLICT_RESOLUTION'])
    failover['conflictResolution'] = env['CONFLICT_RESOLUTION'].trim().toLowerCase();
  if (Object.keys(failover).length > 0) out['failover'] = failover;
  const storage: Record<string, unknown> = {};
  if (env['DATABASE_URL']) storage['databaseUrl'] = env['DATABASE_URL'].trim();
  if (env['DATA_DIR']) storage['dataDir'] = env['DATA_DIR'];
  const storeTrades = boolFromEnv(env, 'STORE_TRADES', 'storage.storeTrades', issues);
  if (storeTrades !== undefined) storage['storeTrades'] = storeTrades;
  if (Object.keys(storage).length > 0) out['storage'] = storage;
  const gateway: Record<string, unknown> = {};
  for (const [key, name] of [
    ['apiRateLimit', 'API_RATE_LIMIT'],
    ['apiRateLimitWindowMs', 'API_RATE_LIMIT_WINDOW_MS'],
    ['trustedProxies', 'TRUSTED_PROXIES'],
    ['maxConnections', 'MAX_CONNECTIONS'],
    ['maxConnectionsPerIp', 'MAX_CONNECTIONS_PER_IP'],
  ] as const) {
    const value = intFromEnv(env, name, `gateway.${key}`, issues);
    if (value !== undefined) gateway[key] = value;
  }
  const origins = listFromEnv(env, 'ALLOWED_ORIGINS');
  if (origins) gateway['allowedOrigins'] = origins;
  const deflate = boolFromEnv(env, 'PER_MESSAGE_DEFLATE', 'gateway.perMessageDeflate', issues);
  if (deflate !== undefined) gateway['perMessageDeflate'] = deflate;
  if (Object.keys(gateway).length > 0) out['gateway'] = gateway;
  const shutdownTimeoutMs = intFromEnv(env, 'SHUTDOWN_TIMEOUT_MS', 'shutdownTimeoutMs', issues);
  if (shutdownTimeoutMs !== undefined) out['shutdownTimeoutMs'] = shutdownTimeoutMs;
  const redis: Record<string, unknown> = {};
  if (env['REDIS_URL']) redis['url'] = env['REDIS_URL'].trim();
  if (env['REDIS_PREFIX'] !== undefined) redis['prefix'] = env['REDIS_PREFIX'];
  if (Object.keys(redis).length > 0) out['redis'] = redis;
  if (env['AUTH_SECRET']) out['auth'] = { secret: env['AUTH_SECRET'] };
  return out;
}

/**
 * Completes the configured accounts from the environment: a Bitget account without `credentials` in the file
 * reads them from BITGET_API_KEY, BITGET_API_SECRET, BITGET_API_PASSPHRASE (or the variables its `env` names); a
 * missing one is an issue that names the variable, never a value. A dYdX account without `address` /
 * `subaccountNumber` reads DYDX_ADDRESS / DYDX_SUBACCOUNT_NUMBER (default 0).
 */
function accountsFromEnv(merged: Record<string, unknown>, env: Env, issues: ConfigIssue[]): void {
  const accounts = merged['accounts'];
  if (!Array.isArray(accounts)) return;
  accounts.forEach((account: unknown, i) => {
    if (!isPlainObject(account)) return;
    if (account['venue'] === 'bitget' && account['credentials'] === undefined) {
      const names = isPlainObject(account['env']) ? account['env'] : {};
      const credentials: Record<string, string> = {};
      for (const field of CREDENTIAL_FIELDS) {
        const named = names[field];
        const variable = typeof named === 'string' ? named : BITGET_CREDENTIAL_VARIABLES[field];
        const value = env[variable];
        if (value !== undefined && value !== '') credentials[field] = value;
        else
          issues.push({
            path: `accounts.${i}.credentials.${field}`,
            variable,
            message: `missing: set ${variable} (or give accounts[].env.${field} another variable name)`,
          });
      }
      if (Object.keys(credentials).length === CREDENTIAL_FIELDS.length) account['credentials'] = credentials;
    }
    if (account['venue'] === 'dydx') {
      if (account['address'] === undefined && env['DYDX_ADDRESS'])
        account['address'] = env['DYDX_ADDRESS'].trim();
      if (account['subaccountNumber'] === undefined) {
        const n = intFromEnv(env, 'DYDX_SUBACCOUNT_NUMBER', `accounts.${i}.subaccountNumber`, issues);
        account['subaccountNumber'] = n ?? 0;
      }
    }
  });
}

/**
 * The configuration as it may be shown (a dump, a log line): every credential is a Secret, which serializes as
 * `[Redacted]`; this makes it plain JSON with those in place.
 */
export function printableConfig(config: Config): unknown {
  return JSON.parse(JSON.stringify(config));
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) deepMerge(current, value);
    else target[key] = value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** One configured account, as validated. */
export type AccountConfig = Config['accounts'][number];

/**
 * The plain API key, secret and passphrase of a Bitget account, for the venue client that signs with them only:
 * never log or print the result (pino's redaction of `credentials`, `apiKey`, `secret`, `passphrase` is the last
 * guard).
 */
export function bitgetCredentials(account: Extract<AccountConfig, { venue: 'bitget' }>): {
  apiKey: string;
  secret: string;
  passphrase: string;
} {
  const c = account.credentials;
  return { apiKey: c.apiKey.reveal(), secret: c.secret.reveal(), passphrase: c.passphrase.reveal() };
}
