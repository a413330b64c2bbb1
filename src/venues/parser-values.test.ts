import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contractSubject as binance } from './binance/contract.test-support.ts';
import { contractSubject as bitget } from './bitget/contract.test-support.ts';
import { contractSubject as dydx } from './dydx/contract.test-support.ts';
import { contractSubject as okx } from './okx/contract.test-support.ts';
import type { ParsedFrame, VenueContractSubject } from './venue.contract.ts';

/**
 * Values no venue sends but a corrupted frame can carry (found by the parser fuzzer, test/fuzz/): a price of zero
 * or below, a negative size, volume or count, a negative or fractional time. Each venue's parser must reject
 * the frame as `unknown` rather than hand such a trade, candle or ticker to the candle engine.
 */
const RECEIVED = 1_700_000_000_000;

function data(frame: ParsedFrame): number {
  return frame.trades.length + frame.candles.length + frame.tickers.length;
}

// The frames are JSON of many shapes; each variant edits one field of its copy.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Frame = any;

/** The valid frame gives data; every variant made by `bad` is rejected. */
function rejects(
  subject: VenueContractSubject,
  valid: object,
  variants: Record<string, (f: Frame) => void>,
): void {
  assert.ok(data(subject.parse(JSON.stringify(valid), RECEIVED)) > 0, 'the valid frame gives data');
  for (const [name, change] of Object.entries(variants)) {
    const frame = structuredClone(valid);
    change(frame);
    const parsed = subject.parse(JSON.stringify(frame), RECEIVED);
    assert.equal(data(parsed), 0, `${name}: no data`);
    assert.ok(parsed.unknown, `${name}: rejected as unknown`);
  }
}

describe('venue parsers reject implausible values', () => {
  it('binance', () => {
    const trade = {
      stream: 'btcusdt@aggTrade',
      data: {
        e: 'aggTrade',
        E: 1616176861895,
        s: 'BTCUSDT',
        a: 640283266,
        p: '58942.01000000',
        q: '0.00035600',
        f: 716849523,
        l: 716849523,
        T: 1616176861893,
        m: false,
        M: true,
      },
    };
    rejects(binance, trade, {
      'negative price': (f) => (f.data.p = '-58942.01000000'),
      'zero price': (f) => (f.data.p = '0'),
      'price as a number': (f) => (f.data.p = 0),
      'negative size': (f) => (f.data.q = '-1'),
      'last id below the first': (f) => (f.data.l = f.data.f - 2),
      'fractional time': (f) => (f.data.T = 1616176861893.5),
      'negative time': (f) => (f.data.T = -1),
    });
    const kline = {
      stream: 'btcusdt@kline_1m',
      data: {
        e: 'kline',
        E: 1633998534486,
        s: 'BTCUSDT',
        k: {
          t: 1633998480000,
          T: 1633998539999,
          s: 'BTCUSDT',
          i: '1m',
          f: 1,
          L: 2,
          o: '0.00000638',
          c: '0.00000638',
          h: '0.00000638',
          l: '0.00000638',
          v: '177',
          n: 1,
          x: false,
          q: '0.00112926',
          V: '177',
          Q: '0.00112926',
          B: '0',
        },
      },
    };
    rejects(binance, kline, {
      'negative open': (f) => (f.data.k.o = '-0.00000638'),
      'negative quote volume': (f) => (f.data.k.q = '-0.00112926'),
      'negative trade count': (f) => (f.data.k.n = -1),
    });
  });

  it('okx', () => {
    const trades = {
      arg: { channel: 'trades', instId: 'BTC-USDT' },
      data: [
        {
          instId: 'BTC-USDT',
          tradeId: '338476331',
          px: '30246',
          sz: '0.0011275',
          side: 'buy',
          ts: '1652459229038',
        },
      ],
    };
    rejects(okx, trades, {
      'negative size': (f) => (f.data[0].sz = '-0.0011275'),
      'negative price': (f) => (f.data[0].px = '-30246'),
      'negative time': (f) => (f.data[0].ts = '-1652459229038'),
    });
  });

  it('bitget', () => {
    const trades = {
      action: 'update',
      arg: { instType: 'SPOT', channel: 'trade', instId: 'BTCUSDT' },
      data: [{ ts: '1695716760565', price: '27000.5', size: '0.001', side: 'buy', tradeId: '1' }],
      ts: 1695716761589,
    };
    rejects(bitget, trades, {
      'negative price': (f) => (f.data[0].price = '-27000.5'),
      'negative size': (f) => (f.data[0].size = '-0.001'),
    });
  });

  it('dydx', () => {
    const trades = {
      type: 'channel_data',
      connection_id: 'c',
      message_id: 1,
      id: 'BTC-USD',
      channel: 'v4_trades',
      version: '2.1.0',
      contents: {
        trades: [
          {
            id: '0165e5e40000000200000002',
            size: '0.002',
            price: '60000',
            side: 'BUY',
            createdAt: '2024-08-22T23:59:59.851Z',
            type: 'LIMIT',
          },
        ],
      },
    };
    rejects(dydx, trades, {
      'zero price': (f) => (f.contents.trades[0].price = '-0'),
      'negative size': (f) => (f.contents.trades[0].size = '-4.303'),
      'a bare year as the time': (f) => (f.contents.trades[0].createdAt = '01420'),
    });
  });
});
