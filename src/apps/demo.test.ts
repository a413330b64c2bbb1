import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, DEFAULT_CONFIG } from '../config/config.ts';
import { DEMO_DATA_DIR, demoConfig, demoMarket } from './demo.ts';

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
