import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toPlainString } from '../../domain/decimal.ts';
import type { Trade } from '../../domain/trade.ts';
import { parseAggTrade, toMillis } from './parse.ts';
import {
  AggTradeByteScanner,
  detectDumpFormat,
  isCsvHeader,
  parseAggTradeCsvRow,
  parseAggTradeJsonLine,
  parseTradeCsvRow,
} from './trade-dump.ts';
import type { BinanceAggTrade } from './wire.ts';

const plain = (t: Trade | null): Record<string, unknown> => {
  assert.ok(t);
  return { ...t, price: toPlainString(t.price), size: toPlainString(t.size) };
};

describe('Binance trade dumps', () => {
  it('reads an aggTrades JSON line (REST item, stream payload, combined-stream wrapper)', () => {
    const line =
      '{"a":13519807,"p":"0.00141342","q":"23.00000000","f":15373518,"l":15373520,"T":1570752011620,"m":true}';
    const want = {
      venue: 'binance',
      symbol: 'XRP/ETH',
      id: '13519807',
      seq: 13519807,
      price: '0.00141342',
      size: '23',
      side: 'sell',
      fills: 3,
      time: 1570752011620,
      receivedAt: 1570752011620,
    };
    assert.deepEqual(plain(parseAggTradeJsonLine(line, 'XRP/ETH')), want);
    const event = `{"e":"aggTrade","E":1570752011700,"s":"XRPETH",${line.slice(1)}`;
    assert.deepEqual(plain(parseAggTradeJsonLine(event, 'XRP/ETH')), want);
    assert.deepEqual(
      plain(parseAggTradeJsonLine(`{"stream":"xrpeth@aggTrade","data":${event}}`, 'XRP/ETH')),
      want,
    );
  });

  it('rejects a malformed aggTrades JSON line with the reason', () => {
    assert.throws(() => parseAggTradeJsonLine('{"a":1', 'X/Y'), /not valid JSON/);
    assert.throws(
      () => parseAggTradeJsonLine('{"a":1,"p":1,"q":"1","f":1,"l":1,"T":1,"m":true}', 'X/Y'),
      /price p/,
    );
    assert.throws(
      () => parseAggTradeJsonLine('{"a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":1}', 'X/Y'),
      /flag m/,
    );
  });

  it('reads the exact Binance line shape and every variant of it as JSON.parse reads them', () => {
    const canonical =
      '{"a":13519807,"p":"0.00141342","q":"23.00000000","f":15373518,"l":15373520,"T":1570752011620,"m":true,"M":true}';
    const lines = [
      canonical,
      canonical.replace(',"M":true', ''),
      canonical.replace('"m":true', '"m":false').replace('"M":true', '"M":false'),
      canonical.replace('1570752011620', '1570752011620123'), // µs
      canonical.replace('"p":"0.00141342"', '"p":"1e-8"'),
      canonical.replace('"p":"0.00141342"', '"p":"1.2.3"'),
      canonical.replace('"p":"0.00141342"', '"p":""'),
      canonical.replace('13519807', '-13519807'),
      canonical.replace('13519807', '013519807'),
      canonical.replace('13519807', '9007199254740993'),
      canonical.replace('15373520', '15373520.5'),
      canonical.replace('"a":', '"a": '),
      canonical.replace('"M":true}', '"M":true,"a":1}'),
      canonical.replace('"M":true', '"M":1'),
      canonical.replace('"m":true', '"m":truee'),
      canonical + ' ',
      canonical.slice(0, -1),
    ];
    const generic = (line: string): unknown => {
      try {
        const raw = JSON.parse(line) as BinanceAggTrade;
        if (typeof raw.p !== 'string' || typeof raw.T !== 'number') return 'rejected';
        return plain(parseAggTrade(raw, 'XRP/ETH', toMillis(raw.T)));
      } catch (err) {
        return err instanceof SyntaxError ? 'not valid JSON' : (err as Error).message;
      }
    };
    for (const line of lines) {
      let ours: unknown;
      try {
        ours = plain(parseAggTradeJsonLine(line, 'XRP/ETH'));
      } catch (err) {
        ours = (err as Error).message;
      }
      assert.deepEqual(ours, generic(line), line);
    }
  });

  it('reads the exact line shape from bytes to the numbers the text reader gives, and leaves any other line to it', () => {
    const canonical =
      '{"a":13519807,"p":"0.00141342","q":"23.00000000","f":15373518,"l":15373520,"T":1570752011620,"m":true,"M":true}';
    const taken = [
      canonical,
      canonical.replace(',"M":true', ''),
      canonical.replace('"m":true', '"m":false').replace('"M":true', '"M":false'),
      canonical.replace('1570752011620', '1570752011620123'), // µs
      canonical.replace('"p":"0.00141342"', '"p":"43000.00000000"'),
      canonical.replace('"p":"0.00141342"', '"p":"123456789.123456"'), // 15 digits
      canonical.replace('"p":"0.00141342"', '"p":".5"'),
      canonical.replace('"q":"23.00000000"', '"q":"7."'),
      canonical.replace('"q":"23.00000000"', '"q":"0"'),
      canonical.replace('"a":13519807', '"a":0'),
      canonical.replace('15373518', '15373520'), // f = l
    ];
    const left = [
      canonical.replace('"p":"0.00141342"', '"p":"1234567890.1234567"'), // 17 digits: exact only as BigInt
      canonical.replace('"p":"0.00141342"', '"p":"0.00000000"'),
      canonical.replace('"p":"0.00141342"', '"p":"1e-8"'),
      canonical.replace('"p":"0.00141342"', '"p":"1.2.3"'),
      canonical.replace('"p":"0.00141342"', '"p":""'),
      canonical.replace('"p":"0.00141342"', '"p":"."'),
      canonical.replace('"p":"0.00141342"', '"p":0.1'),
      canonical.replace('15373518', '15373521'), // l < f
      canonical.replace('13519807', '-13519807'),
      canonical.replace('13519807', '013519807'),
      canonical.replace('13519807', '9007199254740993'),
      canonical.replace('15373520', '15373520.5'),
      canonical.replace('"a":', '"a": '),
      canonical.replace('"M":true}', '"M":true,"a":1}'),
      canonical.replace('"M":true', '"M":1'),
      canonical.replace('"m":true', '"m":truee'),
      canonical.replace('"m":true', '"m":1'),
      ' ' + canonical,
      canonical + ' ',
      canonical.slice(0, -1),
      `{"stream":"xrpeth@aggTrade","data":${canonical}}`,
      '',
    ];
    const scanner = new AggTradeByteScanner();
    for (const line of taken) {
      // The line among others in one buffer, as the command reads a chunk of a file.
      const bytes = Buffer.from(`${canonical}\n${line}\r\n1,2`);
      const from = canonical.length + 1;
      assert.ok(scanner.scan(bytes, from, from + Buffer.byteLength(line)), line);
      const text = parseAggTradeJsonLine(line, 'XRP/ETH');
      assert.deepEqual(
        {
          seq: scanner.seq,
          price: { coef: BigInt(scanner.priceCoef), scale: scanner.priceScale },
          size: { coef: BigInt(scanner.sizeCoef), scale: scanner.sizeScale },
          side: scanner.sell ? 'sell' : 'buy',
          fills: scanner.fills,
          time: scanner.time,
          receivedAt: scanner.receivedAt,
        },
        {
          seq: text.seq,
          price: text.price,
          size: text.size,
          side: text.side,
          fills: text.fills,
          time: text.time,
          receivedAt: text.receivedAt,
        },
        line,
      );
      assert.equal(text.id, String(scanner.seq));
    }
    for (const line of left) {
      const bytes = Buffer.from(`${line}\n${canonical}`);
      assert.equal(scanner.scan(bytes, 0, Buffer.byteLength(line)), false, line);
    }
    // Lines left to the text reader that it rejects keep its reasons.
    assert.throws(() => parseAggTradeJsonLine(left[1]!, 'X/Y'), /field p must be a decimal above zero/);
    assert.throws(() => parseAggTradeJsonLine(left[7]!, 'X/Y'), /last trade id l/);
  });

  it('reads trades CSV rows with ms or µs times and skips the header', () => {
    assert.equal(
      parseTradeCsvRow('id,price,qty,quote_qty,time,is_buyer_maker,is_best_match', 'BTC/USDT'),
      null,
    );
    const ms = parseTradeCsvRow(
      '3,42000.01000000,0.00100000,42.00001000,1704067200123,False,True',
      'BTC/USDT',
    );
    assert.deepEqual(plain(ms), {
      venue: 'binance',
      symbol: 'BTC/USDT',
      id: '3',
      seq: 3,
      price: '42000.01',
      size: '0.001',
      side: 'buy',
      fills: 1,
      time: 1704067200123,
      receivedAt: 1704067200123,
    });
    const us = parseTradeCsvRow('3,42000.01,0.001,42.00001,1704067200123456,true,true', 'BTC/USDT');
    assert.equal(us?.time, 1704067200123);
    assert.equal(us?.side, 'sell');
    // Futures dumps have no isBestMatch column.
    assert.equal(parseTradeCsvRow('3,1,1,1,1704067200123,true', 'BTC/USDT')?.side, 'sell');
  });

  it('reads aggTrades CSV rows with ms or µs times and skips the header', () => {
    const header = 'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker';
    assert.equal(parseAggTradeCsvRow(header, 'BTC/USDT'), null);
    const t = parseAggTradeCsvRow('10,1.5,2,100,104,1704067200123456,False,True', 'BTC/USDT');
    assert.deepEqual(plain(t), {
      venue: 'binance',
      symbol: 'BTC/USDT',
      id: '10',
      seq: 10,
      price: '1.5',
      size: '2',
      side: 'buy',
      fills: 5,
      time: 1704067200123,
      receivedAt: 1704067200123,
    });
  });

  it('names the bad column of a malformed CSV row', () => {
    assert.throws(() => parseTradeCsvRow('1,abc,1,1,1704067200123,true,true', 'X/Y'), /column price/);
    assert.throws(() => parseTradeCsvRow('1,1,1,1,1704067200123,maybe,true', 'X/Y'), /isBuyerMaker/);
    assert.throws(() => parseTradeCsvRow('1,1,1', 'X/Y'), /expected 6 or 7/);
    assert.throws(() => parseAggTradeCsvRow('1,1,1,9,8,1704067200123,true,true', 'X/Y'), /lastId/);
    assert.throws(() => parseAggTradeCsvRow('1,1,1,x,8,1704067200123,true,true', 'X/Y'), /firstId/);
  });

  it('detects the format from a data line or a header line', () => {
    assert.equal(
      detectDumpFormat('{"a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}'),
      'binance-aggtrades-json',
    );
    assert.equal(detectDumpFormat('3,1.0,1.0,1.0,1704067200123,False,True'), 'binance-trades-csv');
    assert.equal(detectDumpFormat('3,1.0,1.0,1.0,1704067200123,False'), 'binance-trades-csv');
    assert.equal(detectDumpFormat('10,1.5,2,100,104,1704067200123,False,True'), 'binance-aggtrades-csv');
    assert.equal(detectDumpFormat('10,1.5,2,100,104,1704067200123,False'), 'binance-aggtrades-csv');
    assert.equal(detectDumpFormat('id,price,qty,quote_qty,time,is_buyer_maker'), 'binance-trades-csv');
    assert.equal(
      detectDumpFormat(
        'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker',
      ),
      'binance-aggtrades-csv',
    );
    assert.equal(detectDumpFormat('hello world'), undefined);
    assert.equal(isCsvHeader('1,2,3'), false);
  });
});
