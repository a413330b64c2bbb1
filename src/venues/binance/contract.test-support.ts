/**
 * Binance for the venue contract suite (src/venues/venue.contract.ts): its captured frames and its parser on them,
 * and the simulator and adapter with test timings.
 */
import { silentLogger } from '../../telemetry/logger.ts';
import { capturedFrames } from '../captured-frames.test-support.ts';
import type { ParsedFrame, VenueContractSubject } from '../venue.contract.ts';
import { createBinanceAdapter } from './index.ts';
import { depthDiffToBookUpdate, parseFrame, tickerToDomain } from './parse.ts';
import { binanceSymbolMap } from './symbols.ts';

/** The spot pairs of the captures (their other markets are futures and options, which the parser ignores). */
const CAPTURED_SYMBOLS = binanceSymbolMap([
  'BAL/USDT',
  'BLZ/ETH',
  'BNB/BTC',
  'BTC/USDC',
  'BTC/USDT',
  'DOGE/BNB',
  'ETH/USDT',
  'GNT/BTC',
  'LRC/BTC',
  'NKN/USDT',
  'RUNE/EUR',
]);

/**
 * How the Binance feed hands a parsed frame to the stream handlers (feed.ts, handleFrame). A `bookTicker` frame
 * only completes a ticker the feed already holds, so alone it carries no domain data.
 */
function parse(text: string, receivedAt: number): ParsedFrame {
  const frame = parseFrame(text, CAPTURED_SYMBOLS, receivedAt);
  const none: ParsedFrame = { trades: [], candles: [], tickers: [], books: [] };
  switch (frame.kind) {
    case 'trade':
      return { ...none, trades: [frame.trade] };
    case 'candle':
      return { ...none, candles: [frame.candle] };
    case 'ticker':
      return { ...none, tickers: [tickerToDomain(frame.ticker)] };
    case 'depth':
      return { ...none, books: [depthDiffToBookUpdate(frame.depth)] };
    case 'unknown':
      return { ...none, unknown: frame };
    default:
      return none;
  }
}

export const contractSubject: VenueContractSubject = {
  captures: () => capturedFrames('binance'),
  parse,
  simulator: {
    // Pings under Binance's 5 incoming messages per second, which count the pongs.
    binance: { pingIntervalMs: 500, pongTimeoutMs: 1000, klinePushMs: 100, tickerPushMs: 100 },
  },
  heartbeatDeadlineMs: 1000,
  adapter: (urls) =>
    createBinanceAdapter({
      ...urls,
      logger: silentLogger(),
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      silenceTimeoutMs: 1000,
      rest: { http: { retryBaseMs: 5, retryMaxMs: 20 } },
    }),
};
