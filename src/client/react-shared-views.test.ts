import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, type Timer } from '../util/clock.ts';
import { SharedViews } from './react-shared-views.ts';
import type { View } from './types.ts';

/** A view that counts what is done to it: how often it was opened is counted by the caller's `open`. */
class CountingView implements View<number> {
  state = 0;
  closed = 0;
  private readonly listeners = new Set<(state: number) => void>();
  get(): number {
    return this.state;
  }
  subscribe(listener: (state: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  close(): void {
    this.closed += 1;
  }
  change(): void {
    this.state += 1;
    for (const listener of this.listeners) listener(this.state);
  }
  get listening(): number {
    return this.listeners.size;
  }
}

function setup(releaseDelayMs = 1000) {
  const clock = new ManualClock(0);
  const opened: CountingView[] = [];
  const shared = new SharedViews({
    releaseDelayMs,
    timers: {
      setTimeout: (callback, ms) => clock.setTimeout(callback, ms),
      clearTimeout: (handle) => clock.clearTimer(handle as Timer),
    },
  });
  const open = (): CountingView => {
    const view = new CountingView();
    opened.push(view);
    return view;
  };
  return { clock, opened, shared, open };
}

describe('SharedViews', () => {
  it('gives every user of one key the same view and tells each of its changes', () => {
    const { opened, shared, open } = setup();
    const calls: number[] = [];
    const first = shared.view('a', open);
    shared.use('a', open, () => calls.push(0));
    shared.use('a', open, () => calls.push(1));
    assert.equal(shared.view('a', open), first);
    assert.equal(opened.length, 1);
    first.change();
    assert.deepEqual(calls, [0, 1]);
    assert.equal(shared.view('b', open) === first, false, 'another key has a view of its own');
  });

  it('closes the view once the release delay has passed after its last user left', () => {
    const { clock, opened, shared, open } = setup(1000);
    const stopFirst = shared.use('a', open, () => {});
    const stopSecond = shared.use('a', open, () => {});
    stopFirst();
    clock.advance(5000);
    assert.equal(opened[0]?.closed, 0, 'one user remains');
    stopSecond();
    clock.advance(999);
    assert.equal(opened[0]?.closed, 0);
    clock.advance(1);
    assert.equal(opened[0]?.closed, 1);
    assert.equal(opened[0]?.listening, 0);
    assert.equal(shared.size, 0);
  });

  it('keeps the view through an unmount and mount within the delay (StrictMode)', () => {
    const { clock, opened, shared, open } = setup(1000);
    shared.view('a', open);
    const stop = shared.use('a', open, () => {});
    stop();
    shared.use('a', open, () => {});
    clock.advance(10_000);
    assert.equal(opened.length, 1);
    assert.equal(opened[0]?.closed, 0);
    assert.equal(opened[0]?.listening, 1);
  });

  it('counts a user once however often its release is called', () => {
    const { clock, opened, shared, open } = setup(1000);
    const stopFirst = shared.use('a', open, () => {});
    shared.use('a', open, () => {});
    stopFirst();
    stopFirst();
    clock.advance(10_000);
    assert.equal(opened[0]?.closed, 0, 'the second user still holds it');
  });

  it('closes a view that was read but never used (a render that did not commit)', () => {
    const { clock, opened, shared, open } = setup(1000);
    shared.view('a', open);
    clock.advance(1000);
    assert.equal(opened[0]?.closed, 1);
    assert.equal(shared.size, 0);
  });

  it('opens a fresh view for a user that comes after the close', () => {
    const { clock, opened, shared, open } = setup(1000);
    shared.use('a', open, () => {})();
    clock.advance(1000);
    const calls: number[] = [];
    shared.use('a', open, () => calls.push(1));
    assert.equal(opened.length, 2);
    assert.equal(opened[0]?.closed, 1);
    assert.equal(opened[1]?.closed, 0);
    opened[1]?.change();
    assert.equal(calls.length, 1);
  });
});
