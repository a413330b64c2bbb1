import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashSeed, hashSeedIntegers, Rng } from './random.ts';

describe('Rng', () => {
  it('repeats its sequence for the same seed and differs for another seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextU32());
    const sb = Array.from({ length: 100 }, () => b.nextU32());
    const sc = Array.from({ length: 100 }, () => c.nextU32());
    assert.deepEqual(sa, sb);
    assert.notDeepEqual(sa, sc);
  });

  it('draws uniforms in [0, 1) and distributions with the requested means', () => {
    const rng = new Rng(7);
    const n = 50_000;
    let u = 0;
    let e = 0;
    let p = 0;
    let z = 0;
    let z2 = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      assert.ok(x >= 0 && x < 1);
      u += x;
      e += rng.exponential(3);
      p += rng.poisson(2.5);
      const g = rng.normal();
      z += g;
      z2 += g * g;
    }
    assert.ok(Math.abs(u / n - 0.5) < 0.01, `uniform mean ${u / n}`);
    assert.ok(Math.abs(e / n - 3) < 0.06, `exponential mean ${e / n}`);
    assert.ok(Math.abs(p / n - 2.5) < 0.05, `poisson mean ${p / n}`);
    assert.ok(Math.abs(z / n) < 0.02, `normal mean ${z / n}`);
    assert.ok(Math.abs(z2 / n - 1) < 0.03, `normal variance ${z2 / n}`);
  });

  it('derives distinct seeds from distinct parts', () => {
    assert.equal(hashSeed(1, 'binance', 'BTC/USDT'), hashSeed(1, 'binance', 'BTC/USDT'));
    assert.notEqual(hashSeed(1, 'binance', 'BTC/USDT'), hashSeed(1, 'binance', 'ETH/USDT'));
    assert.notEqual(hashSeed(1, 'binance', 'BTC/USDT'), hashSeed(2, 'binance', 'BTC/USDT'));
  });
});

describe('hashSeedIntegers', () => {
  it('equals hashSeed of the same three integers, large, negative and zero included', () => {
    const rng = new Rng(11);
    const edges = [0, -0, 1, -1, 9, 10, 99, 100, 2 ** 31, -(2 ** 31), 2 ** 31 + 1, 2 ** 53 - 1, 1.5];
    const values = [
      ...edges,
      ...Array.from({ length: 2000 }, () => Math.floor((rng.next() - 0.5) * 2 ** 33)),
    ];
    for (let i = 0; i < values.length; i++) {
      const a = values[i] as number;
      const b = values[(i * 7 + 3) % values.length] as number;
      const c = values[(i * 13 + 5) % values.length] as number;
      assert.equal(hashSeedIntegers(a, b, c), hashSeed(a, b, c), `${a}, ${b}, ${c}`);
    }
  });
});
