import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assertMatchesCpu, assertNoLeak, initBackends, randomInput } from './test-helpers.ts';

type Case = { shape: number[]; axis: number | number[]; keepDims: boolean };

const cases: Case[] = [
  { shape: [8, 13, 11, 16], axis: [0, 1, 2], keepDims: false }, // a conv bias gradient
  { shape: [3, 5, 7, 2], axis: [2, 0, 1], keepDims: true },
  { shape: [2, 1, 1, 5], axis: [-4, -3, -2], keepDims: false },
  { shape: [64, 26, 26, 16], axis: [0, 1, 2], keepDims: false },
  // Not the pattern: the stock kernel.
  { shape: [4, 6, 6, 3], axis: [1, 2], keepDims: false },
  { shape: [4, 6, 6, 3], axis: [0, 1, 2, 3], keepDims: false },
  { shape: [64, 200], axis: [0], keepDims: true },
  { shape: [2, 3, 4, 5, 6], axis: [0, 1, 2], keepDims: false },
];

const reduce = (c: Case) => (x: tf.Tensor) => tf.sum(x, c.axis, c.keepDims);

describe('Sum on wasm', () => {
  before(initBackends);

  for (const [i, c] of cases.entries()) {
    it(`matches cpu: [${c.shape}] axis ${JSON.stringify(c.axis)}${c.keepDims ? ' keepDims' : ''}`, async () => {
      await assertMatchesCpu('sum', [randomInput(c.shape, i)], reduce(c));
    });
  }

  it("is a conv layer's bias gradient, and matches cpu", async () => {
    await assertMatchesCpu('db', [randomInput([4, 9, 9, 6], 1), randomInput([6], 2)], (x, b) =>
      tf.grad((bi: tf.Tensor) => tf.relu(tf.add(x!, bi)).square().sum())(b!),
    );
  });

  it('leaks no tensors or buffers', async () => {
    for (const c of cases.slice(0, 3)) await assertNoLeak([randomInput(c.shape, 1)], reduce(c));
  });
});
