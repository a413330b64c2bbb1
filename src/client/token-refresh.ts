/**
 * When to renew a token: ahead of its expiry by a fifth of its remaining life, at least a second and at most a
 * minute, so a one-hour token is renewed a minute early and a ten-second one two seconds early; never later than
 * the gateway's 4440 close at the expiry itself.
 */
export const MAX_REFRESH_LEAD_MS = 60_000;
export const MIN_REFRESH_LEAD_MS = 1_000;

/** Milliseconds from `now` until the token that expires at `expiresAt` (ms UTC) should be renewed. */
export function refreshDelay(expiresAt: number, now: number): number {
  const life = expiresAt - now;
  const lead = Math.min(MAX_REFRESH_LEAD_MS, Math.max(MIN_REFRESH_LEAD_MS, life / 5));
  return Math.max(0, Math.floor(life - lead));
}
