import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INTERVALS } from '../../domain/interval.ts';
import { TickwireError } from '../../domain/errors.ts';
import {
  binanceSymbolMap,
  fromBinanceInterval,
  klineStreamName,
  streamSymbol,
  toBinanceInterval,
  toBinanceSymbol,
  tradeStreamName,
} from './symbols.ts';

describe('binance symbols', () => {
  it('spells canonical symbols the Binance way and maps them back', () => {
    assert.equal(toBinanceSymbol('BTC/USDT'), 'BTCUSDT');
    const map = binanceSymbolMap(['BTC/USDT', 'RUNE/EUR']);
    assert.equal(map.get('BTCUSDT'), 'BTC/USDT');
    assert.equal(map.get('RUNEEUR'), 'RUNE/EUR');
    assert.equal(map.get('ETHUSDT'), undefined);
  });

  it('rejects a symbol that is not canonical with INVALID_SYMBOL', () => {
    for (const bad of ['BTCUSDT', 'btc/usdt', 'BTC-USDT', '']) {
      assert.throws(
        () => toBinanceSymbol(bad),
        (err: unknown) => err instanceof TickwireError && err.code === 'INVALID_SYMBOL',
      );
    }
  });

  it('names streams in lower case', () => {
    assert.equal(tradeStreamName('BTC/USDT'), 'btcusdt@aggTrade');
    assert.equal(tradeStreamName('BTC/USDT', 'trade'), 'btcusdt@trade');
    assert.equal(klineStreamName('ETH/BTC', '1m'), 'ethbtc@kline_1m');
    assert.equal(klineStreamName('ETH/BTC', '1D'), 'ethbtc@kline_1d');
    assert.equal(klineStreamName('ETH/BTC', '1W'), 'ethbtc@kline_1w');
  });

  it('maps every Tickwire interval both ways and nothing else', () => {
    assert.deepEqual(INTERVALS.map(toBinanceInterval), ['1m', '5m', '15m', '1h', '4h', '1d', '1w']);
    for (const i of INTERVALS) assert.equal(fromBinanceInterval(toBinanceInterval(i)), i);
    for (const other of ['1s', '3m', '1M', '1D', '1W', ''])
      assert.equal(fromBinanceInterval(other), undefined);
  });

  it('reads the symbol of a stream name', () => {
    assert.equal(streamSymbol('ethusdt@depth20'), 'ETHUSDT');
    assert.equal(streamSymbol('btcusdt@depth@100ms'), 'BTCUSDT');
    assert.equal(streamSymbol('!bookTicker'), undefined);
  });
});
