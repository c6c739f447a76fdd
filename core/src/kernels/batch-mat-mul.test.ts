import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assertMatchesCpu, assertNoLeak, initBackends, randomInput } from './test-helpers.ts';

type Case = { a: number[]; b: number[]; transposeA: boolean; transposeB: boolean };

const cases: Case[] = [
  { a: [64, 784], b: [64, 200], transposeA: true, transposeB: false }, // dense dW
  { a: [64, 200], b: [784, 200], transposeA: false, transposeB: true }, // dense dx
  { a: [64, 512], b: [3136, 512], transposeA: false, transposeB: true }, // dense dx, swapped plan
  { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
  { a: [300, 5], b: [3, 300], transposeA: true, transposeB: true }, // swapped plan
  { a: [1, 4, 9], b: [700, 9], transposeA: false, transposeB: true }, // mixed ranks, swapped plan
  { a: [1, 33, 17], b: [1, 33, 9], transposeA: true, transposeB: false }, // rank 3, batch 1
  { a: [1, 9, 17], b: [1, 5, 17], transposeA: false, transposeB: true },
  { a: [3, 6, 4], b: [3, 6, 5], transposeA: true, transposeB: false }, // batched: stock kernel
  { a: [2, 4, 6], b: [1, 5, 6], transposeA: false, transposeB: true }, // broadcast batch: stock
  { a: [13, 11], b: [11, 9], transposeA: false, transposeB: false }, // plain: stock
];

const matMul = (c: Case) => (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, c.transposeA, c.transposeB);

describe('BatchMatMul on wasm', () => {
  before(initBackends);

  for (const [i, c] of cases.entries()) {
    it(`matches cpu: [${c.a}]${c.transposeA ? 'ᵀ' : ''} x [${c.b}]${c.transposeB ? 'ᵀ' : ''}`, async () => {
      await assertMatchesCpu('product', [randomInput(c.a, i), randomInput(c.b, 20 + i)], matMul(c));
    });
  }

  it("a dense layer's gradients match cpu", async () => {
    const loss = (x: tf.Tensor, w: tf.Tensor) => tf.relu(tf.matMul(x, w)).square().sum();
    const inputs = [randomInput([16, 30], 1), randomInput([30, 12], 2)];
    await assertMatchesCpu('dx', inputs, (x, w) => tf.grads(loss)([x!, w!])[0]!);
    await assertMatchesCpu('dW', inputs, (x, w) => tf.grads(loss)([x!, w!])[1]!);
  });

  it('leaks no tensors or buffers', async () => {
    for (const c of cases.slice(2, 5))
      await assertNoLeak([randomInput(c.a, 1), randomInput(c.b, 2)], matMul(c));
  });
});
