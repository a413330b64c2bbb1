import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseDecimal } from '../../domain/decimal.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { DydxAccountRest } from '../../venues/dydx/account-rest.ts';
import { startSimulator, type Simulator } from '../simulator.ts';
import { getJson } from '../test-kit.ts';

// `/v4/fills` of the simulated indexer pages as the real one: newest first, `createdBeforeOrAtHeight` inclusive,
// `limit` (default 100). A catch-up of more than one page reads every fill once.
const ADDRESS = 'dydx19uzcm4j5gwx3ffld7avv8q05c75ml7znzpaan0';
const START = Date.UTC(2026, 2, 2, 7, 58, 0);
const FILLS = 250;
const PER_BLOCK = 7;

type Msg = Record<string, unknown>;

describe('dYdX simulator: fills paging by height', () => {
  let sim: Simulator;
  let clock = START;
  let base: string;
  const fillsAt = async (query: string): Promise<Msg[]> => {
    const reply = await getJson(`${base}/v4/fills?address=${ADDRESS}&subaccountNumber=0${query}`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return (reply.body as Msg)['fills'] as Msg[];
  };

  before(async () => {
    sim = await startSimulator({
      symbols: ['ETH/USD'],
      historyDays: 0,
      tradesPerSecond: 5,
      now: () => clock,
      dydx: { accounts: [{ address: ADDRESS, subaccountNumber: 0, trader: false }] },
    });
    base = sim.urls.dydx.restUrl;
    const account = sim.accounts.of('dydx').accounts[0];
    assert.ok(account !== undefined);
    // Market orders fill at once; a few per 1 s block, alternating sides so the margin never runs out.
    for (let i = 0; i < FILLS; i++) {
      if (i % PER_BLOCK === 0) {
        clock += 1_000;
        sim.advance();
      }
      account.placeOrder({
        symbol: 'ETH/USD',
        side: i % 2 === 0 ? 'buy' : 'sell',
        type: 'market',
        size: parseDecimal('0.01'),
      });
    }
    clock += 1_000;
    sim.advance();
  });

  after(async () => {
    await sim.close();
  });

  test('createdBeforeOrAtHeight keeps fills at or below the height, newest first, up to limit', async () => {
    const newest = await fillsAt('');
    assert.equal(newest.length, 100, 'default limit');
    const all = await fillsAt('&limit=1000');
    assert.equal(all.length, FILLS);
    const heights = all.map((f) => Number(f['createdAtHeight']));
    assert.deepEqual(
      heights,
      [...heights].sort((a, b) => b - a),
      'newest first',
    );
    const middle = heights[120] ?? 0;
    const page = await fillsAt(`&createdBeforeOrAtHeight=${middle}&limit=30`);
    assert.equal(page.length, 30);
    assert.ok(page.every((f) => Number(f['createdAtHeight']) <= middle));
    // The page starts with the newest fill of that block: the same fills as the full list from there on.
    const from = heights.indexOf(middle);
    assert.deepEqual(
      page.map((f) => f['id']),
      all.slice(from, from + 30).map((f) => f['id']),
    );
    assert.deepEqual(await fillsAt(`&createdBeforeOrAtHeight=${Math.min(...heights) - 1}`), []);
    const bad = await getJson(
      `${base}/v4/fills?address=${ADDRESS}&subaccountNumber=0&createdBeforeOrAtHeight=abc`,
    );
    assert.equal(bad.status, 400);
  });

  test('a catch-up of more than one page (100 each) reads every fill once, ascending by block', async () => {
    const rest = new DydxAccountRest({
      restUrl: base,
      address: ADDRESS,
      subaccountNumber: 0,
      requestsPerSecond: 1000,
      logger: silentLogger(),
    });
    const caught = await rest.fetchFillsSince({ time: START });
    const all = await fillsAt('&limit=1000');
    assert.equal(caught.length, FILLS, 'no fill lost');
    assert.equal(new Set(caught.map((f) => f.fill.fillId)).size, FILLS, 'none twice');
    assert.deepEqual(caught.map((f) => f.fill.fillId).sort(), all.map((f) => String(f['id'])).sort());
    const heights = caught.map((f) => f.height);
    assert.deepEqual(
      heights,
      [...heights].sort((a, b) => a - b),
      'ascending by block',
    );
  });
});
