import type { Bar } from '../../src/client/types.ts';

/**
 * Where a bar came from, in words: the venue(s) whose trades built it and whether part of it was fetched over the
 * venue's REST API (start-up history or a backfill after an outage) rather than only seen on the live stream
 * (docs/PROTOCOL.md, "Candle object": `sources`, `backfilled`).
 */
export function provenanceText(bar: Pick<Bar, 'sources' | 'backfilled'>): string {
  const venues = bar.sources.length > 0 ? bar.sources.join(' + ') : 'unknown venue';
  return `${venues} · ${bar.backfilled ? 'backfilled (REST)' : 'live stream'}`;
}

/** Whether the bar is final or still moving. */
export function barStateText(bar: Pick<Bar, 'closed'>): string {
  return bar.closed ? 'closed' : 'in progress';
}
