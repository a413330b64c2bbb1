import { systemClock, type Clock } from './clock.ts';

/**
 * Waits for `promise`, but no longer than `ms`: true when it settled in time, false when the time ran out (the
 * promise is left running). A rejection in time is passed on. Used wherever shutdown or a hand-over must not
 * hang on a peer that does not answer.
 */
export async function waitAtMost(
  promise: PromiseLike<unknown> | undefined,
  ms: number,
  clock: Clock = systemClock,
): Promise<boolean> {
  if (promise === undefined) return true;
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = clock.setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([Promise.resolve(promise).then(() => true as const), expired]);
  } finally {
    clock.clearTimer(timer);
  }
}
