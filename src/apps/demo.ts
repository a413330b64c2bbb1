import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AccountConfig, Config } from '../config/config.ts';
import { Secret } from '../config/secret.ts';
import { VENUES, type VenueId } from '../domain/instrument.ts';
import { venuesListing } from '../venues/registry.ts';

/** Where the demo keeps its history, inside DATA_DIR: apart from the history of `tickwire all`. */
export const DEMO_DATA_DIR = 'demo';

export interface DemoMarket {
  readonly venues: readonly VenueId[];
  readonly symbols: readonly string[];
}

/**
 * The venues and instruments of `tickwire demo`: every simulated venue unless VENUES says otherwise, and the USD
 * counterpart of each configured pair where one of those venues lists it (dYdX's USD-quoted perpetuals).
 */
export function demoMarket(config: Config, venuesConfigured: boolean): DemoMarket {
  const venues = venuesConfigured ? config.venues : [...VENUES];
  const listed = (symbol: string): boolean =>
    venuesListing(symbol, config.urls).some((venue) => venues.includes(venue));
  const usd = config.symbols.map((s) => s.replace(/\/USD[TC]$/, '/USD')).filter(listed);
  const symbols = [...new Set([...config.symbols, ...usd])];
  return { venues, symbols };
}

/** The demo's accounts, one per simulated venue with private streams. */
export const DEMO_ACCOUNT_IDS = { bitget: 'demo-bitget', dydx: 'demo-dydx' } as const;

/** The simulator's demo accounts (src/sim/accounts/config.ts `demoAccounts`): fake, public, simulator-only. */
export interface DemoAccountKeys {
  readonly bitget?: { readonly apiKey: string; readonly secret: string; readonly passphrase: string };
  readonly dydx?: { readonly address: string; readonly subaccountNumber: number };
}

/**
 * The demo's token secret: AUTH_SECRET when set, else a random one made for this run (`generated`: its tokens
 * stop working when the demo stops, and the demo says so).
 */
export function demoAuthSecret(config: Config): { readonly secret: Secret; readonly generated: boolean } {
  if (config.auth.secret !== undefined) return { secret: config.auth.secret, generated: false };
  return { secret: new Secret(randomBytes(32).toString('hex')), generated: true };
}

/** The demo's accounts on the venues it runs: `demo-bitget` and `demo-dydx`, on the simulator's demo keys. */
export function demoAccounts(venues: readonly VenueId[], keys: DemoAccountKeys): AccountConfig[] {
  const accounts: AccountConfig[] = [];
  if (venues.includes('bitget') && keys.bitget !== undefined)
    accounts.push({
      id: DEMO_ACCOUNT_IDS.bitget,
      venue: 'bitget',
      credentials: {
        apiKey: new Secret(keys.bitget.apiKey),
        secret: new Secret(keys.bitget.secret),
        passphrase: new Secret(keys.bitget.passphrase),
      },
    });
  if (venues.includes('dydx') && keys.dydx !== undefined)
    accounts.push({
      id: DEMO_ACCOUNT_IDS.dydx,
      venue: 'dydx',
      address: keys.dydx.address,
      subaccountNumber: keys.dydx.subaccountNumber,
    });
  return accounts;
}

/**
 * The configuration the demo runs `all` with: pointed at the simulator, and with nothing shared with a real run,
 * so that simulated bars can never be served as a venue's. Its history lives in the embedded database under
 * DATA_DIR/demo, even when DATABASE_URL is set, and its bus is in-process, even when REDIS_URL is set (gateways
 * attached to that Redis would otherwise stream simulated bars). Its accounts are the simulator's demo accounts
 * only, and its static tokens none.
 */
export function demoConfig(
  config: Config,
  market: DemoMarket,
  simUrls: Partial<Record<VenueId, { readonly wsUrl: string; readonly restUrl: string }>>,
  accounts: { readonly keys: DemoAccountKeys; readonly authSecret: Secret } = {
    keys: {},
    authSecret: new Secret(randomBytes(32).toString('hex')),
  },
): Config {
  const urls = { ...config.urls };
  for (const venue of VENUES) {
    const sim = simUrls[venue];
    if (sim) urls[venue] = { wsUrl: sim.wsUrl, restUrl: sim.restUrl };
  }
  const { databaseUrl: _ignoredDatabase, ...storage } = config.storage;
  const { url: _ignoredRedis, ...redis } = config.redis;
  return Object.freeze({
    ...config,
    venues: [...market.venues],
    symbols: [...market.symbols],
    urls: Object.freeze(urls),
    storage: Object.freeze({ ...storage, dataDir: join(config.storage.dataDir, DEMO_DATA_DIR) }),
    redis: Object.freeze(redis),
    // Only the simulator's demo accounts: a real account configured for `all` is never followed by the demo.
    accounts: demoAccounts(market.venues, accounts.keys),
    auth: Object.freeze({ secret: accounts.authSecret, tokens: [] }),
  });
}

/**
 * The dashboard's address for a gateway listening at `wsUrl`: the page is served on the same port, over HTTP. A
 * loopback or wildcard host is shown as `localhost`, the name a browser on this machine expects.
 */
export function dashboardUrl(wsUrl: string): string {
  const url = new URL(wsUrl.replace(/^ws/, 'http'));
  if (['127.0.0.1', '[::1]', '0.0.0.0', '[::]'].includes(url.hostname)) url.hostname = 'localhost';
  return `${url.origin}/`;
}

/** How long the tokens the demo prints are valid. */
export const DEMO_TOKEN_TTL_MS = 24 * 3600_000;

/**
 * The demo accounts' tokens (valid DEMO_TOKEN_TTL_MS), by account id. Issued before the system starts: the first
 * signing in a process loads WebCrypto, tens of ms in one turn, which would hold the running API back.
 */
export async function issueDemoTokens(
  demo: Config,
  now: () => number = Date.now,
): Promise<Map<string, string>> {
  // Loaded here: the CLI loads this module for every role, and only the demo signs tokens.
  const { AccountAuth } = await import('../gateway/auth.ts');
  const auth = AccountAuth.fromConfig(demo, now);
  const tokens = new Map<string, string>();
  for (const account of demo.accounts)
    tokens.set(account.id, await auth.issue(account.id, DEMO_TOKEN_TTL_MS));
  return tokens;
}

/**
 * What `tickwire demo` prints about its accounts once the API answers: each account's token (`issueDemoTokens`)
 * with the dashboard link that opens that account (the token rides in the URL fragment, which the browser never
 * sends to a server), the dYdX demo address, and where to use them.
 */
export function demoAccountsBanner(
  demo: Config,
  wsUrl: string,
  tokens: ReadonlyMap<string, string>,
  secretGenerated: boolean,
): string {
  const http = wsUrl.replace(/^ws/, 'http').replace('0.0.0.0', 'localhost');
  const lines = ['Demo accounts (simulated traders on the simulator; tokens valid 24 h):'];
  let first: string | undefined;
  for (const account of demo.accounts) {
    const token = tokens.get(account.id);
    if (token === undefined) continue;
    first ??= token;
    const where = account.venue === 'dydx' ? `dYdX ${account.address}/${account.subaccountNumber}` : 'Bitget';
    lines.push(
      `  ${account.id} (${where})`,
      `    token: ${token}`,
      `    dashboard: ${dashboardUrl(wsUrl)}#token=${token}`,
    );
  }
  if (first !== undefined) {
    lines.push(
      `  Live account stream: ${wsUrl}/ws/dashboard?token=<token>`,
      `  History: ${http}/api/account/performance and ${http}/api/account/fills (header Authorization: Bearer <token>)`,
    );
  }
  if (secretGenerated)
    lines.push(
      'AUTH_SECRET is not set: these tokens are signed with a secret made for this run and stop working with it.',
    );
  return lines.join('\n');
}
