import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VenueId } from '../domain/instrument.ts';
import type { SourcesView, SourceStatusView } from '../protocol/source-status.ts';
import { ManualClock } from '../util/clock.ts';
import { HistoryLoadWait, isHistoryLoading } from './history-loading.ts';

function source(exchange: VenueId, loadingHistory: boolean): SourceStatusView {
  return {
    exchange,
    connected: true,
    latency: null,
    lastUpdate: null,
    messagesReceived: 0,
    errors: 0,
    healthy: true,
    ...(loadingHistory ? { loadingHistory: true } : {}),
  };
}

function view(activeSource: VenueId | null, sources: SourceStatusView[]): SourcesView {
  return { instruments: [{ symbol: 'BTC/USDT', activeSource, primary: 'binance', sources }] };
}

describe('isHistoryLoading', () => {
  it('follows the active source', () => {
    const both = (binance: boolean, okx: boolean): SourceStatusView[] => [
      source('binance', binance),
      source('okx', okx),
    ];
    assert.equal(isHistoryLoading(view('binance', both(true, false)), 'BTC/USDT', false), true);
    assert.equal(isHistoryLoading(view('binance', both(false, true)), 'BTC/USDT', false), false);
    assert.equal(isHistoryLoading(view('okx', both(false, true)), 'BTC/USDT', true), true);
  });

  it('before a source is active: loading while every source that lists it is', () => {
    assert.equal(
      isHistoryLoading(view(null, [source('binance', true), source('okx', true)]), 'BTC/USDT', false),
      true,
    );
    assert.equal(
      isHistoryLoading(view(null, [source('binance', false), source('okx', true)]), 'BTC/USDT', false),
      false,
    );
  });

  it('without status of the instrument: loading only within start-up', () => {
    assert.equal(isHistoryLoading({ instruments: [] }, 'BTC/USDT', true), true);
    assert.equal(isHistoryLoading({ instruments: [] }, 'BTC/USDT', false), false);
    assert.equal(isHistoryLoading(undefined, 'BTC/USDT', true), true);
    assert.equal(isHistoryLoading(view('binance', [source('binance', false)]), 'ETH/USDT', false), false);
  });
});

describe('HistoryLoadWait', () => {
  it('refills a waiting subscription as soon as the status says loaded', () => {
    const clock = new ManualClock();
    let current = view('binance', [source('binance', true)]);
    const wait = new HistoryLoadWait<string>(
      { view: () => current, inStartup: () => false },
      { pollMs: 5 },
      clock,
    );
    assert.equal(wait.isLoading('BTC/USDT'), true);
    let refills = 0;
    wait.add('a', 'BTC/USDT', () => refills++);
    clock.advance(30);
    assert.equal(refills, 0, 'still loading');

    // The status says loaded once the history is in the database: nothing more to wait for.
    current = view('binance', [source('binance', false)]);
    clock.advance(5);
    assert.equal(wait.isLoading('BTC/USDT'), false);
    assert.equal(refills, 1, 'refilled at the next poll');
    assert.equal(wait.size, 0);
    assert.equal(clock.pending, 0, 'no poll once nobody waits');
  });

  it('a removed subscription is not refilled; a status that throws counts as none', () => {
    const clock = new ManualClock();
    let fail = true;
    const errors: unknown[] = [];
    const wait = new HistoryLoadWait<string>(
      {
        view: () => {
          if (fail) throw new Error('feed broke');
          return view('binance', [source('binance', false)]);
        },
        inStartup: () => true,
        onError: (err) => errors.push(err),
      },
      { pollMs: 5 },
      clock,
    );
    assert.equal(wait.isLoading('BTC/USDT'), true, 'no status within start-up: loading');
    assert.equal(errors.length, 1);
    let refilledA = 0;
    let refilledB = 0;
    wait.add('a', 'BTC/USDT', () => refilledA++);
    wait.add('b', 'BTC/USDT', () => refilledB++);
    wait.remove('a');
    fail = false;
    clock.advance(5);
    assert.equal(refilledB, 1, 'b refilled');
    assert.equal(refilledA, 0);
  });

  it('a burst of questions reads the status once per pollMs', () => {
    let reads = 0;
    const clock = new ManualClock(1000);
    let current = view('binance', [source('binance', true)]);
    const wait = new HistoryLoadWait<string>(
      {
        view: () => {
          reads++;
          return current;
        },
        inStartup: () => false,
      },
      { pollMs: 250 },
      clock,
    );
    for (let i = 0; i < 1000; i++) assert.equal(wait.isLoading('BTC/USDT'), true);
    assert.equal(reads, 1);
    current = view('binance', [source('binance', false)]);
    clock.advance(249);
    assert.equal(wait.isLoading('BTC/USDT'), true, 'the view of 249 ms ago still answers');
    clock.advance(1);
    assert.equal(wait.isLoading('BTC/USDT'), false);
    assert.equal(reads, 2);
  });
});
