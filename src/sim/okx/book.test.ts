import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { MINUTE_MS } from '../../domain/interval.ts';
import { SimMarket } from '../market/market.ts';
import { symbolSpec } from '../market/symbol-specs.ts';
import { OkxSimBookModel } from './book.ts';
import { OkxNumberFormat } from './format.ts';
import type { OkxSimBook, OkxSimLevel } from './wire.ts';

const NOW = Date.UTC(2026, 4, 20, 10, 15, 42, 123);

/** A client's book: price → size, updated as OKX says (size "0" removes). */
function apply(side: Map<string, string>, levels: readonly OkxSimLevel[]): void {
  for (const [px, sz] of levels) {
    if (sz === '0') side.delete(px);
    else side.set(px, sz);
  }
}

function sorted(side: Map<string, string>, descending: boolean): [string, string][] {
  return [...side].sort((a, b) => (Number(a[0]) - Number(b[0])) * (descending ? -1 : 1));
}

/** OKX's checksum of a client's book: "bid1px:bid1sz:ask1px:ask1sz:..." over the top 25 levels. */
function checksumOf(bids: [string, string][], asks: [string, string][]): number {
  const parts: string[] = [];
  for (let i = 0; i < 25; i++) {
    if (bids[i]) parts.push(...(bids[i] as [string, string]));
    if (asks[i]) parts.push(...(asks[i] as [string, string]));
  }
  return crc32(parts.join(':')) | 0;
}

describe('OkxSimBookModel', () => {
  it('sends updates that carry a client from the snapshot to every later book, checksums included', () => {
    const market = new SimMarket({
      spec: symbolSpec('BTC/USDT'),
      seed: 9,
      nowMs: NOW,
      historyDays: 1,
      tradeWindowMs: 30 * MINUTE_MS,
      tradesPerSecond: 20,
    });
    const book = new OkxSimBookModel(market, new OkxNumberFormat(market.spec.tick, market.spec.step), 9, 400);
    const first: OkxSimBook = book.snapshot(NOW);
    const bids = new Map(first.bids.map(([px, sz]) => [px, sz] as const));
    const asks = new Map(first.asks.map(([px, sz]) => [px, sz] as const));
    let seq = first.seqId;
    let moved = 0;
    let lastBest = first.bids[0]?.[0];
    for (let t = NOW; t < NOW + 2 * MINUTE_MS; t += 100) {
      market.advanceTo(t);
      const update = book.step(t, 60_000);
      if (update === undefined) continue;
      assert.equal(update.prevSeqId, seq);
      seq = update.seqId;
      apply(bids, update.bids);
      apply(asks, update.asks);
      const b = sorted(bids, true);
      const a = sorted(asks, false);
      assert.equal(update.checksum, checksumOf(b, a));
      if (b[0]?.[0] !== lastBest) moved++;
      lastBest = b[0]?.[0];
    }
    assert.ok(moved > 10, `the price moved (${moved} times), so levels were added and removed`);
    const now = book.snapshot(NOW + 2 * MINUTE_MS);
    assert.deepEqual(
      sorted(bids, true),
      now.bids.map(([px, sz]) => [px, sz]),
    );
    assert.deepEqual(
      sorted(asks, false),
      now.asks.map(([px, sz]) => [px, sz]),
    );
  });
});
