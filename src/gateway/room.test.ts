import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeBar, makeUpdate } from '../../test/gateway/helpers.ts';
import { Room, type RoomMessage } from './room.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 9, 24, 10, 0);

function summary(messages: RoomMessage[]): string[] {
  return messages.map((m) => {
    const json = JSON.parse(m.payload.toString('utf8')) as {
      type: string;
      bar: { close: number; closed: boolean };
    };
    assert.equal(json.type, m.kind);
    return `${m.kind}@${(m.bar.time - T0) / M}:${json.bar.close}${json.bar.closed ? 'c' : ''}`;
  });
}

describe('Room', () => {
  it('conflates updates of the live bar into one per tick, newest state', () => {
    const room = new Room('BTC/USDT', '1m');
    for (const c of ['1', '2', '3']) room.push(makeUpdate(makeBar(T0, c)));
    assert.deepEqual(summary(room.tick(1)), ['update@0:3']);
    assert.equal(room.hasPending, false);
    assert.deepEqual(room.tick(2), []);
    assert.equal(room.lastBroadcast, 1);
  });

  it('holds states apart up to the count allowed, merging the rest into the newest (a stall bunched them)', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '1')));
    // Both arrive before the tick that was due in this turn could run: the first stays as it was.
    room.push(makeUpdate(makeBar(T0, '2')), 2);
    room.push(makeUpdate(makeBar(T0, '3')), 2);
    assert.equal(room.merged, 1, '2 replaced by 3 before it was sent');
    assert.deepEqual(summary(room.tick(1)), ['update@0:1']);
    assert.equal(room.hasPending, true);
    assert.deepEqual(summary(room.tick(2)), ['update@0:3']);
    assert.equal(room.hasPending, false);
  });

  it('with three allowed apart, three states of a bar leave one per tick', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '1')));
    room.push(makeUpdate(makeBar(T0, '2')), 3);
    room.push(makeUpdate(makeBar(T0, '3')), 3);
    assert.equal(room.merged, 0);
    assert.deepEqual(summary(room.tick(1)), ['update@0:1']);
    assert.deepEqual(summary(room.tick(2)), ['update@0:2']);
    assert.deepEqual(summary(room.tick(3)), ['update@0:3']);
  });

  it('a state of a later turn queues behind a state held apart, and merges into one that was not', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '1')));
    room.push(makeUpdate(makeBar(T0, '2')), 2);
    // A later turn, the room not due: 2 was held apart, so 3 does not replace it; 4 then merges into 3.
    room.push(makeUpdate(makeBar(T0, '3')));
    room.push(makeUpdate(makeBar(T0, '4')));
    assert.equal(room.merged, 1);
    assert.deepEqual(summary(room.tick(1)), ['update@0:1']);
    assert.deepEqual(summary(room.tick(2)), ['update@0:2']);
    assert.deepEqual(summary(room.tick(3)), ['update@0:4']);
    assert.equal(room.hasPending, false);
  });

  it('a state queued behind a pending update keeps the bar closed', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '2'), 'closed'));
    room.push(makeUpdate(makeBar(T0, '1')), 2);
    assert.deepEqual(summary(room.tick(1)), ['update@0:2c']);
    assert.deepEqual(summary(room.tick(2)), ['update@0:1c']);
  });

  it("sends a closed bar's final state one tick before the next bar's first update", () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '1')));
    room.push(makeUpdate(makeBar(T0, '2'), 'closed'));
    room.push(makeUpdate(makeBar(T0 + M, '3')));
    room.push(makeUpdate(makeBar(T0 + M, '4')));
    assert.deepEqual(summary(room.tick(1)), ['update@0:2c']);
    room.push(makeUpdate(makeBar(T0 + M, '5')));
    assert.deepEqual(summary(room.tick(2)), ['update@1:5']);
    assert.deepEqual(room.tick(3), []);
  });

  it('keeps a bar closed when a stale live state arrives after its close', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '2'), 'closed'));
    room.push(makeUpdate(makeBar(T0, '1')));
    assert.deepEqual(summary(room.tick(1)), ['update@0:1c']);
  });

  it('sends the close of the bar already sent live as an update, not a revision', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '1')));
    room.tick(1);
    room.push(makeUpdate(makeBar(T0, '2'), 'closed'));
    assert.deepEqual(summary(room.tick(2)), ['update@0:2c']);
  });

  it('sends corrections of past bars as revisions at the next tick, in order, one per bar', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0 + 5 * M, '9')));
    room.tick(1);
    room.push(makeUpdate(makeBar(T0 + 2 * M, '7'), 'revised'));
    room.push(makeUpdate(makeBar(T0 + M, '6'), 'revised'));
    room.push(makeUpdate(makeBar(T0 + 2 * M, '8'), 'revised'));
    // A late `closed` of an older bar must not travel as an update either.
    room.push(makeUpdate(makeBar(T0 + 3 * M, '5'), 'closed'));
    room.push(makeUpdate(makeBar(T0 + 5 * M, '10')));
    assert.deepEqual(summary(room.tick(2)), [
      'revision@2:8c',
      'revision@1:6c',
      'revision@3:5c',
      'update@5:10',
    ]);
    assert.equal(room.isKnownClosed(T0 + 3 * M), true);
    assert.equal(room.isKnownClosed(T0 + 4 * M), false);
  });

  it('folds a revision of a bar still queued as an update into that update', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '1'), 'closed'));
    room.push(makeUpdate(makeBar(T0 + M, '2')));
    room.push(makeUpdate(makeBar(T0, '1.5'), 'revised'));
    assert.deepEqual(summary(room.tick(1)), ['update@0:1.5c']);
    assert.deepEqual(summary(room.tick(2)), ['update@1:2']);
  });

  it('serializes a tick once: every member gets the same Buffer', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '0.00002894')));
    const [m] = room.tick(1);
    assert.ok(m && Buffer.isBuffer(m.payload));
    assert.ok(m.payload.toString().includes('"close":0.00002894'));
  });

  it('never sends a bar in the state it last sent it, and sends the next pending bar instead', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0, '1')));
    assert.deepEqual(summary(room.tick(1)), ['update@0:1']);
    // The same live state again (an unchanged bar republished): nothing to send.
    room.push(makeUpdate(makeBar(T0, '1')));
    assert.deepEqual(room.tick(2), []);
    // Its close with the same values is news (the closed flag), the same close again is not.
    room.push(makeUpdate(makeBar(T0, '1'), 'closed'));
    assert.deepEqual(summary(room.tick(3)), ['update@0:1c']);
    room.push(makeUpdate(makeBar(T0, '1'), 'closed'));
    room.push(makeUpdate(makeBar(T0 + M, '2')));
    assert.deepEqual(summary(room.tick(4)), ['update@1:2']);
    // A revision equal to the final state already sent, and one from other sources (a failover), which is news.
    room.push(makeUpdate(makeBar(T0, '1'), 'revised'));
    assert.deepEqual(room.tick(5).length, 0);
    room.push({ ...makeUpdate(makeBar(T0, '1'), 'revised'), sources: ['okx'] });
    assert.deepEqual(summary(room.tick(6)), ['revision@0:1c']);
    assert.equal(room.unchangedSkipped, 3);
  });

  it('gives each message a conflation key per room, kind and bar time', () => {
    const room = new Room('BTC/USDT', '1m');
    room.push(makeUpdate(makeBar(T0 + M, '1')));
    room.push(makeUpdate(makeBar(T0, '2'), 'revised'));
    assert.deepEqual(
      room.tick(1).map((m) => m.conflateKey),
      [`BTC/USDT:1m|revision|${T0}`, `BTC/USDT:1m|update|${T0 + M}`],
    );
  });
});
