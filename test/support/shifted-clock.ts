/**
 * Preloaded into a `tickwire` child process (`node --import`: tickwireArgsOnShiftedClock) by a test that runs
 * the simulator in its own process on a shifted clock (e2e/helpers.ts, clockNearBoundary): moves this process's
 * `Date.now()`, which Tickwire's system clock reads, by the same TICKWIRE_TEST_CLOCK_SHIFT_MS, so that child and
 * simulator agree on the time and a minute ends when the test wants it rather than wherever the wall clock is.
 * Only the epoch moves; timers and durations are untouched.
 */
const shiftMs = Number(process.env['TICKWIRE_TEST_CLOCK_SHIFT_MS'] ?? 0);
if (!Number.isFinite(shiftMs))
  throw new Error('TICKWIRE_TEST_CLOCK_SHIFT_MS must be a number of milliseconds');
if (shiftMs !== 0) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + shiftMs;
}
