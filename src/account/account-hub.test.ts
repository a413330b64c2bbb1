import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert } from '../domain/alert.ts';
import { toPlainString } from '../domain/decimal.ts';
import { MemoryAccountStore } from '../store/account-memory-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { AccountHub, FILL_CLOCK_MARGIN_MS } from './account-hub.ts';
import { ScriptedAccountSource } from './account-source.test-support.ts';
import { fill, fillsEvent, position, snapshotEvent } from './account.test-support.ts';
import type { AccountChange } from './contract.ts';

const T0 = Date.UTC(2024, 5, 3, 12, 0);

async function twoAccounts() {
  const clock = new ManualClock(T0);
  const store = new MemoryAccountStore();
  const bitget = new ScriptedAccountSource({ id: 'demo-bitget', venue: 'bitget' });
  const dydx = new ScriptedAccountSource({ id: 'demo-dydx', venue: 'dydx' });
  const alerts: Alert[] = [];
  const hub = await AccountHub.open({
    sources: [bitget, dydx],
    store,
    clock,
    logger: silentLogger(),
    onAlert: (a) => alerts.push(a),
  });
  return { clock, store, bitget, dydx, alerts, hub };
}

describe('AccountHub', () => {
  it('runs each account on its own: views, changes, fills and alerts never mix', async () => {
    const { bitget, dydx, alerts, hub } = await twoAccounts();
    const seen: Record<string, AccountChange[]> = { 'demo-bitget': [], 'demo-dydx': [] };
    hub.subscribe('demo-bitget', (c) => seen['demo-bitget']?.push(c));
    hub.subscribe('demo-dydx', (c) => seen['demo-dydx']?.push(c));
    bitget.emit(snapshotEvent('1000', [position('BTC/USDT')], T0));
    dydx.emit(snapshotEvent('2000', [], T0));
    bitget.emit(fillsEvent([fill('same-id', { side: 'buy', price: '1', size: '1', fee: '0.5', time: T0 })]));
    dydx.emit(fillsEvent([fill('same-id', { side: 'sell', price: '2', size: '1', fee: '0.25', time: T0 })]));
    dydx.alert({ severity: 'warning', kind: 'account_polling', message: 'polling over REST' });
    bitget.emit({ kind: 'positions', complete: true, positions: [], time: T0 });

    assert.deepEqual(
      hub.accounts().map((a) => a.id),
      ['demo-bitget', 'demo-dydx'],
    );
    assert.equal(toPlainString(hub.view('demo-bitget')!.performance.totalValue), '1000');
    assert.equal(toPlainString(hub.view('demo-dydx')!.performance.totalValue), '2000');
    assert.equal(toPlainString(hub.view('demo-bitget')!.performance.feesPaid), '0.5');
    assert.equal(toPlainString(hub.view('demo-dydx')!.performance.feesPaid), '0.25');
    assert.ok(seen['demo-bitget']!.every((c) => c.view.account.id === 'demo-bitget'));
    assert.ok(seen['demo-dydx']!.every((c) => c.view.account.id === 'demo-dydx'));
    assert.deepEqual(
      (await hub.fills('demo-dydx', {})).map((f) => [f.fillId, f.side]),
      [['same-id', 'sell']],
    );
    assert.deepEqual(
      alerts.map((a) => [a.account, a.kind]),
      [
        ['demo-dydx', 'account_polling'],
        ['demo-bitget', 'position_closed'],
      ],
    );
    assert.equal(hub.view('nobody'), undefined);
    assert.deepEqual(await hub.fills('nobody', {}), []);
    await hub.close();
  });

  it('reports the latest stream status of each source', async () => {
    const { bitget, hub } = await twoAccounts();
    assert.equal(hub.status('demo-bitget')?.connected, false);
    bitget.report({ connected: true, healthy: true, subscriptions: ['account', 'positions'] });
    assert.deepEqual(hub.status('demo-bitget')?.subscriptions, ['account', 'positions']);
    assert.equal(hub.status('demo-dydx')?.connected, false);
    await hub.close();
  });

  it('serves the stored equity curve and closes its sources on close', async () => {
    const { clock, bitget, dydx, hub } = await twoAccounts();
    bitget.emit(snapshotEvent('1000', [], T0));
    clock.advance(60_000);
    bitget.emit(snapshotEvent('900', [], clock.now()));
    clock.advance(60_000);
    const curve = await hub.equityCurve('demo-bitget', {});
    assert.deepEqual(
      curve.map((p) => [p.time, toPlainString(p.equity)]),
      [
        [T0 + 60_000, '1000'],
        [T0 + 120_000, '900'],
      ],
    );
    assert.equal(toPlainString(hub.view('demo-bitget')!.performance.maxDrawdown), '0.1');
    await hub.close();
    assert.ok(bitget.closed && dydx.closed);
  });

  it('takes up fills from a margin before the start, or after the newest stored fill', async () => {
    const store = new MemoryAccountStore();
    const open = async () => {
      const source = new ScriptedAccountSource({ id: 'demo-dydx', venue: 'dydx' });
      const hub = await AccountHub.open({
        sources: [source],
        store,
        clock: new ManualClock(T0),
        logger: silentLogger(),
        fillsSince: T0,
      });
      return { source, hub };
    };
    const fresh = await open();
    // The venue's clock may run behind ours: a fill made just after the start can be stamped before it.
    assert.deepEqual(fresh.source.resume, { fillsSince: T0 - FILL_CLOCK_MARGIN_MS });
    fresh.source.emit(snapshotEvent('1000', [], T0));
    fresh.source.emit(
      fillsEvent([fill('f1', { side: 'buy', price: '1', size: '1', fee: '0', time: T0 - 500 })]),
    );
    await fresh.hub.close();
    const restarted = await open();
    assert.deepEqual(restarted.source.resume, { fillsSince: T0 - 500 }, 'after the newest stored fill');
    await restarted.hub.close();
  });

  it('refuses an account configured twice', async () => {
    const a = new ScriptedAccountSource({ id: 'x', venue: 'bitget' });
    const b = new ScriptedAccountSource({ id: 'x', venue: 'dydx' });
    await assert.rejects(
      AccountHub.open({
        sources: [a, b],
        store: new MemoryAccountStore(),
        clock: new ManualClock(),
        logger: silentLogger(),
      }),
      /configured twice/,
    );
  });
});
