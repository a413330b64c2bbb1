/**
 * OKX for the venue contract suite (src/venues/venue.contract.ts): its captured frames and its parser on them, and
 * the simulator and adapter with test timings. parse.test.ts reads the captures through here too.
 */
import { silentLogger } from '../../telemetry/logger.ts';
import { capturedFrames } from '../captured-frames.test-support.ts';
import {
  CONTRACT_RUNNER_TIMINGS,
  type CapturedFrame,
  type ParsedFrame,
  type VenueContractSubject,
} from '../venue.contract.ts';
import { createOkxAdapter, okxVenue } from './index.ts';
import { parseOkxFrame } from './parse.ts';
import { okxSymbolMap, type OkxSymbolMap } from './symbols.ts';

/** Every captured payload of the OKX folder, as the text a socket would deliver. */
export function capturedPayloads(): CapturedFrame[] {
  return capturedFrames('okx');
}

const SPOT_ID = /"instId":"([A-Z0-9]+-[A-Z0-9]+)"/g;

/** Every spot-looking instId in the captures, mapped to canonical form, as a caller subscribing them would. */
export function spotSymbols(payloads: readonly CapturedFrame[]): OkxSymbolMap {
  const symbols = new Set<string>();
  for (const p of payloads)
    for (const m of p.text.matchAll(SPOT_ID)) symbols.add((m[1] ?? '').replace('-', '/'));
  return okxSymbolMap([...symbols]);
}

let captured: OkxSymbolMap | undefined;

/** The symbols of the captures that the adapter lists, as a feed subscribed to all of them maps them. */
function capturedSymbols(): OkxSymbolMap {
  const lists = okxVenue.createAdapter({ wsUrl: 'ws://x', restUrl: 'http://x', logger: silentLogger() });
  const all = [...spotSymbols(capturedPayloads()).values()];
  return okxSymbolMap(all.filter((symbol) => lists.supportsSymbol?.(symbol) ?? true));
}

/** How the OKX feed hands a parsed frame to the stream handlers (feed.ts, handleFrame). */
function parse(text: string, receivedAt: number): ParsedFrame {
  captured ??= capturedSymbols();
  const frame = parseOkxFrame(text, captured, receivedAt);
  const none: ParsedFrame = { trades: [], candles: [], tickers: [], books: [] };
  switch (frame.kind) {
    case 'trades':
      return { ...none, trades: frame.trades };
    case 'candles':
      return { ...none, candles: frame.candles };
    case 'tickers':
      return { ...none, tickers: frame.tickers };
    case 'book':
      return { ...none, books: frame.updates };
    case 'unknown':
      return { ...none, unknown: frame };
    default:
      return none;
  }
}

export const contractSubject: VenueContractSubject = {
  captures: capturedPayloads,
  parse,
  simulator: {
    okx: {
      idleTimeoutMs: 1000,
      tickerPushMs: 50,
      candlePushMs: 50,
      bookPushMs: 25,
      maxConnectionsPerSecond: 50,
    },
  },
  heartbeatDeadlineMs: 1000,
  adapter: (urls) =>
    createOkxAdapter({
      ...urls,
      logger: silentLogger(),
      pingIntervalMs: 200,
      pongTimeoutMs: 500,
      runner: CONTRACT_RUNNER_TIMINGS,
    }),
};
