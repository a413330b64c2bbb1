/**
 * Each panel redraws at most about ten times a second, however fast its data changes: a change marks the panel
 * dirty, and the draw runs on the next animation frame once at least `minIntervalMs` has passed since the last
 * draw. Changes in between are coalesced (the draw reads the newest state), so nothing is queued and a burst of
 * updates costs one draw. Hidden tabs get no animation frames, so a background tab does no drawing at all and
 * catches up with one draw when shown again.
 */

export interface FrameScheduler {
  now(): number;
  requestFrame(callback: () => void): void;
  setTimer(callback: () => void, ms: number): void;
}

/** The browser's clock, animation frames and timers. */
export const browserFrames: FrameScheduler = {
  now: () => performance.now(),
  requestFrame: (callback) => requestAnimationFrame(() => callback()),
  setTimer: (callback, ms) => void setTimeout(callback, ms),
};

/** 100 ms: at most ~10 draws per second per panel. */
export const DEFAULT_MIN_INTERVAL_MS = 100;

export class RenderThrottle {
  private pending = false;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private draws = 0;

  constructor(
    private readonly draw: () => void,
    private readonly minIntervalMs = DEFAULT_MIN_INTERVAL_MS,
    private readonly frames: FrameScheduler = browserFrames,
  ) {}

  /** Asks for a draw; several asks before it runs give one draw. */
  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    const wait = this.lastDraw + this.minIntervalMs - this.frames.now();
    if (wait <= 0) this.frames.requestFrame(this.run);
    else this.frames.setTimer(() => this.frames.requestFrame(this.run), wait);
  }

  /** How many draws have run (for the page's own diagnostics and the tests). */
  get drawCount(): number {
    return this.draws;
  }

  private readonly run = (): void => {
    this.pending = false;
    this.lastDraw = this.frames.now();
    this.draws++;
    this.draw();
  };
}
