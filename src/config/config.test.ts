import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TickwireError } from '../domain/errors.ts';
import { loadConfig } from './config.ts';

test('defaults: port 7000, BTC/USDT, live Binance URLs', () => {
  const c = loadConfig({});
  assert.equal(c.port, 7000);
  assert.deepEqual(c.symbols, ['BTC/USDT']);
  assert.equal(c.urls.binance.wsUrl, 'wss://stream.binance.com:9443');
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.gateway));
});

test('environment variables override the file, which overrides the defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-config-'));
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
      e instanceof TickwireError && e.code === 'CONFIG_INVALID' && /PORT must be an integer/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ SYMBOLS: 'BTCUSDT', BINANCE_REST_URL: 'not a url' }),
    (e: unknown) =>
      e instanceof TickwireError &&
      /symbols\.0: must look like BTC\/USDT/.test(e.message) &&
      /urls\.binance\.restUrl: must be an absolute URL/.test(e.message),
  );
});

test('rejects unknown keys and unreadable files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-config-'));
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ prot: 7000 }));
  assert.throws(() => loadConfig({}, file), /Unrecognized key/);
  writeFileSync(file, '{ not json');
  assert.throws(() => loadConfig({}, file), /is not a JSON object/);
  assert.throws(() => loadConfig({}, join(dir, 'missing.json')), /cannot read config file/);
});
