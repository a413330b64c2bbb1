import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RenderThrottle, type FrameScheduler } from '../../dashboard/src/throttle.ts';

/** Frames and timers driven by hand: the test says when time passes and when a frame is painted. */
class ManualFrames implements FrameScheduler {
  time = 0;
  private frames: (() => void)[] = [];
  private timers: { at: number; callback: () => void }[] = [];

  now(): number {
    return this.time;
  }
  requestFrame(callback: () => void): void {
    this.frames.push(callback);
  }
  setTimer(callback: () => void, ms: number): void {
    this.timers.push({ at: this.time + ms, callback });
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.callback();
  }
  paint(): void {
    const frames = this.frames;
    this.frames = [];
    for (const frame of frames) frame();
  }
}

describe('RenderThrottle', () => {
  it('draws once per frame however many changes came before it', () => {
    const frames = new ManualFrames();
    let draws = 0;
    const throttle = new RenderThrottle(() => draws++, 100, frames);
    for (let i = 0; i < 50; i++) throttle.schedule();
    frames.paint();
    assert.equal(draws, 1);
    frames.paint();
    assert.equal(draws, 1, 'no change, no draw');
  });

  it('draws at most once per interval under a steady stream of changes', () => {
    const frames = new ManualFrames();
    let draws = 0;
    const throttle = new RenderThrottle(() => draws++, 100, frames);
    // One change every 5 ms for 2 s, a frame painted every 16 ms.
    for (let t = 0; t < 2000; t++) {
      if (t % 5 === 0) throttle.schedule();
      if (t % 16 === 0) frames.paint();
      frames.advance(1);
    }
    frames.paint();
    assert.ok(draws <= 21, `at most ~10 draws per second, got ${draws} in 2 s`);
    assert.ok(draws >= 15, `still drawing steadily, got ${draws} in 2 s`);
    assert.equal(throttle.drawCount, draws);
  });

  it('draws the last change of a burst after the interval, so the final state is always shown', () => {
    const frames = new ManualFrames();
    const seen: number[] = [];
    let value = 0;
    const throttle = new RenderThrottle(() => seen.push(value), 100, frames);
    value = 1;
    throttle.schedule();
    frames.paint();
    value = 2;
    throttle.schedule();
    frames.advance(50);
    frames.paint();
    assert.deepEqual(seen, [1], 'too soon after the previous draw');
    frames.advance(50);
    frames.paint();
    assert.deepEqual(seen, [1, 2]);
  });
});
