import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertInput } from '../domain/alert.ts';
import { createLogger, silentLogger, type Logger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { FakeVenue, settle, T0, trade } from './fake-venue.test-support.ts';
import { SymbolIngest, type MissedTrades } from './symbol-ingest.ts';
import { BACKFILL_RETRY_MS, TradeBackfill } from './trade-backfill.ts';

function setup(logger: Logger = silentLogger()) {
  const clock = new ManualClock(T0);
  const venue = new FakeVenue('binance');
  const alerts: AlertInput[] = [];
  const backfill = new TradeBackfill({
    venue: 'binance',
    rest: venue.rest,
    contiguousTradeSeq: true,
    logger,
    clock,
    alert: (a) => alerts.push(a),
  });
  // A symbol that relays trades only, already live.
  const symbol = new SymbolIngest('BTC/USDT', null, true);
  symbol.release();
  const seqs = (): number[] => symbol.takeTrades().map((t) => Number(t.seq));
  return { clock, venue, backfill, symbol, alerts, seqs };
}

describe('TradeBackfill', () => {
  it('pages through a long hole in the sequence, 1,000 trades at a time, and stops at its end', async () => {
    const s = setup();
    // Ten trades a second from 00:10:30: the hole (seq 2 to 2400) spans the minutes 00:10 to 00:14.
    for (let seq = 1; seq <= 2500; seq++) s.venue.miss(trade('binance', { seq, time: T0 + seq * 100 }));
    s.symbol.apply(s.venue.tape[0]!);
    s.backfill.gap(s.symbol, { from: 2, to: 2400 });
    await settle();
    assert.deepEqual(s.venue.rest.calls, [
      'trades {"afterSeq":1,"limit":1000}',
      'trades {"afterSeq":1001,"limit":1000}',
      'trades {"afterSeq":2001,"limit":1000}',
    ]);
    const applied = s.seqs();
    assert.equal(applied.length, 2400);
    assert.equal(applied.at(-1), 2400);
    assert.deepEqual(s.backfill.stats(), { backfills: 1, backfilledTrades: 2399, backfilledBars: 5 });
    assert.deepEqual(s.alerts[0]?.details, { from: T0 + 200, to: T0 + 240_000, trades: 2399 });
  });

  it('holds the live trades while it runs and applies them after the missed ones', async () => {
    const s = setup();
    s.venue.trade(trade('binance', { seq: 1, time: T0 }));
    s.symbol.apply(s.venue.tape[0]!);
    s.venue.miss(trade('binance', { seq: 2, time: T0 + 1 }));
    s.venue.rest.holdTrades();
    s.backfill.sinceLast(s.symbol);
    s.symbol.receive(trade('binance', { seq: 3, time: T0 + 2 }), () => assert.fail('no gap while held'));
    assert.deepEqual(s.seqs(), [1], 'the live trade waits');
    s.venue.rest.release();
    await settle();
    assert.deepEqual(s.seqs(), [2, 3]);
    assert.equal(s.symbol.holding, false);
  });

  it('queues one open-ended backfill for a reconnect and a gap event that report the same outage', async () => {
    const s = setup();
    s.symbol.apply(trade('binance', { seq: 1, time: T0 }));
    s.symbol.apply(trade('binance', { seq: 4, time: T0 + 3 }));
    s.venue.rest.holdTrades();
    // While the hole 2..3 is being fetched, the stream drops and reports it twice.
    s.backfill.gap(s.symbol, { from: 2, to: 3 });
    s.backfill.sinceLast(s.symbol);
    s.backfill.sinceLast(s.symbol);
    s.venue.rest.release();
    await settle();
    assert.deepEqual(s.venue.rest.calls, [
      'trades {"afterSeq":1,"limit":1000}',
      'trades {"afterSeq":4,"limit":1000}',
    ]);
  });

  it('retries a failed backfill after 2 s, letting the live trades through meanwhile', async () => {
    const s = setup();
    const onMissed = (missed: MissedTrades): void => s.backfill.missed(s.symbol, missed);
    s.venue.trade(trade('binance', { seq: 1, time: T0 }));
    s.symbol.receive(s.venue.tape[0]!, onMissed);
    s.venue.miss(trade('binance', { seq: 2, time: T0 + 1 }), trade('binance', { seq: 3, time: T0 + 2 }));
    s.venue.rest.failures = 1;
    s.symbol.receive(trade('binance', { seq: 4, time: T0 + 3 }), onMissed);
    await settle();
    assert.equal(s.symbol.holding, false, 'the stream goes on while the venue does not answer');
    s.symbol.receive(trade('binance', { seq: 5, time: T0 + 4 }), onMissed);
    assert.deepEqual(s.seqs(), [1, 4, 5]);

    s.clock.advance(BACKFILL_RETRY_MS - 1);
    await settle();
    assert.equal(s.venue.rest.calls.length, 1);
    s.venue.rest.holdTrades();
    s.clock.advance(1);
    await settle();
    assert.equal(s.venue.rest.calls.length, 2, 'retried');
    s.symbol.receive(trade('binance', { seq: 6, time: T0 + 5 }), onMissed);
    assert.deepEqual(s.seqs(), [6], 'a retry does not hold the stream back');
    s.venue.rest.release();
    await settle();
    assert.deepEqual(s.seqs(), [2, 3], 'the hole is filled on the retry');
    assert.deepEqual(s.backfill.stats(), { backfills: 1, backfilledTrades: 2, backfilledBars: 1 });
    assert.deepEqual(s.symbol.stats().openGaps, []);
    assert.deepEqual(
      s.alerts.map((a) => [a.kind, a.severity, a.details]),
      [
        ['backfill_failed', 'warning', { fromSeq: 2, toSeq: 3, error: 'venue REST unavailable' }],
        ['backfill_done', 'info', { from: T0 + 1, to: T0 + 2, trades: 2 }],
      ],
      'one alert when it fails, one when the retry has the trades',
    );
  });

  it('raises no alert for a fetch that finds no trade missing', async () => {
    const s = setup();
    s.venue.trade(trade('binance', { seq: 1, time: T0 }));
    s.symbol.apply(s.venue.tape[0]!);
    s.backfill.sinceLast(s.symbol);
    await settle();
    assert.equal(s.venue.rest.calls.length, 1);
    assert.deepEqual(s.alerts, []);
  });

  it("fetches a hole found at the stream's join like any other, logged as expected, not as a warning", async () => {
    const lines: string[] = [];
    const s = setup(
      createLogger({ destination: { isTTY: false, write: (l) => void lines.push(l) }, level: 'info' }),
    );
    s.venue.trade(trade('binance', { seq: 1, time: T0 }));
    s.symbol.apply(s.venue.tape[0]!);
    s.venue.miss(trade('binance', { seq: 2, time: T0 + 1 }));
    s.backfill.missed(s.symbol, { from: 2, to: 2, joining: true });
    await settle();
    s.backfill.missed(s.symbol, { from: 9, to: 9 });
    await settle();
    assert.deepEqual(s.seqs(), [1, 2]);
    assert.equal(s.backfill.stats().backfills, 2);
    const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    assert.deepEqual(
      logged.filter((l) => l.level >= 40).map((l) => l.msg),
      ['trade sequence gap'],
      'only the hole in the running stream warns',
    );
    assert.ok(logged.some((l) => l.level === 30 && /joined after/.test(l.msg)));
  });

  it('has nothing to backfill before the first trade', async () => {
    const s = setup();
    s.backfill.sinceLast(s.symbol);
    await settle();
    assert.deepEqual(s.venue.rest.calls, []);
    assert.equal(s.symbol.holding, false);
  });
});
