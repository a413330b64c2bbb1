/**
 * dYdX for the venue contract suite (src/venues/venue.contract.ts): its captured frames and its parser on
 * them, and the simulator and adapter with test timings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { capturedFrames } from '../captured-frames.test-support.ts';
import {
  CONTRACT_RUNNER_TIMINGS,
  type CapturedFrame,
  type ParsedFrame,
  type VenueContractSubject,
} from '../venue.contract.ts';
import { createDydxAdapter } from './index.ts';
import { parseFrame } from './parse.ts';

/** The indexer socket captures: one message per file (the http folder beside it holds REST answers). */
const WS_CAPTURES = 'indexer_ws_captures_2024';

/** The tardis sample file, and every message of the indexer socket captures. */
function captures(): CapturedFrame[] {
  const folder = join(FIXTURES_DIR, 'dydx', WS_CAPTURES);
  const single = readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: `${WS_CAPTURES}/${f}`, text: readFileSync(join(folder, f), 'utf8') }));
  return [...capturedFrames('dydx'), ...single];
}

/**
 * How the dYdX feed hands a parsed frame to the stream handlers (feed.ts, handleFrame). Markets frames feed the
 * ticker the feed keeps per market, so alone they carry no domain data.
 */
function parse(text: string, receivedAt: number): ParsedFrame {
  const frame = parseFrame(text, receivedAt);
  const none: ParsedFrame = { trades: [], candles: [], tickers: [], books: [] };
  switch (frame.kind) {
    case 'trades':
      return { ...none, trades: frame.trades };
    case 'candles':
      return { ...none, candles: frame.candles };
    case 'book':
      return { ...none, books: [frame.update] };
    case 'unknown':
      return { ...none, unknown: frame };
    default:
      return none;
  }
}

export const contractSubject: VenueContractSubject = {
  captures,
  parse,
  simulator: { dydx: { pingIntervalMs: 200, pongTimeoutMs: 1000, marketsPushMs: 100 } },
  heartbeatDeadlineMs: 1000,
  adapter: (urls) =>
    createDydxAdapter({
      ...urls,
      logger: silentLogger(),
      pingIntervalMs: 200,
      pongTimeoutMs: 500,
      runner: CONTRACT_RUNNER_TIMINGS,
      rest: { requestsPerSecond: 1000 },
    }),
};
