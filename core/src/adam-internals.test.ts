import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AdamInternalsError, adamState } from './adam-internals.ts';
import { useCpuBackend } from './backend.ts';

// What fused-adam.ts relies on, checked on tfjs' own optimizer: if a tfjs upgrade renames
// these private fields or changes their meaning, this fails (and fused Adam must follow).
describe('adamState (tfjs AdamOptimizer private fields)', () => {
  before(async () => {
    assert.ok(await useCpuBackend());
  });

  it('reads the bias-correction powers and the lazily created, named moments of tf.train.adam', () => {
    const beta1 = 0.8;
    const beta2 = 0.9;
    const a = tf.variable(tf.tensor([1, 2]), true, 'internals-a');
    const b = tf.variable(tf.tensor([3]), true, 'internals-b');
    const opt = tf.train.adam(0.1, beta1, beta2);
    const fresh = adamState(opt);
    assert.equal(fresh.firstMoments.length, 0);
    assert.equal(fresh.secondMoments.length, 0);
    assert.ok(Math.abs(fresh.accBeta1.dataSync()[0]! - beta1) < 1e-7, 'starts at beta1');

    const grads = [
      [0.5, -1],
      [2, 4],
    ];
    for (const [g0, g1] of grads) {
      tf.tidy(() =>
        opt.applyGradients({ 'internals-a': tf.tensor([g0!, g1!]), 'internals-b': tf.tensor([1]) } as never),
      );
    }
    const s = adamState(opt);
    // beta^(t+1) after t = 2 steps.
    assert.ok(Math.abs(s.accBeta1.dataSync()[0]! - beta1 ** 3) < 1e-6);
    assert.ok(Math.abs(s.accBeta2.dataSync()[0]! - beta2 ** 3) < 1e-6);
    assert.deepEqual(
      s.firstMoments.map((m) => m?.originalName),
      ['internals-a/m', 'internals-b/m'],
    );
    assert.deepEqual(
      s.secondMoments.map((m) => m?.originalName),
      ['internals-a/v', 'internals-b/v'],
    );
    // m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2, from zero.
    const m = [0, 1].map((i) => grads.reduce((acc, g) => beta1 * acc + (1 - beta1) * g[i]!, 0));
    const v = [0, 1].map((i) => grads.reduce((acc, g) => beta2 * acc + (1 - beta2) * g[i]! ** 2, 0));
    const close = (actual: ArrayLike<number>, expected: number[]) =>
      expected.forEach((e, i) => {
        assert.ok(Math.abs(actual[i]! - e) < 1e-6, `${actual[i]} vs ${e}`);
      });
    close(s.firstMoments[0]!.variable.dataSync(), m);
    close(s.secondMoments[0]!.variable.dataSync(), v);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('is a live view: setWeights replaces the moment arrays, a fresh view sees the new ones', async () => {
    const a = tf.variable(tf.tensor([1, 2]), true, 'internals-c');
    const source = tf.train.adam(0.1);
    tf.tidy(() => source.applyGradients({ 'internals-c': tf.tensor([1, 1]) } as never));
    const target = tf.train.adam(0.1);
    const before = adamState(target).firstMoments;
    await target.setWeights(await source.getWeights());
    const after = adamState(target);
    assert.notEqual(after.firstMoments, before);
    assert.deepEqual(
      after.firstMoments.map((x) => x?.originalName),
      ['internals-c/m'],
    );
    source.dispose();
    target.dispose();
    tf.dispose([a]);
  });

  it('refuses an optimizer without those fields with a coded error', () => {
    assert.throws(
      () => adamState(tf.train.sgd(0.1) as unknown as tf.AdamOptimizer),
      (err: unknown) => err instanceof AdamInternalsError && err.code === 'ERR_ADAM_INTERNALS',
    );
  });
});
