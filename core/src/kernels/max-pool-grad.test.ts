import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assertMatchesCpu, assertNoLeak, initBackends, type Padding, randomInput } from './test-helpers.ts';

type Case = { x: [number, number, number, number]; pool: number; stride: number; pad: Padding };

const cases: Case[] = [];
for (const pad of ['valid', 'same'] as const) {
  cases.push({ x: [2, 8, 8, 3], pool: 2, stride: 2, pad });
  cases.push({ x: [3, 11, 9, 5], pool: 2, stride: 2, pad }); // odd: last row/column unused or padded
  cases.push({ x: [2, 9, 9, 4], pool: 3, stride: 2, pad }); // overlapping windows add up
  cases.push({ x: [1, 7, 6, 2], pool: 2, stride: 1, pad });
  cases.push({ x: [2, 10, 10, 3], pool: 3, stride: 3, pad });
}

/**
 * d/dx of sum(maxPool(x') * r) at x' = prep(x): dy = r is not uniform, so a misrouted
 * gradient shows.
 */
function poolGrad(c: Case, prep: (x: tf.Tensor) => tf.Tensor) {
  return (x: tf.Tensor, r: tf.Tensor) =>
    tf.tidy(() =>
      tf.grad((xi: tf.Tensor) =>
        tf
          .maxPool(xi as tf.Tensor4D, c.pool, c.stride, c.pad)
          .mul(r!)
          .sum(),
      )(prep(x)),
    );
}

function outShape(c: Case): number[] {
  const [n, h, w, ch] = c.x;
  const out = (s: number) =>
    c.pad === 'same' ? Math.ceil(s / c.stride) : Math.floor((s - c.pool) / c.stride) + 1;
  return [n, out(h), out(w), ch];
}

describe('MaxPoolGrad on wasm', () => {
  before(initBackends);

  for (const [i, c] of cases.entries()) {
    const name = `x ${c.x} pool ${c.pool} stride ${c.stride} ${c.pad}`;
    it(`matches cpu: ${name}`, async () => {
      await assertMatchesCpu(
        'dx',
        [randomInput(c.x, i), randomInput(outShape(c), 50 + i)],
        poolGrad(c, (x) => x),
      );
    });
    // After ReLU whole windows tie at 0: the gradient must go to the first maximum only.
    it(`matches cpu on ties after relu: ${name}`, async () => {
      await assertMatchesCpu(
        'dx',
        [randomInput(c.x, i), randomInput(outShape(c), 50 + i)],
        poolGrad(c, tf.relu),
      );
    });
  }

  it('matches cpu with exact ties of coarse values and -Infinity windows', async () => {
    const c: Case = { x: [2, 8, 8, 3], pool: 2, stride: 2, pad: 'valid' };
    // Values in {-inf, -1, 0, 1}: ties everywhere, some windows entirely -Infinity.
    const coarse = (x: tf.Tensor) => {
      const q = x.mul(1.5).round();
      return tf.where(q.less(-1), tf.fill(q.shape, Number.NEGATIVE_INFINITY), q);
    };
    await assertMatchesCpu('dx', [randomInput(c.x, 3), randomInput(outShape(c), 4)], poolGrad(c, coarse));
  });

  it('leaks no tensors or buffers', async () => {
    const c = cases[2]!;
    await assertNoLeak(
      [randomInput(c.x, 1), randomInput(outShape(c), 2)],
      poolGrad(c, (x) => x),
    );
  });
});
