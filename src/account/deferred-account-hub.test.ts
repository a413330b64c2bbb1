import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toPlainString } from '../domain/decimal.ts';
import { MemoryAccountStore } from '../store/account-memory-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { AccountHub } from './account-hub.ts';
import { ScriptedAccountSource } from './account-source.test-support.ts';
import { fill, fillsEvent, snapshotEvent } from './account.test-support.ts';
import type { AccountChange } from './contract.ts';
import { DeferredAccountHub } from './deferred-account-hub.ts';

const T0 = Date.UTC(2024, 5, 3, 12, 0);
const REF = { id: 'demo-bitget', venue: 'bitget' } as const;

describe('DeferredAccountHub', () => {
  it('lists the accounts at once, keeps early subscribers and gives them the whole view when the hub opens', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryAccountStore();
    await store.appendFills('demo-bitget', [
      fill('stored-1', { side: 'buy', price: '10', size: '1', fee: '0.1', time: T0 - 60_000 }),
    ]);
    const source = new ScriptedAccountSource(REF);
    let open!: (hub: Promise<AccountHub>) => void;
    const deferred = new DeferredAccountHub([REF], new Promise<AccountHub>((resolve) => (open = resolve)));

    assert.deepEqual(deferred.accounts(), [REF]);
    assert.equal(deferred.view('demo-bitget'), undefined);
    assert.equal(deferred.status('demo-bitget'), undefined);
    const changes: AccountChange[] = [];
    deferred.subscribe('demo-bitget', (c) => changes.push(c));
    let fillsRead = false;
    const fills = deferred.fills('demo-bitget', {}).then((f) => ((fillsRead = true), f));
    await Promise.resolve();
    assert.equal(fillsRead, false, 'history reads wait for the hub');

    const opening = AccountHub.open({ sources: [source], store, clock, logger: silentLogger() });
    open(opening);
    const hub = await opening;
    assert.deepEqual(
      (await fills).map((f) => f.fillId),
      ['stored-1'],
    );
    assert.equal(changes.length, 1, 'the early subscriber is given the restored view');
    assert.equal(changes[0]?.view.account.id, 'demo-bitget');
    assert.equal(changes[0]?.parts.size, 6);

    source.emit(snapshotEvent('1000', [], T0));
    source.emit(fillsEvent([fill('live-1', { side: 'sell', price: '11', size: '1', fee: '0.2', time: T0 })]));
    assert.ok(changes.length >= 3, 'later changes reach the early subscriber through the hub');
    assert.equal(toPlainString(deferred.view('demo-bitget')!.performance.totalValue), '1000');
    assert.equal(deferred.view('demo-bitget'), hub.view('demo-bitget'));
    assert.notEqual(deferred.status('demo-bitget'), undefined);
    await hub.close();
  });

  it('stops an early subscription that was cancelled before the hub opened', async () => {
    const clock = new ManualClock(T0);
    const source = new ScriptedAccountSource(REF);
    let open!: (hub: Promise<AccountHub>) => void;
    const deferred = new DeferredAccountHub([REF], new Promise<AccountHub>((resolve) => (open = resolve)));
    const changes: AccountChange[] = [];
    const unsubscribe = deferred.subscribe('demo-bitget', (c) => changes.push(c));
    unsubscribe();
    const opening = AccountHub.open({
      sources: [source],
      store: new MemoryAccountStore(),
      clock,
      logger: silentLogger(),
    });
    open(opening);
    const hub = await opening;
    source.emit(snapshotEvent('1000', [], T0));
    assert.equal(changes.length, 0);
    await hub.close();
  });

  it('rejects history reads with the reason the hub could not open', async () => {
    const deferred = new DeferredAccountHub([REF], Promise.reject(new Error('database refused')));
    await assert.rejects(deferred.fills('demo-bitget', {}), /database refused/);
    await assert.rejects(deferred.equityCurve('demo-bitget', {}), /database refused/);
    assert.deepEqual(deferred.accounts(), [REF]);
  });
});
