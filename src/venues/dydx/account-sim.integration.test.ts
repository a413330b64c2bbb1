import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AccountEvent } from '../../account/contract.ts';
import type { AlertInput } from '../../domain/alert.ts';
import { add, parseDecimal, sub, toPlainString } from '../../domain/decimal.ts';
import type { SimAccount } from '../../sim/accounts/engine.ts';
import { startSimulator, type Simulator } from '../../sim/simulator.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { ManualClock } from '../../util/clock.ts';
import { DydxAccountRest } from './account-rest.ts';
import { createDydxAccountSource, type DydxAccountSource } from './account-source.ts';

// The account source against `tickwire sim`'s dYdX indexer (src/sim/dydx/account-side.ts): the same socket and
// REST a real deployment would use, with the simulator's clock moved by the test.
const ADDRESS = 'dydx19uzcm4j5gwx3ffld7avv8q05c75ml7znzpaan0';

describe('dYdX account source against the simulator', () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 3, 8, 0, 0));
  let sim: Simulator;
  let source: DydxAccountSource;
  let account: SimAccount;
  let rest: DydxAccountRest;
  const events: AccountEvent[] = [];
  const alerts: AlertInput[] = [];
  const of = <K extends AccountEvent['kind']>(kind: K): Extract<AccountEvent, { kind: K }>[] =>
    events.filter((e): e is Extract<AccountEvent, { kind: K }> => e.kind === kind);
  const fillIds = (): string[] => of('fills').flatMap((e) => e.fills.map((f) => f.fillId));

  /** Moves simulated time `stepMs` per turn (the market and the account with it) until `condition` holds. */
  async function until(what: string, condition: () => boolean, stepMs = 50): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`not reached: ${what}`);
      clock.advance(stepMs);
      sim.advance();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** A limit order at the mark ± `offset`, crossing: it fills as the market trades through it. */
  function trade(side: 'buy' | 'sell', size: string): void {
    const mark = account.mark('ETH/USD');
    const offset = parseDecimal('5');
    account.placeOrder({
      symbol: 'ETH/USD',
      side,
      type: 'limit',
      size: parseDecimal(size),
      price: side === 'buy' ? add(mark, offset) : sub(mark, offset),
    });
  }

  /** Every fill of the simulated account was handed on exactly once. */
  async function assertFillsOnce(): Promise<void> {
    const ids = fillIds();
    assert.equal(new Set(ids).size, ids.length, 'a fill was handed on twice');
    const venue = await rest.fetchFillsSince({ time: 0 });
    assert.deepEqual([...ids].sort(), venue.map((f) => f.fill.fillId).sort(), 'a fill is missing');
  }

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USD', 'ETH/USD'],
      historyDays: 0,
      tradesPerSecond: 20,
      now: clock.now,
      dydx: { accounts: [{ address: ADDRESS, subaccountNumber: 0, trader: false }] },
    });
    const side = sim.accounts.of('dydx');
    const first = side.accounts[0];
    assert.ok(first);
    account = first;
    rest = new DydxAccountRest({
      restUrl: sim.urls.dydx.restUrl,
      address: ADDRESS,
      subaccountNumber: 0,
      requestsPerSecond: 1000,
    });
    source = createDydxAccountSource({
      account: { id: 'demo-dydx', venue: 'dydx' },
      address: ADDRESS,
      subaccountNumber: 0,
      wsUrl: sim.urls.dydx.wsUrl,
      restUrl: sim.urls.dydx.restUrl,
      requestsPerSecond: 1000,
      logger: silentLogger(),
      clock,
      random: () => 0.5,
      runner: { backoff: { initialMs: 20, maxMs: 100 }, resubscribeDelayMs: 50 },
    });
    source.start({ event: (e) => events.push(e), status: () => undefined, alert: (a) => alerts.push(a) });
  });

  after(async () => {
    let closed = false;
    const closing = source.close().then(() => (closed = true));
    await until('closed', () => closed, 100).catch(() => undefined);
    await closing;
    await sim.close();
  });

  it('gets the subscribed snapshot, then orders, fills and positions as the account trades', async () => {
    await until('snapshot', () => of('snapshot').length > 0);
    assert.equal(of('snapshot')[0]?.source, 'stream');
    assert.equal(toPlainString(of('snapshot')[0]?.snapshot.summary.equity ?? parseDecimal('0')), '10000');
    trade('buy', '0.5');
    await until('first fill', () => fillIds().length > 0);
    await until('position', () => of('positions').length > 0);
    assert.equal(of('positions').at(-1)?.positions[0]?.symbol, 'ETH/USD');
    assert.equal(of('positions').at(-1)?.positions[0]?.side, 'long');
    assert.ok(of('order').length > 0);
    assert.ok(of('summary').length > 0);
    const fee = of('fills')[0]?.fills[0]?.fee;
    assert.ok(fee !== undefined && fee.coef > 0n, 'dYdX fees are positive when paid');
    await assertFillsOnce();
  });

  it('after dropped sockets reconnects and reconciles: no fill missed or doubled', async () => {
    const faults = sim.accounts.of('dydx').faults;
    const before = fillIds().length;
    assert.ok(faults.dropConnections() >= 1);
    trade('sell', '0.2');
    await until('rest reconcile', () => of('snapshot').some((s) => s.source === 'rest'));
    await until('fills after the drop', () => fillIds().length > before);
    trade('buy', '0.1');
    const n = fillIds().length;
    await until('a stream fill after reconnect', () => fillIds().length > n);
    await assertFillsOnce();
    assert.ok(source.status().healthy);
  });

  it('fetches fills the open stream lost, though the stream delivered later ones', async () => {
    // The indexer's socket stays open but sends nothing for a while (no ping due yet), and what it sent meanwhile
    // is gone without a message_id jump: only the indexer's fill list shows it (checked every 60 s).
    await until('healthy', () => source.status().healthy);
    const reconnects = source.status().reconnects;
    sim.faults.stall('dydx');
    const before = account.fills.length;
    trade('buy', '0.2');
    await until('filled while stalled', () => account.fills.length > before);
    sim.faults.resumeStream('dydx');
    const streamed = of('fills').filter((e) => e.source === 'stream').length;
    trade('sell', '0.1');
    await until(
      'a later fill on the stream',
      () => of('fills').filter((e) => e.source === 'stream').length > streamed,
    );
    const venue = (await rest.fetchFillsSince({ time: 0 })).map((f) => f.fill.fillId);
    assert.ok(!venue.every((id) => fillIds().includes(id)), 'the stream lost the fills of the stall');
    await until('the lost fills', () => venue.every((id) => fillIds().includes(id)));
    await assertFillsOnce();
    assert.equal(source.status().reconnects, reconnects, 'the socket stayed open');
  });

  it('reconnects a socket whose subscribe the indexer lost, and misses no fill meanwhile', async () => {
    // The socket opened while the indexer sent nothing carries no subscription afterwards: no data, no
    // message_id, pings answered. Its unanswered subscribe recycles it (10 s).
    await until('healthy', () => source.status().healthy);
    const reconnects = source.status().reconnects;
    sim.faults.stall('dydx');
    sim.accounts.of('dydx').faults.dropConnections();
    // In 1 ms steps, so that no ping falls due while the indexer sends nothing (a lost pong would recycle the
    // socket too). Its subscribe goes out as it opens.
    await until('reconnected during the stall', () => source.status().reconnects > reconnects, 1);
    await until('open during the stall', () => source.status().connected, 1);
    // The simulator reads the subscribe in a later turn: give it that, on a clock that stands still.
    await new Promise((resolve) => setTimeout(resolve, 200));
    sim.faults.resumeStream('dydx');
    const before = account.fills.length;
    trade('buy', '0.1');
    await until('subscribed again', () => source.status().healthy);
    await until('filled', () => account.fills.length > before);
    const venue = (await rest.fetchFillsSince({ time: 0 })).map((f) => f.fill.fillId);
    await until('the fills', () => venue.every((id) => fillIds().includes(id)));
    await assertFillsOnce();
  });

  it('falls back to polling after failed reconnects, polls fills, and returns to the socket', async () => {
    const faults = sim.accounts.of('dydx').faults;
    faults.refuseConnections(10 * 60_000);
    faults.dropConnections();
    await until('polling', () => source.status().mode === 'polling');
    assert.ok(alerts.some((a) => a.kind === 'account_polling'));
    const n = fillIds().length;
    trade('sell', '0.3');
    await until('a polled fill', () => fillIds().length > n, 500);
    assert.ok(of('fills').some((e) => e.source === 'rest'));
    faults.acceptConnections();
    await until('back on the stream', () => source.status().mode === 'stream');
    assert.equal(alerts.at(-1)?.kind, 'account_stream_recovered');
    const m = fillIds().length;
    trade('buy', '0.2');
    await until('a stream fill', () => fillIds().length > m);
    await assertFillsOnce();
    const positions = of('snapshot').at(-1)?.snapshot.positions ?? [];
    const engine = account.position('ETH/USD');
    assert.equal(
      positions.find((p) => p.symbol === 'ETH/USD') === undefined ? undefined : 'held',
      engine === undefined ? undefined : 'held',
    );
  });
});
