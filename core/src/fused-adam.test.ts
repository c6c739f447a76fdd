import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fusedAdam } from './fused-adam.ts';
import { assertClose, initBackends, randomValues } from './kernels/test-helpers.ts';

/** tfjs types applyGradients' map as variables; gradients are plain tensors. */
const asGrads = (m: Record<string, tf.Tensor>) =>
  m as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0];

// big exceeds FUSED_ADAM_MAX_SIZE: it keeps tfjs' formula, the others take the fused kernel.
const SHAPES = { w1: [30, 20], b1: [20], w2: [20, 5], big: [130, 130] } as const;

/** Runs `steps` optimizer steps on fixed variables with per-step gradients; returns final values. */
async function train(
  backend: 'cpu' | 'wasm',
  make: () => tf.Optimizer,
  steps: number,
): Promise<{ values: Map<string, { shape: number[]; values: Float32Array }>; weights: string[] }> {
  assert.ok(await tf.setBackend(backend));
  const vars = Object.entries(SHAPES).map(([name, shape], i) =>
    tf.variable(
      tf.tensor(
        randomValues(
          shape.reduce((a, b) => a * b, 1),
          i + 1,
        ),
        [...shape],
      ),
      true,
      `${backend}-${name}`,
    ),
  );
  const optimizer = make();
  for (let step = 0; step < steps; step++) {
    const grads = tf.tidy(() =>
      Object.fromEntries(
        vars.map((v, i) => [
          v.name,
          tf.tensor(randomValues(v.size, 100 * step + i), v.shape).mul(step % 2 ? 3 : 0.1),
        ]),
      ),
    );
    optimizer.applyGradients(asGrads(grads));
    tf.dispose(Object.values(grads));
  }
  const values = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const v of vars)
    values.set(v.name.slice(backend.length + 1), { shape: v.shape, values: v.dataSync() as Float32Array });
  const weights = (await optimizer.getWeights()).map((w) => w.name.replace(`${backend}-`, ''));
  optimizer.dispose();
  tf.dispose(vars);
  return { values, weights };
}

describe('FusedAdamOptimizer', () => {
  before(initBackends);

  it('on wasm follows tf.train.adam on cpu step by step', async () => {
    for (const steps of [1, 2, 7]) {
      const expected = await train('cpu', () => tf.train.adam(0.01), steps);
      const actual = await train('wasm', () => fusedAdam(0.01), steps);
      for (const [name, e] of expected.values)
        assertClose(actual.values.get(name)!, e, `${name} after ${steps} steps`);
      assert.deepEqual(actual.weights, expected.weights);
    }
  });

  it('uses the fused kernel on wasm and tfjs Adam elsewhere', async () => {
    await train('wasm', () => fusedAdam(0.01), 1);
    assert.ok(tf.getKernel('MutuaAdamUpdate', 'wasm'));
    const cpu = await train('cpu', () => fusedAdam(0.01), 3);
    const stock = await train('cpu', () => tf.train.adam(0.01), 3);
    for (const [name, e] of stock.values) assert.deepEqual(cpu.values.get(name)!.values, e.values);
  });

  it('its state round-trips through getWeights/setWeights like tfjs Adam', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const v = tf.variable(tf.tensor([1, 2, 3]), true, 'rt');
    const a = fusedAdam(0.1);
    for (let i = 0; i < 3; i++) tf.tidy(() => a.applyGradients(asGrads({ rt: tf.tensor([0.5, -1, 2]) })));
    const b = fusedAdam(0.1);
    await b.setWeights(await a.getWeights());
    assert.equal(b.iterations, 3);
    const before = v.dataSync().slice();
    tf.tidy(() => a.applyGradients(asGrads({ rt: tf.tensor([1, 1, 1]) })));
    const viaA = v.dataSync().slice();
    tf.tidy(() => v.assign(tf.tensor(before)));
    tf.tidy(() => b.applyGradients(asGrads({ rt: tf.tensor([1, 1, 1]) })));
    assert.deepEqual(v.dataSync(), viaA);
    tf.dispose([v]);
    a.dispose();
    b.dispose();
  });

  it('leaks nothing across steps', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const v = tf.variable(tf.ones([50, 4]), true, 'leak');
    const g = tf.ones([50, 4]);
    const opt = fusedAdam();
    opt.applyGradients(asGrads({ leak: g }));
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    for (let i = 0; i < 5; i++) opt.applyGradients(asGrads({ leak: g }));
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.backend().numDataIds(), buffers);
    opt.dispose();
    tf.dispose([v, g]);
  });
});
