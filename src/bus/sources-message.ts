import { isVenueId } from '../domain/instrument.ts';
import type { InstrumentSourcesView, SourceStatusView, SourcesView } from '../protocol/source-status.ts';

/**
 * Bus messages of the multi-source feed's status, from the active `ingest` process to the gateways, which answer
 * /api/websocket/{health,sources,active-source} from the newest one. Published about once a second and on
 * every source switch; JSON with the view's own field names plus the time it was taken.
 */

/** Channel of source status snapshots (`encodeSourcesView`). */
export const SOURCES_CHANNEL = 'tickwire:sources';

export interface SourcesSnapshot {
  /** When the ingest took the snapshot, ms since the epoch. */
  readonly at: number;
  readonly view: SourcesView;
}

export function encodeSourcesView(view: SourcesView, at: number): string {
  return JSON.stringify({ at, view });
}

function malformed(why: string): Error {
  return new Error(`malformed sources message: ${why}`);
}

function checkSource(s: unknown): SourceStatusView {
  const o = s as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || !isVenueId(o['exchange'])) throw malformed('bad source');
  if (typeof o['connected'] !== 'boolean' || typeof o['healthy'] !== 'boolean') throw malformed('bad flags');
  for (const key of ['latency', 'lastUpdate'] as const) {
    if (o[key] !== null && typeof o[key] !== 'number') throw malformed(`bad ${key}`);
  }
  for (const key of ['messagesReceived', 'errors'] as const) {
    if (typeof o[key] !== 'number') throw malformed(`bad ${key}`);
  }
  return o as unknown as SourceStatusView;
}

function checkInstrument(i: unknown): InstrumentSourcesView {
  const o = i as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof o['symbol'] !== 'string')
    throw malformed('bad instrument');
  if (o['activeSource'] !== null && !isVenueId(o['activeSource'])) throw malformed('bad activeSource');
  if (!isVenueId(o['primary'])) throw malformed('bad primary');
  if (!Array.isArray(o['sources'])) throw malformed('sources is not an array');
  o['sources'].forEach(checkSource);
  return o as unknown as InstrumentSourcesView;
}

/** Decodes `encodeSourcesView` output; throws an Error on anything else. */
export function decodeSourcesView(message: string): SourcesSnapshot {
  const raw = JSON.parse(message) as { at?: unknown; view?: { instruments?: unknown } };
  if (typeof raw !== 'object' || raw === null || typeof raw.at !== 'number') throw malformed('bad at');
  if (!Array.isArray(raw.view?.instruments)) throw malformed('no instruments');
  raw.view.instruments.forEach(checkInstrument);
  return { at: raw.at, view: raw.view as SourcesView };
}
