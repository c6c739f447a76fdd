import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createModel, MODEL_ARCHS } from '../models.ts';
import { OVERRIDDEN_KERNELS, registeredWasmKernels, registerWasmGradientKernels } from './register.ts';
import { assertClose, initBackends, randomInput } from './test-helpers.ts';
import { stockKernel } from './wasm-ops.ts';

/**
 * A small conv net's loss gradients w.r.t. all its weights, computed with
 * tf.variableGrads through conv2d (valid and same), maxpool and dense layers.
 */
async function convNetGrads(
  backend: 'cpu' | 'wasm',
): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
  assert.ok(await tf.setBackend(backend));
  const t = (shape: number[], seed: number, scale = 1) =>
    tf.tensor(
      randomInput(shape, seed).values.map((v) => v * scale),
      shape,
    );
  const x = t([4, 12, 12, 2], 1);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3));
  const weights = tf.tidy(() => [
    tf.variable(t([3, 3, 2, 4], 2), true, 'w1'),
    tf.variable(t([4], 3), true, 'b1'),
    tf.variable(t([5, 5, 4, 6], 4, 0.3), true, 'w2'),
    tf.variable(t([24, 3], 5), true, 'w3'),
  ]);
  const [w1, b1, w2, w3] = weights as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const { value, grads } = tf.variableGrads(() => {
    const c1 = tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'valid').add(b1) as tf.Tensor4D;
    const h1 = tf.maxPool(tf.relu(c1), 2, 2, 'valid');
    const h2 = tf.maxPool(tf.relu(tf.conv2d(h1, w2 as tf.Tensor4D, 1, 'same')), 2, 2, 'valid');
    const logits = tf.matMul(h2.reshape([4, 24]), w3);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  });
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, g] of Object.entries(grads)) {
    out.set(name, { shape: g.shape, values: (await g.data()) as Float32Array });
  }
  tf.dispose([x, labels, ...weights, value, ...Object.values(grads)]);
  return out;
}

/** Loss gradients of one of Mutua's models (seeded, so identical weights on any backend). */
async function modelGrads(
  backend: 'cpu' | 'wasm',
  arch: (typeof MODEL_ARCHS)[number],
): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
  assert.ok(await tf.setBackend(backend));
  const inputShape = arch === 'mlp' || arch === 'mlp-tiny' ? [64] : [12, 12, 1];
  const model = createModel(arch, { inputShape, numClasses: 5, seed: 3 });
  const x = tf.tensor(randomInput([6, ...inputShape], 9).values, [6, ...inputShape]);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32'), 5));
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
  );
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  // Layer names carry a global counter, so weights are keyed by position.
  model.trainableWeights.forEach((w, i) => {
    const g = grads[w.originalName] ?? grads[(w as unknown as { val: tf.Variable }).val.name];
    assert.ok(g, `gradient for ${w.originalName}`);
    out.set(`weight ${i} [${w.shape}]`, { shape: g.shape, values: g.dataSync() as Float32Array });
  });
  tf.dispose([x, labels, value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe('registerWasmGradientKernels', () => {
  before(initBackends);

  for (const arch of MODEL_ARCHS) {
    it(`${arch}: every weight's gradient on wasm matches cpu`, async () => {
      const expected = await modelGrads('cpu', arch);
      const actual = await modelGrads('wasm', arch);
      assert.equal(actual.size, expected.size);
      for (const [name, e] of expected) assertClose(actual.get(name)!, e, `${arch} d loss / d ${name}`);
    });
  }

  it("a conv net's gradients on wasm match cpu", async () => {
    const expected = await convNetGrads('cpu');
    const actual = await convNetGrads('wasm');
    assert.deepEqual([...actual.keys()].sort(), ['b1', 'w1', 'w2', 'w3']);
    for (const [name, e] of expected) assertClose(actual.get(name)!, e, `d loss / d ${name}`);
  });

  it('is idempotent', () => {
    const before = OVERRIDDEN_KERNELS.map((k) => tf.getKernel(k, 'wasm'));
    registerWasmGradientKernels();
    registerWasmGradientKernels();
    assert.deepEqual(
      OVERRIDDEN_KERNELS.map((k) => tf.getKernel(k, 'wasm')),
      before,
    );
  });

  it('fast: false restores the stock kernels, and they still run', async () => {
    registerWasmGradientKernels({ fast: false });
    for (const k of OVERRIDDEN_KERNELS) assert.equal(tf.getKernel(k, 'wasm'), stockKernel(k));
    assert.ok(!registeredWasmKernels().some((k) => (OVERRIDDEN_KERNELS as readonly string[]).includes(k)));
    const expected = await convNetGrads('cpu');
    const actual = await convNetGrads('wasm');
    for (const [name, e] of expected) assertClose(actual.get(name)!, e, `stock: d loss / d ${name}`);
    registerWasmGradientKernels();
    for (const k of OVERRIDDEN_KERNELS) assert.notEqual(tf.getKernel(k, 'wasm'), stockKernel(k));
  });

  it('a training step leaks nothing', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const grads = async () => {
      const g = await convNetGrads('wasm');
      assert.equal(g.size, 4);
    };
    await grads();
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    await grads();
    await grads();
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.backend().numDataIds(), buffers);
  });
});
