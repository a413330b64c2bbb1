import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CandleEngine } from '../candles/candle-engine.ts';
import type { CandleUpdate } from '../domain/candle.ts';
import { bar, minute, T0, trade } from './fake-venue.test-support.ts';
import { SymbolIngest, type MissedTrades } from './symbol-ingest.ts';

function withEngine() {
  const updates: CandleUpdate[] = [];
  const engine = new CandleEngine({
    symbol: 'BTC/USDT',
    venues: ['binance'],
    closeGraceMs: 2000,
    onUpdate: (u) => updates.push(u),
  });
  engine.resume(minute(0, 10));
  return { symbol: new SymbolIngest('BTC/USDT', engine, true), updates };
}

describe('SymbolIngest', () => {
  it('holds live trades from the start until released, then applies them in order, once each', () => {
    const { symbol } = withEngine();
    const noGap = (): void => assert.fail('no gap expected');
    symbol.receive(trade('binance', { seq: 2, time: T0 }), noGap);
    symbol.receive(trade('binance', { seq: 3, time: T0 + 1 }), noGap);
    assert.deepEqual(symbol.takeTrades(), []);
    symbol.apply(trade('binance', { seq: 1, time: T0 - 1 }), undefined, true);
    symbol.apply(trade('binance', { seq: 2, time: T0 }), undefined, true);
    assert.equal(symbol.release(), 2);
    assert.deepEqual(
      symbol.takeTrades().map((t) => t.seq),
      [1, 2, 3],
    );
    assert.equal(symbol.stats().duplicates, 1);
    assert.equal(symbol.newestTradeTime, T0 + 1);
  });

  it('reports a jump in the sequence of a live trade', () => {
    const { symbol } = withEngine();
    symbol.release();
    symbol.receive(trade('binance', { seq: 1, time: T0 }), () => assert.fail('first trade'));
    const gaps: unknown[] = [];
    symbol.receive(trade('binance', { seq: 5, time: T0 }), (gap) => gaps.push(gap));
    assert.deepEqual(gaps, [{ from: 2, to: 4 }]);
  });

  it('reports a jump in the sequence among the trades it held, once released', () => {
    const { symbol } = withEngine();
    const missed: MissedTrades[] = [];
    symbol.apply(trade('binance', { seq: 1, time: T0 - 1 }), undefined, true);
    symbol.receive(trade('binance', { seq: 4, time: T0 }), (m) => missed.push(m));
    assert.equal(missed.length, 0, 'held, not yet applied');
    symbol.release((m) => missed.push(m));
    assert.deepEqual(missed, [{ from: 2, to: 3 }]);
  });

  it("checks once that the stream's trades continue those fetched at start-up", () => {
    // Contiguous ids: a stream that continues the sequence joins, and a hole would show as a gap.
    const joined = withEngine().symbol;
    const missed: MissedTrades[] = [];
    joined.apply(trade('binance', { seq: 1, time: T0 - 1 }), undefined, true);
    joined.expectStreamJoin(T0);
    joined.release((m) => missed.push(m));
    joined.receive(trade('binance', { seq: 2, time: T0 + 1 }), (m) => missed.push(m));
    assert.equal(missed.length, 0);

    // No trade from REST to continue: the trades since the REST answer's end are fetched, once.
    const { symbol } = withEngine();
    symbol.expectStreamJoin(T0);
    symbol.release((m) => missed.push(m));
    symbol.receive(trade('binance', { seq: 7, time: T0 + 1 }), (m) => missed.push(m));
    symbol.receive(trade('binance', { seq: 8, time: T0 + 2 }), (m) => missed.push(m));
    assert.deepEqual(missed, [{ since: T0, joining: true }]);
  });

  it('does not close bars on the clock while it holds trades', () => {
    const { symbol, updates } = withEngine();
    symbol.apply(trade('binance', { seq: 1, time: minute(0, 10, 1) }), undefined, true);
    symbol.advance(minute(0, 12));
    assert.ok(!updates.some((u) => u.state === 'closed'));
    symbol.release();
    symbol.advance(minute(0, 12));
    assert.ok(updates.some((u) => u.interval === '1m' && u.state === 'closed'));
  });

  it('counts a closed venue kline that differs from our bar, but not while trades are held', () => {
    const { symbol } = withEngine();
    symbol.release();
    symbol.apply(trade('binance', { seq: 1, time: minute(0, 10, 1), price: '100' }));
    symbol.advance(minute(0, 11, 3));
    assert.equal(symbol.differsFromKline(bar(minute(0, 10), '100')), false);
    assert.equal(symbol.differsFromKline(bar(minute(0, 10), '99')), true);
    symbol.hold();
    assert.equal(symbol.differsFromKline(bar(minute(0, 10), '99')), false);
    assert.equal(symbol.mismatchedKlines, 1);
  });
});
