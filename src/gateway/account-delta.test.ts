import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyMergePatch, listDelta, mergePatch, type JsonObject, type JsonValue } from './account-delta.ts';

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random object without null (the channels' states never hold null), nested up to `depth`. */
function randomObject(rnd: () => number, depth: number): JsonObject {
  const out: JsonObject = {};
  for (const key of ['a', 'b', 'c', 'd', 'e']) {
    const r = rnd();
    if (r < 0.25) continue;
    if (r < 0.5) out[key] = (rnd() * 100).toFixed(2);
    else if (r < 0.65) out[key] = Math.floor(rnd() * 5);
    else if (r < 0.75) out[key] = rnd() < 0.5;
    else if (r < 0.85) out[key] = [Math.floor(rnd() * 3)];
    else out[key] = depth > 0 ? randomObject(rnd, depth - 1) : 'leaf';
  }
  return out;
}

test('a merge patch applied (RFC 7386) turns before into after, over thousands of random pairs', () => {
  const rnd = random(7);
  let state: JsonValue = {};
  for (let i = 0; i < 5000; i++) {
    const next = randomObject(rnd, 2);
    const patch = mergePatch(state as JsonObject, next);
    if (patch === undefined) assert.deepEqual(state, next);
    else state = applyMergePatch(state, patch);
    assert.deepEqual(state, next);
  }
});

test('only what changed: equal states give no patch; a removed field is null; nested objects are patched', () => {
  assert.equal(mergePatch({ a: '1', b: { c: 2 } }, { a: '1', b: { c: 2 } }), undefined);
  assert.deepEqual(mergePatch({ a: '1', b: { c: 2, d: 3 }, e: 'x' }, { a: '2', b: { c: 2, d: 4 } }), {
    a: '2',
    b: { d: 4 },
    e: null,
  });
});

test('keyed lists: upserts of new or changed items, removals of gone keys', () => {
  const m = (...items: { key: string; v: number }[]) => new Map(items.map((i) => [i.key, i]));
  assert.equal(listDelta(m({ key: 'x', v: 1 }), m({ key: 'x', v: 1 })), undefined);
  assert.deepEqual(
    listDelta(m({ key: 'x', v: 1 }, { key: 'y', v: 1 }), m({ key: 'x', v: 2 }, { key: 'z', v: 1 })),
    {
      upsert: [
        { key: 'x', v: 2 },
        { key: 'z', v: 1 },
      ],
      remove: ['y'],
    },
  );
});
