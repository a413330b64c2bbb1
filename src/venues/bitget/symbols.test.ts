import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TickwireError } from '../../domain/errors.ts';
import { INTERVALS } from '../../domain/interval.ts';
import {
  bitgetSymbolMap,
  candleChannel,
  fromCandleChannel,
  instrumentKey,
  isBitgetSymbol,
  restGranularity,
  toBitgetInstrument,
} from './symbols.ts';

test('spot pairs and USDT perpetuals map to instType + instId and back', () => {
  assert.deepEqual(toBitgetInstrument('BTC/USDT'), { instType: 'SPOT', instId: 'BTCUSDT' });
  assert.deepEqual(toBitgetInstrument('ETH/USDT:USDT'), { instType: 'USDT-FUTURES', instId: 'ETHUSDT' });
  const map = bitgetSymbolMap(['BTC/USDT', 'BTC/USDT:USDT']);
  assert.equal(map.get(instrumentKey('SPOT', 'BTCUSDT')), 'BTC/USDT');
  assert.equal(map.get(instrumentKey('USDT-FUTURES', 'BTCUSDT')), 'BTC/USDT:USDT');
  assert.ok(isBitgetSymbol('SOL/USDT:USDT') && isBitgetSymbol('SOL/BTC') && !isBitgetSymbol('SOLUSDT'));
});

test('symbols the adapter cannot map are INVALID_SYMBOL', () => {
  for (const bad of ['BTCUSDT', 'btc/usdt', 'BTC/USDC:USDT', 'BTC/USDT:USDC', '']) {
    assert.throws(
      () => toBitgetInstrument(bad),
      (e: unknown) => e instanceof TickwireError && e.code === 'INVALID_SYMBOL',
      bad,
    );
  }
});

test('candle channels are case-sensitive and UTC-anchored for days and weeks; REST granularities differ by family', () => {
  assert.deepEqual(INTERVALS.map(candleChannel), [
    'candle1m',
    'candle5m',
    'candle15m',
    'candle1H',
    'candle4H',
    'candle1Dutc',
    'candle1Wutc',
  ]);
  for (const i of INTERVALS) assert.equal(fromCandleChannel(candleChannel(i)), i);
  assert.equal(fromCandleChannel('candle1h'), undefined);
  assert.equal(fromCandleChannel('candle1D'), undefined, 'the UTC+8 day is not a Tickwire bar');
  assert.deepEqual(
    INTERVALS.map((i) => restGranularity(i, 'SPOT')),
    ['1min', '5min', '15min', '1h', '4h', '1Dutc', '1Wutc'],
  );
  assert.deepEqual(
    INTERVALS.map((i) => restGranularity(i, 'USDT-FUTURES')),
    ['1m', '5m', '15m', '1H', '4H', '1Dutc', '1Wutc'],
  );
});
