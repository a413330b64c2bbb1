import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BookRules } from '../domain/book-rules.ts';
import type { BookLevel, BookUpdate } from '../domain/book.ts';
import { ManualClock } from '../util/clock.ts';
import { BookSync, type BookResyncReason, type BookSyncEvent } from './book-sync.ts';
import { crc32Signed } from './checksum.ts';
import { booksPushes, levelsOf, readCapture } from './fixture-books.test-support.ts';

const OKX_RULES: BookRules = {
  snapshotSource: 'stream',
  sequence: 'prev-seq',
  sequenceExceptions: { keepAlive: true, resetOnLowerSeq: true },
  checksum: 'crc32-top25',
  checksumSnapshots: true,
  uncross: false,
};
const BITGET_RULES: BookRules = {
  snapshotSource: 'stream',
  sequence: 'prev-seq',
  sequenceExceptions: { allowMissing: true },
  checksum: 'crc32-top25',
  checksumSnapshots: false,
  uncross: false,
};
const BINANCE_RULES: BookRules = {
  snapshotSource: 'rest',
  sequence: 'binance-range',
  checksum: 'none',
  checksumSnapshots: false,
  uncross: false,
  snapshotDepth: 1000,
};
const DYDX_RULES: BookRules = {
  snapshotSource: 'stream',
  sequence: 'none',
  checksum: 'none',
  checksumSnapshots: false,
  uncross: true,
};

/** Records everything BookSync asks of the adapter. */
function recorder(): {
  snapshots: { symbol: string; depth: number | undefined }[];
  resyncs: { symbol: string; reason: BookResyncReason }[];
  events: BookSyncEvent[];
  handlers: ConstructorParameters<typeof BookSync>[2];
} {
  const snapshots: { symbol: string; depth: number | undefined }[] = [];
  const resyncs: { symbol: string; reason: BookResyncReason }[] = [];
  const events: BookSyncEvent[] = [];
  return {
    snapshots,
    resyncs,
    events,
    handlers: {
      requestSnapshot: (symbol, depth) => snapshots.push({ symbol, depth }),
      resync: (symbol, reason) => resyncs.push({ symbol, reason }),
      onEvent: (e) => events.push(e),
    },
  };
}

const lv = (price: string, size: string): BookLevel => ({ price, size });

function upd(
  symbol: string,
  kind: 'snapshot' | 'delta',
  bids: BookLevel[],
  asks: BookLevel[],
  extra: { seq?: number; prevSeq?: number; checksum?: number } = {},
): BookUpdate {
  return { venue: 'okx', symbol, kind, bids, asks, time: 1, receivedAt: 1, ...extra };
}

/** Checksum of a small (< 25 levels) book given best-first levels, computed from the definition. */
function crcOf(bids: BookLevel[], asks: BookLevel[]): number {
  const parts: string[] = [];
  for (let i = 0; i < Math.max(bids.length, asks.length); i++) {
    const b = bids[i];
    const a = asks[i];
    if (b) parts.push(b.price, b.size);
    if (a) parts.push(a.price, a.size);
  }
  return crc32Signed(parts.join(':'));
}

describe('BookSync with the captured Binance U/u stream and REST snapshots', () => {
  interface DepthFrame {
    stream: string;
    data: { e: string; E: number; s: string; U: number; u: number; b: string[][]; a: string[][] };
  }

  /** The model: a map per side, deltas at or below the snapshot id skipped; no ordering, no sequence logic. */
  function applyModel(
    m: { L: number; bids: Map<number, string>; asks: Map<number, string> },
    d: DepthFrame['data'],
  ): void {
    if (d.u <= m.L) return;
    for (const [side, levels] of [
      [m.bids, d.b],
      [m.asks, d.a],
    ] as const) {
      for (const [p, q] of levels) {
        if (Number(q) === 0) side.delete(Number(p));
        else side.set(Number(p), String(q));
      }
    }
  }

  it('syncs all four books with no resync, to the content of an independent replay', () => {
    const lines = readCapture('binance/cryptofeed_binance_spot_combined_stream_2021-10-11.jsonl')
      .filter((l) => l.t === 'recv' || (l.t === 'http' && l.url?.includes('/api/v3/depth') === true))
      .map((l, i) => ({ l, i }))
      .sort((x, y) => (x.l.ts ?? 0) - (y.l.ts ?? 0) || x.i - y.i)
      .map((x) => x.l);
    const r = recorder();
    const sync = new BookSync('binance', BINANCE_RULES, r.handlers);
    let deltas = 0;
    let snapshots = 0;
    const model = new Map<string, { L: number; bids: Map<number, string>; asks: Map<number, string> }>();
    const pending = new Map<string, DepthFrame['data'][]>();
    const lastU = new Map<string, number>();
    for (const line of lines) {
      if (line.t === 'http') {
        const symbol = /symbol=([A-Z]+)/.exec(line.url ?? '')?.[1] ?? '';
        const snap = JSON.parse(line.data ?? '') as {
          lastUpdateId: number;
          bids: string[][];
          asks: string[][];
        };
        assert.deepEqual(r.snapshots.at(-1)?.symbol, symbol, 'snapshot was requested before it was taken');
        const res = sync.apply({
          venue: 'binance',
          symbol,
          kind: 'snapshot',
          bids: levelsOf(snap.bids),
          asks: levelsOf(snap.asks),
          seq: snap.lastUpdateId,
          time: 0,
          receivedAt: 0,
        });
        assert.equal(res, 'applied');
        snapshots++;
        const m = {
          L: snap.lastUpdateId,
          bids: new Map(snap.bids.map(([p, q]) => [Number(p), String(q)])),
          asks: new Map(snap.asks.map(([p, q]) => [Number(p), String(q)])),
        };
        model.set(symbol, m);
        for (const d of pending.get(symbol) ?? []) applyModel(m, d);
        continue;
      }
      const frame = JSON.parse(line.data ?? '') as DepthFrame;
      if (frame.stream.endsWith('@depth@100ms')) {
        const d = frame.data;
        const m = model.get(d.s);
        if (m === undefined) pending.set(d.s, [...(pending.get(d.s) ?? []), d]);
        else applyModel(m, d);
        const prev = lastU.get(d.s);
        if (prev !== undefined) assert.equal(d.U, prev + 1, 'capture itself is gap-free');
        lastU.set(d.s, d.u);
        sync.apply({
          venue: 'binance',
          symbol: d.s,
          kind: 'delta',
          bids: levelsOf(d.b),
          asks: levelsOf(d.a),
          seq: d.u,
          prevSeq: d.U - 1,
          time: d.E,
          receivedAt: d.E,
        });
        deltas++;
      }
    }
    assert.equal(deltas, 177);
    assert.equal(snapshots, 4);
    assert.deepEqual(r.resyncs, []);
    assert.deepEqual(
      r.snapshots.map((s) => s.symbol).sort(),
      ['BLZETH', 'LRCBTC', 'NKNUSDT', 'RUNEEUR'],
      'one snapshot request per book',
    );
    assert.ok(r.snapshots.every((s) => s.depth === 1000));
    for (const st of sync.allStats()) {
      assert.equal(st.state, 'synced', st.symbol);
      assert.equal(st.seq, lastU.get(st.symbol));
      assert.equal(st.buffered, 0);
      assert.equal(st.crossed, 0);
      assert.equal(
        Object.values(st.resyncs).reduce((a, b) => a + b, 0),
        0,
      );
      const book = sync.book(st.symbol);
      assert.ok(book !== undefined && book.bestBidValue() < book.bestAskValue());
    }
    const total = sync.allStats().reduce((a, s) => a + s.updates + s.dropped, 0);
    assert.equal(total, 177, 'every delta was either applied or dropped as covered by the snapshot');
    for (const [symbol, m] of model) {
      const book = sync.book(symbol);
      const want = (side: Map<number, string>, desc: boolean): [string, string][] =>
        [...side].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).map(([p, q]) => [String(p), q]);
      const top = book?.top(5000);
      assert.deepEqual(
        top?.bids.map((l) => [String(Number(l.price)), l.size]),
        want(m.bids, true),
        symbol,
      );
      assert.deepEqual(
        top?.asks.map((l) => [String(Number(l.price)), l.size]),
        want(m.asks, false),
        symbol,
      );
    }
    assert.deepEqual(
      r.events.filter((e) => e.type === 'synced').map((e) => e.symbol),
      ['NKNUSDT', 'BLZETH', 'LRCBTC', 'RUNEEUR'],
    );
  });

  it('asks again when the snapshot is older than the first buffered delta', () => {
    const r = recorder();
    const sync = new BookSync('binance', BINANCE_RULES, r.handlers);
    assert.equal(sync.apply(upd('X', 'delta', [lv('1', '1')], [], { prevSeq: 100, seq: 105 })), 'buffered');
    assert.equal(r.snapshots.length, 1);
    assert.equal(sync.apply(upd('X', 'snapshot', [lv('1', '2')], [lv('2', '1')], { seq: 90 })), 'dropped');
    assert.equal(r.snapshots.length, 2);
    assert.equal(sync.book('X'), undefined);
    assert.equal(sync.apply(upd('X', 'snapshot', [lv('1', '2')], [lv('2', '1')], { seq: 102 })), 'applied');
    assert.deepEqual(sync.book('X')?.top(1).bids, [lv('1', '1')]);
    assert.equal(sync.stats('X')?.seq, 105);
  });

  it('drops deltas the snapshot covers, and resyncs only the gapped book', () => {
    const r = recorder();
    const sync = new BookSync('binance', BINANCE_RULES, r.handlers);
    sync.apply(upd('A', 'delta', [lv('10', '1')], [], { prevSeq: 9, seq: 10 }));
    sync.apply(upd('A', 'delta', [lv('10', '2')], [], { prevSeq: 10, seq: 12 }));
    sync.apply(upd('B', 'delta', [lv('5', '1')], [], { prevSeq: 0, seq: 1 }));
    sync.apply(upd('A', 'snapshot', [lv('10', '7')], [lv('11', '1')], { seq: 11 }));
    sync.apply(upd('B', 'snapshot', [lv('5', '1')], [lv('6', '1')], { seq: 1 }));
    assert.deepEqual(
      sync.book('A')?.top(1).bids,
      [lv('10', '2')],
      'straddling delta applied over the snapshot',
    );
    assert.equal(sync.stats('A')?.dropped, 1);
    assert.equal(sync.apply(upd('A', 'delta', [lv('10', '3')], [], { prevSeq: 12, seq: 13 })), 'applied');
    assert.equal(sync.apply(upd('A', 'delta', [lv('10', '3')], [], { prevSeq: 10, seq: 13 })), 'dropped');
    // U = 15 after u = 13: one update (14) missed.
    assert.equal(sync.apply(upd('A', 'delta', [lv('10', '4')], [], { prevSeq: 14, seq: 16 })), 'resync');
    assert.deepEqual(r.resyncs, [{ symbol: 'A', reason: 'gap' }]);
    assert.equal(sync.stats('A')?.resyncs.gap, 1);
    assert.equal(sync.book('A'), undefined);
    assert.equal(sync.apply(upd('B', 'delta', [lv('5', '2')], [], { prevSeq: 1, seq: 2 })), 'applied');
    assert.equal(sync.stats('B')?.state, 'synced');
    const ev = r.events.find((e) => e.type === 'resync');
    assert.ok(ev?.type === 'resync' && ev.symbol === 'A' && ev.detail.includes('prevSeq 14'));
    // Deltas after the gap wait for the fresh snapshot, which the adapter fetches on resync.
    assert.equal(sync.apply(upd('A', 'delta', [lv('10', '5')], [], { prevSeq: 16, seq: 17 })), 'buffered');
    assert.equal(sync.apply(upd('A', 'snapshot', [lv('10', '4')], [lv('11', '1')], { seq: 16 })), 'applied');
    assert.deepEqual(sync.book('A')?.top(1).bids, [lv('10', '5')]);
  });

  it('resyncs when the first delta after the snapshot does not reach it, and bounds the buffer', () => {
    const r = recorder();
    const sync = new BookSync('binance', BINANCE_RULES, r.handlers, { maxBufferedDeltas: 3 });
    sync.apply(upd('A', 'snapshot', [lv('1', '1')], [lv('2', '1')], { seq: 50 }));
    assert.equal(sync.apply(upd('A', 'delta', [], [], { prevSeq: 52, seq: 55 })), 'resync');
    for (let i = 0; i < 3; i++)
      assert.equal(sync.apply(upd('A', 'delta', [], [], { prevSeq: i, seq: i + 1 })), 'buffered');
    assert.equal(sync.apply(upd('A', 'delta', [], [], { prevSeq: 3, seq: 4 })), 'resync');
    assert.deepEqual(
      r.resyncs.map((x) => x.reason),
      ['gap', 'buffer-overflow'],
    );
    assert.equal(sync.stats('A')?.buffered, 0);
  });

  it('asks again for a snapshot that never came', () => {
    const clock = new ManualClock(1_000);
    const r = recorder();
    const sync = new BookSync('binance', BINANCE_RULES, r.handlers, { snapshotTimeoutMs: 500, clock });
    sync.apply(upd('A', 'delta', [], [], { prevSeq: 1, seq: 2 }));
    assert.equal(sync.poll(), 0);
    clock.advance(499);
    sync.apply(upd('A', 'delta', [], [], { prevSeq: 2, seq: 3 }));
    assert.equal(r.resyncs.length, 0);
    clock.advance(1);
    assert.equal(sync.poll(), 1);
    assert.deepEqual(r.resyncs, [{ symbol: 'A', reason: 'snapshot-timeout' }]);
    assert.equal(sync.poll(), 0, 'the timer restarts after asking again');
    assert.equal(sync.stats('A')?.resyncs['snapshot-timeout'], 1);
  });
});

describe('BookSync with a stream snapshot source', () => {
  it('drops deltas before the first snapshot and asks for a resync when it does not come', () => {
    const clock = new ManualClock(0);
    const r = recorder();
    const sync = new BookSync('okx', OKX_RULES, r.handlers, { snapshotTimeoutMs: 1000, clock });
    assert.equal(sync.apply(upd('A', 'delta', [], [], { prevSeq: 1, seq: 2 })), 'dropped');
    clock.advanceTo(999);
    assert.equal(sync.apply(upd('A', 'delta', [], [], { prevSeq: 2, seq: 3 })), 'dropped');
    assert.deepEqual(r.resyncs, []);
    clock.advanceTo(1000);
    assert.equal(sync.apply(upd('A', 'delta', [], [], { prevSeq: 3, seq: 4 })), 'dropped');
    assert.deepEqual(r.resyncs, [{ symbol: 'A', reason: 'snapshot-timeout' }]);
    assert.equal(sync.stats('A')?.dropped, 3);
    assert.equal(sync.stats('A')?.state, 'awaiting-snapshot');
  });

  it('reports a resync from a buffered delta replayed after a REST snapshot', () => {
    const r = recorder();
    const sync = new BookSync('binance', BINANCE_RULES, r.handlers);
    sync.apply(upd('A', 'delta', [], [], { prevSeq: 10, seq: 11 }));
    sync.apply(upd('A', 'delta', [], [], { prevSeq: 12, seq: 13 }));
    assert.equal(sync.apply(upd('A', 'snapshot', [lv('1', '1')], [lv('2', '1')], { seq: 10 })), 'resync');
    assert.deepEqual(r.resyncs, [{ symbol: 'A', reason: 'gap' }]);
    assert.equal(sync.stats('A')?.buffered, 0);
  });
});

describe('BookSync with prev-seq and checksum rules (OKX)', () => {
  const bids = [lv('100.1', '2'), lv('100', '1')];
  const asks = [lv('100.5', '3')];

  function synced(): { sync: BookSync; r: ReturnType<typeof recorder> } {
    const r = recorder();
    const sync = new BookSync('okx', OKX_RULES, r.handlers);
    assert.equal(
      sync.apply(
        upd('BTC/USDT', 'snapshot', bids, asks, { seq: 10, prevSeq: -1, checksum: crcOf(bids, asks) }),
      ),
      'applied',
    );
    assert.equal(
      sync.apply(
        upd('ETH/USDT', 'snapshot', bids, asks, { seq: 7, prevSeq: -1, checksum: crcOf(bids, asks) }),
      ),
      'applied',
    );
    return { sync, r };
  }

  it('applies chained deltas with non-consecutive ids and accepts keep-alives and sequence resets', () => {
    const { sync, r } = synced();
    const b2 = [lv('100.1', '2'), lv('100.05', '4'), lv('100', '1')];
    assert.equal(
      sync.apply(
        upd('BTC/USDT', 'delta', [lv('100.05', '4')], [], {
          prevSeq: 10,
          seq: 12,
          checksum: crcOf(b2, asks),
        }),
      ),
      'applied',
    );
    assert.equal(
      sync.apply(upd('BTC/USDT', 'delta', [], [], { prevSeq: 12, seq: 12, checksum: crcOf(b2, asks) })),
      'applied',
    );
    assert.equal(
      sync.apply(upd('BTC/USDT', 'delta', [], [], { prevSeq: 12, seq: 3, checksum: crcOf(b2, asks) })),
      'applied',
    );
    assert.equal(
      sync.apply(
        upd('BTC/USDT', 'delta', [lv('100.05', '0')], [], {
          prevSeq: 3,
          seq: 4,
          checksum: crcOf(bids, asks),
        }),
      ),
      'applied',
    );
    assert.deepEqual(r.resyncs, []);
    assert.equal(sync.stats('BTC/USDT')?.seq, 4);
    assert.equal(sync.stats('BTC/USDT')?.updates, 4);
  });

  it('resyncs only the book whose prevSeq does not chain, and drops its deltas until the new snapshot', () => {
    const { sync, r } = synced();
    assert.equal(sync.apply(upd('BTC/USDT', 'delta', [], [], { prevSeq: 11, seq: 13 })), 'resync');
    assert.deepEqual(r.resyncs, [{ symbol: 'BTC/USDT', reason: 'gap' }]);
    assert.equal(sync.apply(upd('BTC/USDT', 'delta', [], [], { prevSeq: 13, seq: 14 })), 'dropped');
    assert.equal(r.resyncs.length, 1, 'one resync per failure, not per later delta');
    assert.equal(
      sync.apply(upd('ETH/USDT', 'delta', [], [], { prevSeq: 7, seq: 8, checksum: crcOf(bids, asks) })),
      'applied',
    );
    assert.equal(
      sync.apply(
        upd('BTC/USDT', 'snapshot', bids, asks, { seq: 20, prevSeq: -1, checksum: crcOf(bids, asks) }),
      ),
      'applied',
    );
    assert.equal(sync.stats('BTC/USDT')?.state, 'synced');
    assert.equal(sync.stats('BTC/USDT')?.resyncs.gap, 1);
    assert.equal(sync.stats('ETH/USDT')?.resyncs.gap, 0);
  });

  it('resyncs on a checksum mismatch and on a snapshot with a wrong checksum', () => {
    const { sync, r } = synced();
    assert.equal(
      sync.apply(
        upd('BTC/USDT', 'delta', [lv('100', '2')], [], { prevSeq: 10, seq: 11, checksum: crcOf(bids, asks) }),
      ),
      'resync',
    );
    assert.equal(sync.apply(upd('BTC/USDT', 'snapshot', bids, asks, { seq: 20, checksum: 12345 })), 'resync');
    assert.deepEqual(
      r.resyncs.map((x) => x.reason),
      ['checksum', 'checksum'],
    );
    const ev = r.events.filter((e) => e.type === 'resync')[0];
    assert.ok(ev?.type === 'resync' && ev.detail.startsWith(`venue checksum ${crcOf(bids, asks)}`));
  });

  it('treats a backwards sequence or a delta without sequence fields as invalid', () => {
    const { sync, r } = synced();
    assert.equal(
      new BookSync('okx', { ...OKX_RULES, sequenceExceptions: {} }, r.handlers).apply(
        upd('A', 'snapshot', bids, asks, { seq: 5, checksum: crcOf(bids, asks) }),
      ),
      'applied',
    );
    assert.equal(sync.apply(upd('BTC/USDT', 'delta', [], [])), 'resync');
    assert.equal(sync.apply(upd('ETH/USDT', 'delta', [lv('x', '1')], [], { prevSeq: 7, seq: 8 })), 'resync');
    assert.deepEqual(
      r.resyncs.map((x) => x.reason),
      ['invalid', 'invalid'],
    );
    const strict = new BookSync('okx', { ...OKX_RULES, sequenceExceptions: {} }, r.handlers);
    strict.apply(upd('A', 'snapshot', bids, asks, { seq: 5, checksum: crcOf(bids, asks) }));
    assert.equal(
      strict.apply(upd('A', 'delta', [], [], { prevSeq: 5, seq: 5, checksum: crcOf(bids, asks) })),
      'resync',
    );
  });

  it('keeps the captured OKX books (290 messages) without a resync, and catches one corrupted size', () => {
    const pushes = booksPushes(readCapture('okx/cryptofeed_okx_v5_public_ws_2022-05-13.jsonl'));
    const run = (corruptAt: number): { r: ReturnType<typeof recorder>; applied: number } => {
      const r = recorder();
      // The 2022 capture predates seqId, so the checksum alone guards it.
      const sync = new BookSync(
        'okx',
        { ...OKX_RULES, sequenceExceptions: { allowMissing: true } },
        r.handlers,
      );
      let applied = 0;
      let n = 0;
      for (const p of pushes) {
        for (const d of p.data ?? []) {
          let b = levelsOf(d.bids);
          if (n++ === corruptAt && b.length > 0)
            b = [{ price: b[0]?.price ?? '', size: `${b[0]?.size ?? ''}0.1` }];
          const res = sync.apply({
            venue: 'okx',
            symbol: p.arg?.instId ?? '',
            kind: p.action === 'snapshot' ? 'snapshot' : 'delta',
            bids: b,
            asks: levelsOf(d.asks),
            checksum: d.checksum,
            time: Number(d.ts),
            receivedAt: Number(d.ts),
          });
          if (res === 'applied') applied++;
        }
      }
      return { r, applied };
    };
    const clean = run(-1);
    assert.equal(clean.applied, 290);
    assert.deepEqual(clean.r.resyncs, []);
    const bad = run(50);
    assert.equal(bad.r.resyncs.length, 1);
    assert.equal(bad.r.resyncs[0]?.reason, 'checksum');
  });
});

describe('BookSync with Bitget rules', () => {
  it('does not check snapshot checksums (v2 sends 0) but checks every update; seq/pseq chain when present', () => {
    const r = recorder();
    const sync = new BookSync('bitget', BITGET_RULES, r.handlers);
    const bids = [lv('1.00', '5')];
    const asks = [lv('1.01', '6')];
    assert.equal(
      sync.apply(upd('A', 'snapshot', bids, asks, { seq: 100, prevSeq: 0, checksum: 0 })),
      'applied',
    );
    const b2 = [lv('1.00', '7')];
    assert.equal(
      sync.apply(upd('A', 'delta', b2, [], { seq: 101, prevSeq: 100, checksum: crcOf(b2, asks) })),
      'applied',
    );
    assert.equal(sync.apply(upd('A', 'delta', [], [], { checksum: crcOf(b2, asks) })), 'applied');
    assert.equal(
      sync.apply(upd('A', 'delta', [], [], { seq: 104, prevSeq: 102, checksum: crcOf(b2, asks) })),
      'resync',
    );
    assert.deepEqual(r.resyncs, [{ symbol: 'A', reason: 'gap' }]);
  });

  it('keeps the captured Bitget books (637 messages) without a resync', () => {
    const r = recorder();
    const sync = new BookSync('bitget', { ...BITGET_RULES, checksumSnapshots: true }, r.handlers);
    let applied = 0;
    for (const p of booksPushes(readCapture('bitget/cryptofeed_bitget_v1_LEGACY_ws_2022-04-06.jsonl'))) {
      for (const d of p.data ?? []) {
        const res = sync.apply({
          venue: 'bitget',
          symbol: `${p.arg?.instType}:${p.arg?.instId}`,
          kind: p.action === 'snapshot' ? 'snapshot' : 'delta',
          bids: levelsOf(d.bids),
          asks: levelsOf(d.asks),
          checksum: d.checksum,
          time: Number(d.ts),
          receivedAt: Number(d.ts),
        });
        if (res === 'applied') applied++;
      }
    }
    assert.equal(applied, 637);
    assert.deepEqual(r.resyncs, []);
    assert.equal(sync.allStats().length, 10);
  });
});

describe('BookSync with dYdX rules (no sequence, uncross, adapter gaps)', () => {
  it('uncrosses by removing the stale side and counts it', () => {
    const r = recorder();
    const sync = new BookSync('dydx', DYDX_RULES, r.handlers);
    sync.apply(upd('BTC/USD', 'snapshot', [lv('100', '1'), lv('99', '1')], [lv('101', '1'), lv('102', '1')]));
    assert.equal(sync.apply(upd('BTC/USD', 'delta', [lv('101.5', '2')], [])), 'applied');
    assert.deepEqual(sync.book('BTC/USD')?.top(1), { bids: [lv('101.5', '2')], asks: [lv('102', '1')] });
    assert.equal(sync.stats('BTC/USD')?.crossed, 1);
    assert.equal(sync.stats('BTC/USD')?.uncrossedLevels, 1);
    assert.deepEqual(r.resyncs, []);
  });

  it('leaves a crossed book alone where the venue does not uncross, but counts it', () => {
    const r = recorder();
    const sync = new BookSync('binance', { ...DYDX_RULES, uncross: false }, r.handlers);
    sync.apply(upd('X', 'snapshot', [lv('100', '1')], [lv('101', '1')]));
    sync.apply(upd('X', 'delta', [lv('101.5', '2')], []));
    assert.equal(sync.book('X')?.isCrossed(), true);
    assert.equal(sync.stats('X')?.crossed, 1);
  });

  it('resyncs one book or every synced book on an adapter-reported message_id gap', () => {
    const r = recorder();
    const sync = new BookSync('dydx', DYDX_RULES, r.handlers);
    for (const s of ['BTC/USD', 'ETH/USD', 'SOL/USD'])
      sync.apply(upd(s, 'snapshot', [lv('1', '1')], [lv('2', '1')]));
    sync.gap('ETH/USD', 'message_id 10 after 8');
    assert.deepEqual(r.resyncs, [{ symbol: 'ETH/USD', reason: 'adapter-gap' }]);
    sync.gap(undefined, 'message_id 20 after 17');
    assert.deepEqual(
      r.resyncs.map((x) => x.symbol),
      ['ETH/USD', 'BTC/USD', 'SOL/USD'],
      'a book already resyncing is not asked twice',
    );
    assert.equal(sync.stats('BTC/USD')?.resyncs['adapter-gap'], 1);
    sync.gap('UNKNOWN/USD', 'x');
    assert.equal(r.resyncs.length, 3);
  });

  it('drops an unsubscribed book but keeps its counters, and builds it again from the next subscription', () => {
    const r = recorder();
    const sync = new BookSync('dydx', DYDX_RULES, r.handlers);
    sync.apply(upd('BTC/USD', 'snapshot', [lv('1', '1')], [lv('2', '1')]));
    sync.gap('BTC/USD', 'message_id 10 after 8');
    sync.apply(upd('BTC/USD', 'snapshot', [lv('1', '1')], [lv('2', '1')]));
    sync.unsubscribed('BTC/USD');
    assert.equal(sync.book('BTC/USD'), undefined, 'no book is served once unsubscribed');
    assert.equal(sync.stats('BTC/USD')?.state, 'unsubscribed');
    assert.equal(sync.stats('BTC/USD')?.resyncs['adapter-gap'], 1, 'counters are counted on');
    assert.equal(sync.stats('BTC/USD')?.snapshots, 2);
    sync.gap(undefined, 'message_id 20 after 17');
    assert.equal(r.resyncs.length, 1, 'an unsubscribed book is not resynced');
    assert.equal(sync.poll(), 0, 'nor is a snapshot awaited');
    assert.equal(
      sync.apply(upd('BTC/USD', 'delta', [lv('1', '2')], [])),
      'dropped',
      'a late delta is dropped',
    );
    assert.equal(sync.apply(upd('BTC/USD', 'snapshot', [lv('3', '1')], [lv('4', '1')])), 'applied');
    assert.equal(sync.stats('BTC/USD')?.state, 'synced');
    assert.equal(sync.book('BTC/USD')?.priceAt('bid', 0), '3');
    sync.unsubscribed('UNKNOWN/USD');
    assert.deepEqual(sync.symbols(), ['BTC/USD']);
  });
});
