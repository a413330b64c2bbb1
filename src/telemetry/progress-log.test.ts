import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ProgressLog } from './progress-log.ts';

describe('progress of a long load', () => {
  it('says when it starts, then at most one line every few seconds, with bars loaded of expected', () => {
    const records: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void records.push(JSON.parse(line)) });
    let t = 0;
    const progress = new ProgressLog({
      logger,
      now: () => t,
      fields: { venue: 'binance', symbol: 'BTC/USDT' },
      expected: 10_000,
    });
    // 100 pages of 100 bars, one every 300 ms: 30 s in all.
    for (let page = 1; page <= 100; page++) {
      t += 300;
      progress.update(page * 100);
    }
    progress.update(5000);
    assert.equal(progress.loaded, 10_000, 'progress never goes back');
    const messages = records.map((r) => r['msg']);
    assert.equal(messages[0], 'loading history: up to 10000 bars');
    assert.equal(messages[1], 'loaded 1000 of 10000 bars');
    assert.equal(messages.length, 11, 'one line per 3 s of a 30 s load, and the first');
    assert.ok(records.every((r) => r['venue'] === 'binance' && r['symbol'] === 'BTC/USDT'));
  });

  it('does not announce again a load that is retried', () => {
    const records: unknown[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void records.push(JSON.parse(line)) });
    new ProgressLog({ logger, now: () => 0, expected: 100, announce: false }).update(50);
    assert.equal(records.length, 0);
  });
});
