import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CandleEngine } from '../candles/candle-engine.ts';
import type { Candle, CandleUpdate } from '../domain/candle.ts';
import { bar, minute, T0, trade } from './fake-venue.test-support.ts';
import { barText, SymbolIngest, type MissedTrades } from './symbol-ingest.ts';

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

    // A stream that joined a few trades later: the hole is fetched, marked as found at the join.
    const late = withEngine().symbol;
    late.apply(trade('binance', { seq: 1, time: T0 - 1 }), undefined, true);
    late.expectStreamJoin(T0);
    late.release((m) => missed.push(m));
    late.receive(trade('binance', { seq: 4, time: T0 + 1 }), (m) => missed.push(m));
    late.receive(trade('binance', { seq: 6, time: T0 + 2 }), (m) => missed.push(m));
    assert.deepEqual(missed.splice(0), [
      { from: 2, to: 3, joining: true },
      { from: 5, to: 5 },
    ]);

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

  it('compares a closed venue kline with our bar once ours has closed, not while the minute may still change', () => {
    // OKX sends its closed kline on one connection and the minute's trades on another: the kline can come first.
    const { symbol } = withEngine();
    symbol.release();
    const differences: [string, string][] = [];
    const onDiffers = (ours: Candle, kline: Candle): void =>
      void differences.push([barText(ours), barText(kline)]);
    symbol.apply(trade('binance', { seq: 1, time: minute(0, 10, 1), price: '100', size: '1' }));
    symbol.advance(minute(0, 11, 0.5));
    symbol.checkKline(bar(minute(0, 10), '100', '2'), onDiffers);
    // The minute's last trade comes after the kline, within the close grace: our bar then equals it.
    symbol.apply(trade('binance', { seq: 2, time: minute(0, 10, 59), price: '100', size: '1' }));
    symbol.advance(minute(0, 11, 1));
    assert.deepEqual(differences, [], 'our bar is still open');
    symbol.advance(minute(0, 11, 3));
    assert.deepEqual(differences, []);
    assert.equal(symbol.mismatchedKlines, 0);
  });

  it('counts and reports a closed venue kline that differs from our final bar, once', () => {
    const { symbol } = withEngine();
    symbol.release();
    const differences: [string, string][] = [];
    const onDiffers = (ours: Candle, kline: Candle): void =>
      void differences.push([barText(ours), barText(kline)]);
    symbol.apply(trade('binance', { seq: 1, time: minute(0, 10, 1), price: '100' }));
    symbol.checkKline(bar(minute(0, 10), '99'), onDiffers);
    symbol.advance(minute(0, 11, 3));
    // A kline of a minute our engine has already closed is compared at once; this one agrees.
    symbol.checkKline(bar(minute(0, 10), '100'), onDiffers);
    symbol.advance(minute(0, 11, 4));
    assert.deepEqual(differences, [['100 100 100 100 1', '99 99 99 99 1']]);
    assert.equal(symbol.mismatchedKlines, 1);
  });

  it('compares a kline that came while trades were held once they are applied and our bar has closed', () => {
    const { symbol } = withEngine();
    const differences: Candle[] = [];
    symbol.apply(trade('binance', { seq: 1, time: minute(0, 10, 1), price: '100' }), undefined, true);
    symbol.checkKline(bar(minute(0, 10), '100', '2'), (_ours, kline) => void differences.push(kline));
    symbol.receive(trade('binance', { seq: 2, time: minute(0, 10, 50), price: '100' }), () => {});
    symbol.advance(minute(0, 11, 3));
    assert.equal(differences.length, 0, 'held: our bar lacks the held trade');
    symbol.release();
    symbol.advance(minute(0, 11, 3));
    assert.equal(differences.length, 0);
    symbol.hold();
    symbol.checkKline(bar(minute(0, 11), '98'), (_ours, kline) => void differences.push(kline));
    symbol.release();
    symbol.advance(minute(0, 12, 3));
    assert.deepEqual(
      differences.map((k) => k.time),
      [minute(0, 11)],
    );
    assert.equal(symbol.mismatchedKlines, 1);
  });
});
