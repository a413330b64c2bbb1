import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TickwireError } from '../domain/errors.ts';
import { supportedVenues, venueModules } from '../venues/registry.ts';
import { inspect } from 'node:util';
import { bitgetCredentials, loadConfig, printableConfig } from './config.ts';

/** Every configuration file of this file's tests lives under one temporary folder, removed at the end. */
const tempRoot = mkdtempSync(join(tmpdir(), 'tickwire-config-'));
after(() => rmSync(tempRoot, { recursive: true, force: true }));
const tempDir = (): string => mkdtempSync(join(tempRoot, 'case-'));

test('defaults: port 7000, BTC/USDT, live Binance URLs', () => {
  const c = loadConfig({});
  assert.equal(c.port, 7000);
  assert.deepEqual(c.symbols, ['BTC/USDT']);
  assert.equal(c.urls.binance.wsUrl, 'wss://stream.binance.com:9443');
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.gateway));
});

test('environment variables override the file, which overrides the defaults', () => {
  const dir = tempDir();
  const file = join(dir, 'tickwire.json');
  writeFileSync(file, JSON.stringify({ port: 7100, symbols: ['ETH/USDT'], gateway: { throttleMs: 500 } }));
  const c = loadConfig(
    {
      PORT: '7200',
      SYMBOLS: 'btc/usdt, ETH/USDT',
      BINANCE_WS_URL: 'ws://127.0.0.1:9/binance',
      DYDX_REST_URL: 'http://127.0.0.1:9/dydx',
    },
    file,
  );
  assert.equal(c.port, 7200);
  assert.deepEqual(c.symbols, ['BTC/USDT', 'ETH/USDT']);
  assert.equal(c.gateway.throttleMs, 500);
  assert.equal(c.gateway.heartbeatMs, 30_000, 'untouched keys keep their defaults');
  assert.equal(c.urls.binance.wsUrl, 'ws://127.0.0.1:9/binance');
  assert.equal(c.urls.binance.restUrl, 'https://api.binance.com');
  assert.equal(c.urls.dydx.restUrl, 'http://127.0.0.1:9/dydx');
});

test('rejects invalid values with a message naming each key', () => {
  assert.throws(
    () => loadConfig({ PORT: 'seventy' }),
    (e: unknown) =>
      e instanceof TickwireError &&
      e.code === 'CONFIG_INVALID' &&
      /port: must be an integer, got "seventy" \(from PORT\)/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ SYMBOLS: 'BTCUSDT', BINANCE_REST_URL: 'not a url' }),
    (e: unknown) =>
      e instanceof TickwireError &&
      /symbols\.0: must look like BTC\/USDT/.test(e.message) &&
      /urls\.binance\.restUrl: must be an absolute URL/.test(e.message),
  );
});

test('names every bad key at once: unreadable variables and values the schema rejects', () => {
  assert.throws(
    () =>
      loadConfig({
        PORT: 'abc',
        ENABLE_FAILOVER: 'maybe',
        SYMBOLS: 'FOO',
        LOG_LEVEL: 'loud',
        VENUES: 'okx',
        PRIMARY_EXCHANGE: 'binance',
      }),
    (e: unknown) => {
      assert.ok(e instanceof TickwireError && e.code === 'CONFIG_INVALID');
      assert.deepEqual(e.message.split('\n'), [
        'invalid configuration:',
        '  port: must be an integer, got "abc" (from PORT)',
        '  failover.enabled: must be true or false, got "maybe" (from ENABLE_FAILOVER)',
        '  symbols.0: must look like BTC/USDT (BASE/QUOTE, upper case) (from SYMBOLS)',
        '  logLevel: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent" (from LOG_LEVEL)',
        '  failover.primary: must be one of the configured venues (okx), got "binance" (from PRIMARY_EXCHANGE)',
      ]);
      return true;
    },
  );
});

test('a bad key from the file is named without a variable, one from the environment with it', () => {
  const dir = tempDir();
  const file = join(dir, 'tickwire.json');
  writeFileSync(file, JSON.stringify({ gateway: { throttleMs: -1 }, urls: { okx: { wsUrl: 'nope' } } }));
  assert.throws(
    () => loadConfig({ STORE_TRADES: 'perhaps', OKX_REST_URL: 'also nope' }, file),
    (e: unknown) => {
      assert.ok(e instanceof TickwireError);
      const lines = e.message.split('\n').slice(1);
      assert.equal(lines.length, 4, e.message);
      assert.ok(
        lines.includes('  storage.storeTrades: must be true or false, got "perhaps" (from STORE_TRADES)'),
      );
      assert.ok(lines.includes('  urls.okx.wsUrl: must be an absolute URL'), e.message);
      assert.ok(lines.includes('  urls.okx.restUrl: must be an absolute URL (from OKX_REST_URL)'), e.message);
      assert.ok(
        lines.some((l) => l.startsWith('  gateway.throttleMs: ')),
        e.message,
      );
      return true;
    },
  );
});

test('rejects unknown keys and unreadable files', () => {
  const dir = tempDir();
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ prot: 7000 }));
  assert.throws(() => loadConfig({}, file), /Unrecognized key/);
  writeFileSync(file, '{ not json');
  assert.throws(() => loadConfig({}, file), /is not a JSON object/);
  assert.throws(() => loadConfig({}, join(dir, 'missing.json')), /cannot read config file/);
});

test('failover: defaults, with the primary defaulting to the first configured venue', () => {
  const c = loadConfig({});
  assert.deepEqual(c.failover, {
    enabled: true,
    primary: 'binance',
    maxSourceLatencyMs: 5000,
    staleAfterMs: 10_000,
    holdDownMs: 3000,
    startupGraceMs: 10_000,
    evaluateEveryMs: 250,
    maxErrors: 5,
    errorWindowMs: 60_000,
    conflictResolution: 'primary',
    outlierBandBps: 100,
  });
  assert.equal(loadConfig({ VENUES: 'okx,bitget' }).failover.primary, 'okx');
  assert.ok(Object.isFrozen(c.failover));
});

test('failover: ENABLE_FAILOVER, PRIMARY_EXCHANGE, MAX_SOURCE_LATENCY, CONFLICT_RESOLUTION', () => {
  const c = loadConfig({
    ENABLE_FAILOVER: 'false',
    PRIMARY_EXCHANGE: 'OKX',
    MAX_SOURCE_LATENCY: '2500',
    CONFLICT_RESOLUTION: 'Average',
  });
  assert.equal(c.failover.enabled, false);
  assert.equal(c.failover.primary, 'okx');
  assert.equal(c.failover.maxSourceLatencyMs, 2500);
  assert.equal(c.failover.conflictResolution, 'average');
  assert.equal(loadConfig({ ENABLE_FAILOVER: '1' }).failover.enabled, true);
  assert.equal(loadConfig({ ENABLE_FAILOVER: 'off' }).failover.enabled, false);
});

test('failover: file keys, overridden by the environment', () => {
  const dir = tempDir();
  const file = join(dir, 'tickwire.json');
  writeFileSync(
    file,
    JSON.stringify({ failover: { holdDownMs: 5000, staleAfterMs: 4000, conflictResolution: 'latest' } }),
  );
  const c = loadConfig({ CONFLICT_RESOLUTION: 'primary' }, file);
  assert.equal(c.failover.holdDownMs, 5000);
  assert.equal(c.failover.staleAfterMs, 4000);
  assert.equal(c.failover.conflictResolution, 'primary');
  assert.equal(c.failover.maxSourceLatencyMs, 5000);
});

test('failover: clear errors for bad values and a primary that is not a configured venue', () => {
  assert.throws(
    () => loadConfig({ ENABLE_FAILOVER: 'maybe' }),
    (e: unknown) =>
      e instanceof TickwireError &&
      /failover\.enabled: must be true or false, got "maybe" \(from ENABLE_FAILOVER\)/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ MAX_SOURCE_LATENCY: '5s' }),
    /failover\.maxSourceLatencyMs: must be an integer, got "5s" \(from MAX_SOURCE_LATENCY\)/,
  );
  assert.throws(() => loadConfig({ MAX_SOURCE_LATENCY: '0' }), /failover\.maxSourceLatencyMs:/);
  assert.throws(() => loadConfig({ CONFLICT_RESOLUTION: 'median' }), /failover\.conflictResolution:/);
  assert.throws(() => loadConfig({ PRIMARY_EXCHANGE: 'kraken' }), /failover\.primary:/);
  assert.throws(
    () => loadConfig({ VENUES: 'okx,bitget', PRIMARY_EXCHANGE: 'binance' }),
    (e: unknown) =>
      e instanceof TickwireError &&
      e.code === 'CONFIG_INVALID' &&
      /failover\.primary: must be one of the configured venues \(okx, bitget\), got "binance"/.test(
        e.message,
      ),
  );
});

test('storage and scale-out: DATABASE_URL, DATA_DIR, STORE_TRADES, REDIS_URL, REDIS_PREFIX', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.storage.databaseUrl, undefined, 'embedded storage by default');
  assert.equal(defaults.storage.dataDir, './data');
  assert.equal(defaults.storage.storeTrades, false);
  assert.equal(defaults.redis.url, undefined, 'in-process bus by default');
  const c = loadConfig({
    DATABASE_URL: 'postgres://tickwire@db:5432/tickwire',
    DATA_DIR: '/var/lib/tickwire',
    STORE_TRADES: 'yes',
    REDIS_URL: 'redis://cache:6379/0',
    REDIS_PREFIX: 'prod:',
  });
  assert.equal(c.storage.databaseUrl, 'postgres://tickwire@db:5432/tickwire');
  assert.equal(c.storage.dataDir, '/var/lib/tickwire');
  assert.equal(c.storage.storeTrades, true);
  assert.equal(c.redis.url, 'redis://cache:6379/0');
  assert.equal(c.redis.prefix, 'prod:');
  assert.throws(
    () => loadConfig({ DATABASE_URL: 'mysql://db/x' }),
    /storage\.databaseUrl: must be a postgres/,
  );
  assert.throws(() => loadConfig({ REDIS_URL: 'cache:6379' }), /redis\.url: must be a redis/);
  assert.throws(
    () => loadConfig({ STORE_TRADES: 'maybe' }),
    /storage\.storeTrades: must be true or false, got "maybe" \(from STORE_TRADES\)/,
  );
});

test('/api/ rate limit: API_RATE_LIMIT, API_RATE_LIMIT_WINDOW_MS, TRUSTED_PROXIES override the file', () => {
  const dir = tempDir();
  const file = join(dir, 'tickwire.json');
  writeFileSync(file, JSON.stringify({ gateway: { apiRateLimit: 50, trustedProxies: 2 } }));
  const c = loadConfig({ API_RATE_LIMIT: '500', API_RATE_LIMIT_WINDOW_MS: '60000' }, file);
  assert.equal(c.gateway.apiRateLimit, 500);
  assert.equal(c.gateway.apiRateLimitWindowMs, 60_000);
  assert.equal(c.gateway.trustedProxies, 2, 'a key the environment does not set keeps the file value');
  assert.throws(
    () => loadConfig({ API_RATE_LIMIT: 'lots', TRUSTED_PROXIES: '-1' }),
    (e: unknown) =>
      e instanceof TickwireError &&
      /gateway\.apiRateLimit: must be an integer, got "lots" \(from API_RATE_LIMIT\)/.test(e.message) &&
      /gateway\.trustedProxies: .*\(from TRUSTED_PROXIES\)/.test(e.message),
  );
});

test('connection limits, origins, compression and the shutdown timeout: defaults and variables', () => {
  const d = loadConfig({});
  assert.equal(d.gateway.maxConnections, 10_000);
  assert.equal(d.gateway.maxConnectionsPerIp, 100);
  assert.deepEqual(d.gateway.allowedOrigins, []);
  assert.equal(d.gateway.perMessageDeflate, false);
  assert.equal(d.shutdownTimeoutMs, 8000);
  const c = loadConfig({
    MAX_CONNECTIONS: '50000',
    MAX_CONNECTIONS_PER_IP: '20000',
    ALLOWED_ORIGINS: 'https://charts.example.com, http://localhost:3000',
    PER_MESSAGE_DEFLATE: 'on',
    SHUTDOWN_TIMEOUT_MS: '12000',
  });
  assert.equal(c.gateway.maxConnections, 50_000);
  assert.equal(c.gateway.maxConnectionsPerIp, 20_000);
  assert.deepEqual(c.gateway.allowedOrigins, ['https://charts.example.com', 'http://localhost:3000']);
  assert.equal(c.gateway.perMessageDeflate, true);
  assert.equal(c.shutdownTimeoutMs, 12_000);
  assert.deepEqual(loadConfig({ ALLOWED_ORIGINS: '*' }).gateway.allowedOrigins, ['*']);
  assert.throws(
    () => loadConfig({ ALLOWED_ORIGINS: 'https://charts.example.com/app', PER_MESSAGE_DEFLATE: 'gzip' }),
    (e: unknown) =>
      e instanceof TickwireError &&
      /gateway\.allowedOrigins\.0: must be \* or an origin .*\(from ALLOWED_ORIGINS\)/.test(e.message) &&
      /gateway\.perMessageDeflate: must be true or false, got "gzip" \(from PER_MESSAGE_DEFLATE\)/.test(
        e.message,
      ),
  );
});

test('a history burst below maxInitialBars is refused: that request could never pass', () => {
  const dir = tempDir();
  const file = join(dir, 'tickwire.json');
  writeFileSync(file, JSON.stringify({ gateway: { maxInitialBars: 5000, historyBurstBarsPerIp: 4000 } }));
  assert.throws(
    () => loadConfig({}, file),
    (e: unknown) =>
      e instanceof TickwireError &&
      e.message.includes(
        'gateway.historyBurstBarsPerIp: must be at least gateway.maxInitialBars (5000), got 4000',
      ),
  );
});

test('every registered venue has its urls key, with its own defaults and variables', () => {
  const c = loadConfig({});
  assert.deepEqual(c.venues, ['binance', 'okx', 'bitget', 'dydx'], 'the documented default order');
  assert.deepEqual(c.venues, supportedVenues(), 'the order of the registry');
  assert.deepEqual(Object.keys(c.urls).sort(), [...supportedVenues()].sort());
  for (const venue of venueModules()) {
    assert.deepEqual(c.urls[venue.id], venue.defaultUrls);
    const prefix = venue.id.toUpperCase();
    const set = loadConfig({
      [`${prefix}_WS_URL`]: `ws://127.0.0.1:9/${venue.id}`,
      [`${prefix}_REST_URL`]: `http://127.0.0.1:9/${venue.id}`,
    });
    assert.deepEqual(set.urls[venue.id], {
      wsUrl: `ws://127.0.0.1:9/${venue.id}`,
      restUrl: `http://127.0.0.1:9/${venue.id}`,
    });
  }
});

test('ingest.lockSafetyMarginMs: unset by default (the lock uses a fifth of the TTL), at most half the TTL', () => {
  assert.equal(loadConfig({}).ingest.lockSafetyMarginMs, undefined);
  const dir = tempDir();
  const file = join(dir, 'tickwire.json');
  writeFileSync(file, JSON.stringify({ ingest: { lockTtlMs: 10_000, lockSafetyMarginMs: 5000 } }));
  assert.equal(loadConfig({}, file).ingest.lockSafetyMarginMs, 5000);
  for (const [margin, message] of [
    [5001, 'ingest.lockSafetyMarginMs: must be at most half of ingest.lockTtlMs'],
    [-1, 'ingest.lockSafetyMarginMs: Too small'],
    [1.5, 'ingest.lockSafetyMarginMs: Invalid input: expected int'],
  ] as const) {
    writeFileSync(file, JSON.stringify({ ingest: { lockTtlMs: 10_000, lockSafetyMarginMs: margin } }));
    assert.throws(
      () => loadConfig({}, file),
      (e: unknown) =>
        e instanceof TickwireError && e.code === 'CONFIG_INVALID' && e.message.includes(message),
      `margin ${margin}`,
    );
  }
});

const BITGET_ENV = {
  BITGET_API_KEY: 'bg_key_7d1c0ffee5ecret000111',
  BITGET_API_SECRET: 'bg_secret_9a8b7c6d5e4f3a2b1c0d',
  BITGET_API_PASSPHRASE: 'bg-pass-phrase-42',
};
const AUTH_SECRET = 'auth-secret-for-tests-0123456789abcdef';
const DYDX_ADDRESS = 'dydx1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq'.slice(0, 43);

function accountsFile(body: unknown): string {
  const dir = tempDir();
  const file = join(dir, 'tickwire.json');
  writeFileSync(file, JSON.stringify(body));
  return file;
}

test('accounts: Bitget credentials from the environment, dYdX address from the file, AUTH_SECRET', () => {
  const file = accountsFile({
    accounts: [
      { id: 'main', venue: 'bitget' },
      { id: 'dd', venue: 'dydx', address: DYDX_ADDRESS, subaccountNumber: 0 },
    ],
    auth: { tokens: [{ token: 'static-token-0123456789abcdef0123456789', account: 'dd' }] },
  });
  const c = loadConfig({ ...BITGET_ENV, AUTH_SECRET }, file);
  const [bitget, dydx] = c.accounts;
  assert.ok(bitget?.venue === 'bitget' && dydx?.venue === 'dydx');
  assert.equal(bitget.credentials.apiKey.reveal(), BITGET_ENV.BITGET_API_KEY);
  assert.equal(bitget.credentials.passphrase.reveal(), BITGET_ENV.BITGET_API_PASSPHRASE);
  assert.deepEqual(bitgetCredentials(bitget), {
    apiKey: BITGET_ENV.BITGET_API_KEY,
    secret: BITGET_ENV.BITGET_API_SECRET,
    passphrase: BITGET_ENV.BITGET_API_PASSPHRASE,
  });
  assert.equal(dydx.address, DYDX_ADDRESS);
  assert.equal(c.auth.secret?.reveal(), AUTH_SECRET);
  assert.equal(c.auth.tokens[0]?.account, 'dd');
  // A dump or an inspection of the configuration shows none of them.
  const shown = JSON.stringify(printableConfig(c)) + inspect(c, { depth: 10 }) + String(c.auth.secret);
  for (const value of [...Object.values(BITGET_ENV), AUTH_SECRET, 'static-token-0123456789abcdef0123456789'])
    assert.ok(!shown.includes(value), 'a secret was printed');
  assert.match(shown, /\[Redacted\]/);
});

test('accounts: per-account variable names; a missing credential names its variable, never a value', () => {
  const file = accountsFile({
    accounts: [{ id: 'alt', venue: 'bitget', env: { apiKey: 'ALT_KEY', secret: 'ALT_SECRET' } }],
  });
  const c = loadConfig({ ALT_KEY: 'k-alt', ALT_SECRET: 's-alt', BITGET_API_PASSPHRASE: 'p-alt' }, file);
  const alt = c.accounts[0];
  assert.ok(alt?.venue === 'bitget');
  assert.equal(alt.credentials.apiKey.reveal(), 'k-alt');
  assert.equal(alt.credentials.passphrase.reveal(), 'p-alt');
  assert.throws(
    () => loadConfig({ ALT_KEY: 'k-alt-secret-value' }, file),
    (e: unknown) =>
      e instanceof TickwireError &&
      e.code === 'CONFIG_INVALID' &&
      /accounts\.0\.credentials\.secret: missing: set ALT_SECRET/.test(e.message) &&
      /accounts\.0\.credentials\.passphrase: missing: set BITGET_API_PASSPHRASE/.test(e.message) &&
      !/expected object/.test(e.message) &&
      !e.message.includes('k-alt-secret-value'),
  );
});

test('auth: a short AUTH_SECRET, a token for an unknown account and duplicate ids are refused', () => {
  const file = accountsFile({
    accounts: [
      { id: 'dd', venue: 'dydx', address: DYDX_ADDRESS },
      { id: 'dd', venue: 'dydx', address: DYDX_ADDRESS },
    ],
    auth: { tokens: [{ token: 'static-token-0123456789abcdef0123456789', account: 'nobody' }] },
  });
  assert.throws(
    () => loadConfig({ AUTH_SECRET: 'short-secret-value' }, file),
    (e: unknown) =>
      e instanceof TickwireError &&
      /auth\.secret: must be at least 32 characters \(from AUTH_SECRET\)/.test(e.message) &&
      /accounts\.1\.id: duplicate account id "dd"/.test(e.message) &&
      !e.message.includes('short-secret-value'),
  );
  const noDupes = accountsFile({
    accounts: [{ id: 'dd', venue: 'dydx', address: DYDX_ADDRESS }],
    auth: { tokens: [{ token: 'static-token-0123456789abcdef0123456789', account: 'nobody' }] },
  });
  assert.throws(
    () => loadConfig({}, noDupes),
    (e: unknown) =>
      e instanceof TickwireError &&
      /auth\.tokens\.0\.account: must be a configured account id, got "nobody"/.test(e.message) &&
      !e.message.includes('static-token-0123456789abcdef0123456789'),
  );
});
