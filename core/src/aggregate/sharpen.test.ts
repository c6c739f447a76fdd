import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregationError } from './errors.ts';
import { sharpen } from './sharpen.ts';
import { assertClose, assertRowsSumToOne, randomPred, seeded } from './testing.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);

function entropy(row: ArrayLike<number>): number {
  let h = 0;
  for (let k = 0; k < row.length; k++) if (row[k] > 0) h -= row[k] * Math.log(row[k]);
  return h;
}

describe('sharpen (ERA): softmax(log q / T)', () => {
  const q = f32([0.6, 0.3, 0.1]);

  it('T = 0.5 squares and renormalises, by hand', () => {
    // [0.36, 0.09, 0.01] / 0.46
    assertClose(sharpen(q, 3, 0.5), [0.7826086957, 0.1956521739, 0.0217391304]);
  });

  it('T = 2 takes square roots and renormalises, by hand', () => {
    assertClose(sharpen(q, 3, 2), [0.472733875, 0.3342733287, 0.1929927963]);
  });

  it('T = 1 is the identity', () => {
    assertClose(sharpen(q, 3, 1), q, 1e-7);
  });

  it('keeps zeros at zero and survives a tiny temperature', () => {
    const out = sharpen(f32([0.6, 0.4, 0]), 3, 0.01);
    assert.ok(out.every(Number.isFinite));
    // (0.4/0.6)^100 ≈ 2.5e-18
    assertClose(out, [1, 0, 0], 1e-12);
    assert.equal(out[2], 0);
  });

  it('makes an all-zero row uniform', () => {
    assertClose(sharpen(f32([0, 0]), 2, 0.5), [0.5, 0.5]);
  });

  it('keeps rows summing to 1, keeps the ranking and lowers entropy for T < 1', () => {
    const rand = seeded(3);
    const p = randomPred(rand, 50, 10);
    const out = sharpen(p, 10, 0.5);
    assertRowsSumToOne(out, 10);
    for (let r = 0; r < 50; r++) {
      const before = p.subarray(r * 10, r * 10 + 10);
      const after = out.subarray(r * 10, r * 10 + 10);
      assert.ok(entropy(after) < entropy(before));
      for (let a = 0; a < 10; a++) {
        for (let b = 0; b < 10; b++) if (before[a] < before[b]) assert.ok(after[a] <= after[b]);
      }
    }
  });

  it('rejects a temperature that is not a positive finite number', () => {
    for (const t of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => sharpen(q, 3, t),
        (e: unknown) => e instanceof AggregationError && e.code === 'ERR_AGG_OPTION',
      );
    }
  });
});
