import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, DEFAULT_CONFIG } from '../config/config.ts';
import { Secret } from '../config/secret.ts';
import { AccountAuth } from '../gateway/auth.ts';
import { demoAccounts as simDemoAccounts } from '../sim/accounts/config.ts';
import {
  dashboardUrl,
  DEMO_DATA_DIR,
  demoAccountsBanner,
  demoConfig,
  demoMarket,
  issueDemoTokens,
} from './demo.ts';

describe('demo configuration', () => {
  const config = configSchema.parse({
    ...DEFAULT_CONFIG,
    symbols: ['BTC/USDT'],
    storage: { ...DEFAULT_CONFIG.storage, dataDir: '/srv/tickwire', databaseUrl: 'postgres://db/prod' },
    redis: { url: 'redis://cache:6379', prefix: 'prod:' },
  });
  const simUrls = {
    binance: { wsUrl: 'ws://127.0.0.1:7100/binance/ws', restUrl: 'http://127.0.0.1:7100/binance' },
    dydx: { wsUrl: 'ws://127.0.0.1:7100/dydx/ws', restUrl: 'http://127.0.0.1:7100/dydx' },
  };

  it("keeps the demo's history apart from a real run's: its own directory, never DATABASE_URL or REDIS_URL", () => {
    const demo = demoConfig(config, demoMarket(config, false), simUrls);
    assert.equal(demo.storage.dataDir, join('/srv/tickwire', DEMO_DATA_DIR));
    assert.equal(demo.storage.databaseUrl, undefined);
    assert.equal(demo.redis.url, undefined);
    assert.equal(demo.redis.prefix, 'prod:');
  });

  it('points the venues the simulator serves at it, and shows every venue with its instruments', () => {
    const demo = demoConfig(config, demoMarket(config, false), simUrls);
    assert.deepEqual(demo.urls.binance, simUrls.binance);
    assert.deepEqual(demo.urls.dydx, simUrls.dydx);
    assert.deepEqual(demo.urls.okx, DEFAULT_CONFIG.urls.okx);
    assert.deepEqual(demo.venues, ['binance', 'bitget', 'okx', 'dydx']);
    assert.deepEqual(demo.symbols, ['BTC/USDT', 'BTC/USD']);
    assert.deepEqual(demoMarket({ ...config, venues: ['okx'] }, true), {
      venues: ['okx'],
      symbols: ['BTC/USDT'],
    });
  });
});

describe('the demo dashboard links', () => {
  it('shows the dashboard on the gateway port, loopback and wildcard hosts as localhost', () => {
    assert.equal(dashboardUrl('ws://127.0.0.1:7000'), 'http://localhost:7000/');
    assert.equal(dashboardUrl('ws://0.0.0.0:7000'), 'http://localhost:7000/');
    assert.equal(dashboardUrl('ws://[::1]:7000'), 'http://localhost:7000/');
    assert.equal(dashboardUrl('ws://192.168.1.20:7000'), 'http://192.168.1.20:7000/');
    assert.equal(dashboardUrl('wss://ticks.example.com'), 'https://ticks.example.com/');
  });

  it('gives each demo account a dashboard link whose #token= opens that account', async () => {
    const config = configSchema.parse({ ...DEFAULT_CONFIG, symbols: ['BTC/USDT'] });
    const secret = new Secret('demo-links-secret-0123456789abcdef0123');
    const demo = demoConfig(
      config,
      demoMarket(config, false),
      {},
      {
        keys: { bitget: simDemoAccounts.bitget[0], dydx: simDemoAccounts.dydx[0] },
        authSecret: secret,
      },
    );
    const banner = demoAccountsBanner(demo, 'ws://127.0.0.1:7000', await issueDemoTokens(demo), false);
    const links = [...banner.matchAll(/^ {4}dashboard: (http:\/\/localhost:7000\/)#token=(\S+)$/gm)];
    assert.equal(links.length, 2, banner);
    const auth = AccountAuth.fromConfig(demo, Date.now);
    const accounts = await Promise.all(links.map(async ([, , token]) => auth.verify(token)));
    assert.deepEqual(
      accounts.map((verdict) => (verdict.ok ? verdict.account : verdict)),
      ['demo-bitget', 'demo-dydx'],
    );
  });
});
