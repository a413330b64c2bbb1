import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INTERVALS } from '../../domain/interval.ts';
import { TickwireError } from '../../domain/errors.ts';
import {
  candleChannel,
  candleChannelInterval,
  fromOkxBar,
  okxSymbolMap,
  toOkxBar,
  toOkxInstId,
} from './symbols.ts';

test('canonical symbols map to OKX spot instIds and back', () => {
  assert.equal(toOkxInstId('BTC/USDT'), 'BTC-USDT');
  const map = okxSymbolMap(['BTC/USDT', 'ETH/USDC']);
  assert.equal(map.get('ETH-USDC'), 'ETH/USDC');
  assert.equal(map.get('BTC-USDT-SWAP'), undefined);
  assert.throws(() => toOkxInstId('btc-usdt'), TickwireError);
});

test('intervals use UTC-anchored bars from 1D up and round-trip', () => {
  assert.equal(toOkxBar('1h'), '1H');
  assert.equal(candleChannel('1D'), 'candle1Dutc');
  assert.equal(candleChannel('1W'), 'candle1Wutc');
  for (const i of INTERVALS) assert.equal(fromOkxBar(toOkxBar(i)), i);
  assert.equal(candleChannelInterval('candle1D'), undefined);
  assert.equal(candleChannelInterval('candle4H'), '4h');
  assert.equal(candleChannelInterval('tickers'), undefined);
});
