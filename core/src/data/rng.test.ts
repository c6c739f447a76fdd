import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveSeed, Rng } from './rng.ts';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const v = draw();
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / n;
  return { mean, variance: sumSq / n - mean * mean };
}

describe('Rng', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const seq = (seed: number) => {
      const r = new Rng(seed);
      return Array.from({ length: 50 }, () => r.nextUint32());
    };
    assert.deepEqual(seq(42), seq(42));
    assert.notDeepEqual(seq(42), seq(43));
    assert.notDeepEqual(seq(1), seq(1 + 2 ** 32), 'bits above 2^32 matter');
    assert.notDeepEqual(seq(-1), seq(1));
    for (const v of seq(7)) assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
  });

  it('rejects seeds that are not safe integers', () => {
    for (const bad of [1.5, Number.NaN, 2 ** 60]) {
      assert.throws(() => new Rng(bad), { code: 'DATA_INVALID_OPTION' });
    }
  });

  it('uniform is in [0, 1) with mean 1/2 and variance 1/12', () => {
    const r = new Rng(1);
    let min = 1;
    let max = 0;
    const { mean, variance } = moments(() => {
      const u = r.uniform();
      min = Math.min(min, u);
      max = Math.max(max, u);
      return u;
    }, 200_000);
    assert.ok(min >= 0 && max < 1);
    assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
  });

  it('int(n) covers [0, n) evenly', () => {
    const r = new Rng(2);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[r.int(7)]++;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `counts ${counts}`);
    assert.throws(() => r.int(0), { code: 'DATA_INVALID_OPTION' });
  });

  it('normal has the requested mean and standard deviation', () => {
    const r = new Rng(3);
    const std = moments(() => r.normal(), 200_000);
    assert.ok(Math.abs(std.mean) < 0.01, `mean ${std.mean}`);
    assert.ok(Math.abs(std.variance - 1) < 0.02, `variance ${std.variance}`);
    const shifted = moments(() => r.normal(5, 2), 100_000);
    assert.ok(Math.abs(shifted.mean - 5) < 0.03);
    assert.ok(Math.abs(shifted.variance - 4) < 0.1);
  });

  it('gamma has mean k*theta and variance k*theta^2, including shape < 1', () => {
    const r = new Rng(4);
    for (const [shape, scale] of [
      [0.1, 1],
      [0.5, 2],
      [1, 1],
      [2.5, 1],
      [10, 0.5],
    ] as const) {
      const { mean, variance } = moments(() => r.gamma(shape, scale), 100_000);
      const m = shape * scale;
      const v = shape * scale * scale;
      assert.ok(Math.abs(mean - m) / m < 0.03, `shape ${shape}: mean ${mean}, want ${m}`);
      assert.ok(Math.abs(variance - v) / v < 0.1, `shape ${shape}: variance ${variance}, want ${v}`);
    }
    assert.throws(() => r.gamma(0), { code: 'DATA_INVALID_OPTION' });
    assert.throws(() => r.gamma(-1), { code: 'DATA_INVALID_OPTION' });
  });

  it('dirichlet sums to 1 with mean alpha_i / sum(alpha), even for tiny alpha', () => {
    const r = new Rng(5);
    const alpha = [0.5, 1, 2.5];
    const sums = [0, 0, 0];
    const n = 20_000;
    for (let k = 0; k < n; k++) {
      const p = r.dirichlet(alpha);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
      p.forEach((v, i) => {
        sums[i]! += v;
      });
    }
    alpha.forEach((a, i) => {
      assert.ok(Math.abs(sums[i]! / n - a / 4) < 0.01, `component ${i}: ${sums[i]! / n}`);
    });
    for (let k = 0; k < 100; k++) {
      const p = r.dirichlet(new Array(50).fill(0.001));
      assert.ok(p.every((v) => Number.isFinite(v) && v >= 0));
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    }
  });

  it('shuffle is an in-place, seeded, roughly uniform permutation', () => {
    const a = new Rng(6).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const b = new Rng(6).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(a, b);
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const r = new Rng(7);
    const firstCounts = new Array(4).fill(0);
    for (let k = 0; k < 40_000; k++) firstCounts[r.permutation(4)[0]!]++;
    for (const c of firstCounts) assert.ok(Math.abs(c - 10_000) < 400, `first element counts ${firstCounts}`);
  });

  it('deriveSeed gives distinct, reproducible sub-stream seeds', () => {
    assert.equal(deriveSeed(9, 1), deriveSeed(9, 1));
    const seeds = new Set([deriveSeed(9, 0), deriveSeed(9, 1), deriveSeed(9, 2), deriveSeed(10, 1)]);
    assert.equal(seeds.size, 4);
  });
});
