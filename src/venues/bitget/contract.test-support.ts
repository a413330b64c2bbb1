/**
 * Bitget for the venue contract suite (src/venues/venue.contract.ts): its captured frames and its parser on them,
 * and the simulator and adapter with test timings. parse.test.ts reads the captures through here too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import {
  CONTRACT_RUNNER_TIMINGS,
  type CapturedFrame,
  type ParsedFrame,
  type VenueContractSubject,
} from '../venue.contract.ts';
import { createBitgetAdapter } from './index.ts';
import { parseBitgetFrame } from './parse.ts';
import { bitgetSymbolMap } from './symbols.ts';

const FIXTURES = join(FIXTURES_DIR, 'bitget');

/** Every symbol the captures mention, so that pushes map instead of being ignored. */
export const CAPTURED_SYMBOLS = bitgetSymbolMap([
  'BTC/USDT',
  'BRETT/USDT',
  'LMWR/USDT',
  'BTC/USDC',
  'MANTA/USDT',
  'SNEK/USDT',
  'RENDER/USDT',
  'LUMIA/USDT',
  'XAUT/USDT',
  'BTC/USDT:USDT',
  'BEL/USDT:USDT',
  'AXS/USDT:USDT',
  'ADA/USDT:USDT',
  'STORJ/USDT:USDT',
  'AQT/USDT:USDT',
  'YGG/USDT:USDT',
  'LTC/USDT:USDT',
]);

/** The capture files of the Bitget folder. */
export function captureFiles(): string[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.json') || f.endsWith('.jsonl'));
}

/**
 * The payloads of one capture file: the `recv` lines of a recording, or every entry of a sample file's groups
 * (REST answers in `rest_data` left out). The ccxt comments also quote bare candle rows, which are arrays.
 */
export function capturedPayloads(file: string): unknown[] {
  const text = readFileSync(join(FIXTURES, file), 'utf8');
  const payloads: unknown[] = [];
  if (file.endsWith('.jsonl')) {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line) as { t: string; data?: string };
      if (entry.t === 'recv' && typeof entry.data === 'string') payloads.push(entry.data);
    }
  } else {
    const doc = JSON.parse(text) as Record<string, unknown>;
    for (const [key, value] of Object.entries(doc)) {
      if (key === '_note' || key === 'rest_data') continue;
      payloads.push(...(Array.isArray(value) ? value : Object.values(value as object)));
    }
  }
  return payloads;
}

function captures(): CapturedFrame[] {
  return captureFiles().flatMap((file) =>
    capturedPayloads(file)
      .filter((p) => !Array.isArray(p))
      .map((p) => ({ file, text: typeof p === 'string' ? p : JSON.stringify(p) })),
  );
}

/** How the Bitget feed hands a parsed frame to the stream handlers (feed.ts, handleFrame). */
function parse(text: string, receivedAt: number): ParsedFrame {
  const frame = parseBitgetFrame(text, CAPTURED_SYMBOLS, receivedAt);
  const none: ParsedFrame = { trades: [], candles: [], tickers: [], books: [] };
  switch (frame.kind) {
    case 'trades':
      return { ...none, trades: frame.trades };
    case 'candles':
      return { ...none, candles: frame.candles };
    case 'ticker':
      return { ...none, tickers: [frame.ticker] };
    case 'book':
      return { ...none, books: [frame.book] };
    case 'unknown':
      return { ...none, unknown: frame };
    default:
      return none;
  }
}

export const contractSubject: VenueContractSubject = {
  captures,
  parse,
  simulator: { bitget: { pingTimeoutMs: 1000, tickerPushMs: 50, bookPushMs: 50, candlePushMs: 50 } },
  heartbeatDeadlineMs: 1000,
  adapter: (urls) =>
    createBitgetAdapter({
      ...urls,
      logger: silentLogger(),
      pingIntervalMs: 200,
      pongTimeoutMs: 500,
      runner: CONTRACT_RUNNER_TIMINGS,
    }),
};
