import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeBar, makeUpdate } from '../../test/gateway/helpers.ts';
import type { Candle } from '../domain/candle.ts';
import { Room } from './room.ts';
import { Subscription } from './subscription.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 9, 24, 10, 0);

function setup() {
  const sent: string[] = [];
  const room = new Room<Subscription>('BTC/USDT', '1m');
  const sub = new Subscription({ send: (p) => sent.push(p.toString()) }, room);
  room.members.add(sub);
  const deliver = (): void => {
    for (const m of room.tick(0)) sub.offer(m);
  };
  const labels = (): string[] =>
    sent.map((text) => {
      const m = JSON.parse(text) as { type: string; bar?: { close: number }; bars?: unknown[] };
      return m.type === 'initial' ? `initial(${m.bars?.length})` : `${m.type}:${m.bar?.close}`;
    });
  return { sent, room, sub, deliver, labels };
}

// The same venue as makeUpdate's, so that fewer trades means an older state of the same bar.
const view = (bar: Candle, closed = false) => ({
  bar,
  closed,
  sources: ['binance' as const],
  backfilled: false,
});

describe('Subscription', () => {
  it('holds room messages while initial loads and sends them after it', () => {
    const { room, sub, deliver, labels } = setup();
    sub.beginLoading();
    room.push(makeUpdate(makeBar(T0, '1', 1)));
    deliver();
    assert.deepEqual(labels(), []);
    sub.complete('{"type":"initial","bars":[]}', []);
    assert.deepEqual(labels(), ['initial(0)', 'update:1']);
  });

  it('drops held updates that initial already covers, keeps newer ones', () => {
    const { room, sub, deliver, labels } = setup();
    sub.beginLoading();
    room.push(makeUpdate(makeBar(T0, '1', 5), 'closed'));
    room.push(makeUpdate(makeBar(T0 + M, '2', 1)));
    deliver(); // closed bar 0 — older than initial's newest: covered
    deliver(); // bar 1 with 1 trade — older state than initial's bar 1 (2 trades): covered
    const initial = [view(makeBar(T0, '1', 5), true), view(makeBar(T0 + M, '2.5', 2))];
    sub.complete('{"type":"initial","bars":[{},{}]}', initial);
    assert.deepEqual(labels(), ['initial(2)']);
    room.push(makeUpdate(makeBar(T0 + M, '2.5', 2))); // equal to initial's newest: duplicate
    deliver();
    assert.deepEqual(labels(), ['initial(2)']);
    room.push(makeUpdate(makeBar(T0 + M, '3', 3)));
    deliver();
    room.push(makeUpdate(makeBar(T0 + M, '3.5', 4)));
    deliver();
    assert.deepEqual(labels(), ['initial(2)', 'update:3', 'update:3.5']);
  });

  it('drops a live update equal to a newest bar initial called closed by the clock, passes a newer state', () => {
    const { room, sub, deliver, labels } = setup();
    sub.beginLoading();
    sub.complete('{"type":"initial","bars":[{}]}', [view(makeBar(T0, '2', 3), true)]);
    room.push(makeUpdate(makeBar(T0, '2', 3), 'live'));
    deliver();
    room.push(makeUpdate(makeBar(T0, '2', 3), 'closed'));
    deliver();
    assert.deepEqual(labels(), ['initial(1)'], 'neither reopens nor repeats the bar');
    room.push(makeUpdate(makeBar(T0, '2.5', 4), 'closed'));
    deliver();
    assert.deepEqual(labels(), ['initial(1)', 'update:2.5']);
  });

  it('passes the close of a newest bar initial showed open, even with the same values', () => {
    const { room, sub, deliver, labels } = setup();
    sub.beginLoading();
    sub.complete('{"type":"initial","bars":[{}]}', [view(makeBar(T0, '2', 3), false)]);
    room.push(makeUpdate(makeBar(T0, '2', 3), 'closed'));
    deliver();
    assert.deepEqual(labels(), ['initial(1)', 'update:2']);
  });

  it('drops a revision equal to the bar initial holds and passes a different one', () => {
    const { room, sub, deliver, labels } = setup();
    room.push(makeUpdate(makeBar(T0 + 2 * M, '9', 1)));
    deliver();
    sub.beginLoading();
    room.push(makeUpdate(makeBar(T0, '1', 5), 'revised'));
    deliver();
    sub.complete('{"type":"initial","bars":[{},{}]}', [
      view(makeBar(T0, '1', 5), true),
      view(makeBar(T0 + 2 * M, '9', 1)),
    ]);
    room.push(makeUpdate(makeBar(T0, '1.1', 6), 'revised'));
    deliver();
    assert.deepEqual(labels(), ['update:9', 'initial(2)', 'revision:1.1']);
  });

  it('sends nothing after end()', () => {
    const { room, sub, deliver, labels } = setup();
    sub.beginLoading();
    const generation = sub.beginLoading();
    assert.equal(sub.isCurrent(generation - 1), false);
    assert.equal(sub.isCurrent(generation), true);
    sub.end();
    assert.equal(sub.isCurrent(generation), false);
    room.push(makeUpdate(makeBar(T0, '1')));
    deliver();
    assert.deepEqual(labels(), []);
  });
});

describe('Subscription across a failover', () => {
  it('passes a bar from another venue even with fewer trades than the one initial holds', () => {
    const { room, sub, deliver, labels } = setup();
    sub.beginLoading();
    sub.complete('{"type":"initial","bars":[{}]}', [view(makeBar(T0, '2.5', 9))]);
    room.push({ ...makeUpdate(makeBar(T0, '2.4', 3)), sources: ['okx'] });
    deliver();
    assert.deepEqual(labels(), ['initial(1)', 'update:2.4']);
  });
});
