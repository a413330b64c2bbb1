import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { demoAccounts } from '../accounts/config.ts';
import { startSimulator, type Simulator } from '../simulator.ts';

const START = Date.UTC(2026, 2, 2, 8, 0, 0);
const MINUTE = 60_000;

// The demo asks the simulator for BTC/USDT and BTC/USD (dYdX's market); Bitget's USDT-M futures account holds only
// USDT-margined contracts, so the USD pair must not become one of its perpetuals.
describe('Bitget simulator with a USD pair among the symbols', () => {
  let sim: Simulator;
  let clock = START;
  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'BTC/USD'],
      historyDays: 0,
      tradesPerSecond: 2,
      now: () => clock,
      bitget: { accounts: [{ ...demoAccounts.bitget[0]!, trader: { meanIntervalMs: 20_000 } }] },
    });
  });
  after(async () => {
    await sim.close();
  });

  test('the futures account and its seeded trader know only the USDT perpetual', () => {
    const account = sim.accounts.of('bitget').accounts[0]!;
    assert.deepEqual(account.symbols, ['BTC/USDT']);
    for (let i = 0; i < 120; i++) {
      clock += MINUTE;
      sim.advance();
    }
    const orders = account.orders();
    assert.ok(orders.length > 0, 'the seeded trader placed orders');
    assert.deepEqual([...new Set(orders.map((o) => o.symbol))], ['BTC/USDT']);
    assert.ok(account.positions().every((p) => p.symbol === 'BTC/USDT'));
  });

  test('USDT-FUTURES lists no BTCUSD; the USDT perpetual and the spot pairs are served', async () => {
    const get = async (path: string): Promise<string> => {
      const res = await fetch(`${sim.urls.bitget.restUrl}${path}`);
      return ((await res.json()) as { code: string }).code;
    };
    assert.notEqual(await get('/api/v2/mix/market/ticker?symbol=BTCUSD&productType=USDT-FUTURES'), '00000');
    assert.equal(await get('/api/v2/mix/market/ticker?symbol=BTCUSDT&productType=USDT-FUTURES'), '00000');
    assert.equal(await get('/api/v2/spot/market/tickers?symbol=BTCUSDT'), '00000');
  });
});
