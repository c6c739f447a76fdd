import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { decodePublicSet, encodePublicSet } from '@mutua/proto';
import * as tf from '@tensorflow/tfjs';
import { useCpuBackend } from '../backend.ts';
import type { Dataset } from '../data/dataset.ts';
import { evaluate } from '../distill.ts';
import { createModel } from '../models.ts';
import type { TrainProgress } from './learner.ts';
import { createTfLearner, modelSignature } from './tf-learner.ts';

before(async () => {
  await useCpuBackend();
});

/** Three separable blobs in 4 dimensions (class c is centred on +1 in dimension c). */
function blobs(n: number, seed: number): Dataset {
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let d = 0; d < 4; d++) x[i * 4 + d] = (d === y[i] ? 1 : 0) + 0.2 * rand();
  }
  return { x, y, n, shape: [4], numClasses: 3 };
}

test('createTfLearner trains with targets, predicts tempered rows that sum to 1, and leaks no tensors', async () => {
  const model = createModel('mlp', { inputShape: [4], numClasses: 3, seed: 1 });
  const pub = blobs(12, 99);
  const publicSet = decodePublicSet(
    encodePublicSet({ x: pub.x, sampleCount: 12, shape: [4], dtype: 'float32' }),
  );
  const learner = createTfLearner({
    model,
    trainDs: blobs(24, 1),
    valDs: blobs(9, 2),
    testDs: blobs(9, 3),
    publicSet,
    settings: { batchSize: 8, seed: 5, learningRate: 0.01 },
  });
  const targets = {
    version: 1,
    indices: Uint32Array.from([1, 4, 7]),
    probs: new Float32Array([0.1, 0.8, 0.1, 0.1, 0.8, 0.1, 0.1, 0.8, 0.1]),
    contributors: 2,
  };
  const predictIndices = Uint32Array.from([0, 2, 5, 11]);

  async function round(r: number, withTargets: boolean) {
    const progress: TrainProgress[] = [];
    const metrics = await learner.train({
      round: r,
      targets: withTargets ? targets : undefined,
      temperature: 2,
      lambda: 0.5,
      localEpochs: 2,
      signal: new AbortController().signal,
      onProgress: (p) => progress.push(p),
    });
    const probs = await learner.predict(predictIndices, 2);
    return { metrics, probs, progress };
  }

  // Round 1 creates the optimizer's moment variables; from then on the count must stay put.
  const first = await round(1, false);
  assert.equal(first.metrics.distillLoss, 0);
  const baseline = tf.memory().numTensors;
  for (const r of [2, 3]) {
    const { metrics, probs, progress } = await round(r, true);
    assert.equal(probs.length, predictIndices.length * 3);
    for (let i = 0; i < predictIndices.length; i++) {
      const row = probs.subarray(i * 3, i * 3 + 3);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${i} sums to 1`);
      for (const v of row) assert.ok(v > 0 && v < 1);
    }
    assert.ok(Number.isFinite(metrics.trainLoss));
    assert.ok((metrics.distillLoss ?? 0) > 0, 'the KL term is on with targets');
    assert.equal(metrics.samples, 48);
    for (const key of ['trainAccuracy', 'valAccuracy', 'testAccuracy'] as const) {
      const v = metrics[key]!;
      assert.ok(v >= 0 && v <= 1, `${key} = ${v}`);
    }
    assert.deepEqual(
      progress.map((p) => `${p.epoch}/${p.epochs}:${p.batch}/${p.batches}`),
      ['1/2:1/3', '1/2:2/3', '1/2:3/3', '2/2:1/3', '2/2:2/3', '2/2:3/3'],
    );
    assert.equal(tf.memory().numTensors, baseline, `round ${r} leaked tensors`);
  }

  // FedAvg plumbing: weights round-trip without leaking either.
  const weights = await learner.getWeights();
  assert.equal(
    weights.length,
    model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0),
  );
  const shifted = weights.map((v) => v + 1);
  await learner.setWeights(shifted);
  assert.deepEqual(await learner.getWeights(), shifted);
  assert.equal(tf.memory().numTensors, baseline);
  assert.equal(learner.numSamples, 24);
  const same = createModel('mlp', { inputShape: [4], numClasses: 3 });
  const other = createModel('mlp', { inputShape: [4], numClasses: 4 });
  assert.equal(learner.modelSignature, modelSignature(same));
  assert.notEqual(learner.modelSignature, modelSignature(other));
  same.dispose();
  other.dispose();

  // An aborted signal stops training before the next step.
  const controller = new AbortController();
  controller.abort(new Error('superseded'));
  await assert.rejects(
    learner.train({
      round: 4,
      temperature: 2,
      lambda: 0.5,
      localEpochs: 1,
      signal: controller.signal,
      onProgress: () => {},
    }),
    /superseded/,
  );
  assert.equal(tf.memory().numTensors, baseline);
  learner.dispose();
  model.dispose();
});

test('createTfLearner rejects a public set whose samples do not fit the model', () => {
  const model = createModel('mlp', { inputShape: [4], numClasses: 3, seed: 1 });
  const publicSet = decodePublicSet(
    encodePublicSet({ x: new Float32Array(10), sampleCount: 2, shape: [5], dtype: 'float32' }),
  );
  assert.throws(
    () => createTfLearner({ model, trainDs: blobs(6, 1), publicSet }),
    /public samples are \[5\]/,
  );
  model.dispose();
});

test('createTfLearner scores global weights on the test set when they are loaded, before training', async () => {
  const model = createModel('mlp', { inputShape: [4], numClasses: 3, seed: 1 });
  const testDs = blobs(30, 3);
  const seen: { round: number; accuracy: number }[] = [];
  const learner = createTfLearner({
    model,
    trainDs: blobs(24, 1),
    testDs,
    settings: { batchSize: 8, seed: 5, learningRate: 0.05 },
    onGlobalEvaluated: (e) => seen.push(e),
  });
  const train = (round: number) =>
    learner.train({
      round,
      temperature: 1,
      lambda: 0,
      localEpochs: 3,
      signal: new AbortController().signal,
      onProgress: () => {},
    });
  const untrained = await learner.getWeights();
  assert.equal(
    learner.weightSegments.reduce((a, b) => a + b, 0),
    untrained.length,
    'the segments cover every weight',
  );
  assert.equal(learner.weightSegments.length, model.trainableWeights.length);
  const first = await train(1);
  assert.equal(first.globalTestAccuracy, undefined, 'no global weights were loaded');
  const trained = await learner.getWeights();
  const afterTraining = first.testAccuracy!;

  // The untrained weights loaded as "global": scored as they are, not after the next training.
  await learner.setWeights(untrained, { round: 1 });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.round, 1);
  const expected = (await evaluate(model, testDs)).accuracy;
  assert.equal(seen[0]!.accuracy, expected);
  const second = await train(2);
  assert.equal(second.globalTestAccuracy, expected);
  assert.notEqual(second.globalTestAccuracy, second.testAccuracy, 'before and after training differ');
  // Reported once: the next task without new global weights has none.
  assert.equal((await train(3)).globalTestAccuracy, undefined);
  // Plain setWeights (a restore, not a global model) scores nothing.
  await learner.setWeights(trained);
  assert.equal(seen.length, 1);
  assert.equal((await train(4)).globalTestAccuracy, undefined);
  assert.ok(afterTraining > 0.5, `the blobs are learnable (${afterTraining})`);
  learner.dispose();
  model.dispose();
});

test('createTfLearner scores nothing at setWeights without a test set or with evaluateGlobal false', async () => {
  const model = createModel('mlp', { inputShape: [4], numClasses: 3, seed: 1 });
  let calls = 0;
  for (const opts of [{ testDs: undefined }, { testDs: blobs(9, 3), settings: { evaluateGlobal: false } }]) {
    const learner = createTfLearner({
      model,
      trainDs: blobs(6, 1),
      ...opts,
      onGlobalEvaluated: () => calls++,
    });
    await learner.setWeights(await learner.getWeights(), { round: 2 });
    learner.dispose();
  }
  assert.equal(calls, 0);
  model.dispose();
});

test('createTfLearner: distillEpochs adds distillation-only passes over the targets, only when it holds targets', async () => {
  const pub = blobs(12, 99);
  const publicSet = decodePublicSet(
    encodePublicSet({ x: pub.x, sampleCount: 12, shape: [4], dtype: 'float32' }),
  );
  const targets = {
    version: 1,
    indices: Uint32Array.from([1, 4, 7, 10]),
    probs: new Float32Array([0.1, 0.8, 0.1, 0.1, 0.8, 0.1, 0.1, 0.8, 0.1, 0.1, 0.8, 0.1]),
    contributors: 2,
  };
  /** Weights after one task with `distillEpochs`, with or without targets. */
  async function after(distillEpochs: number | undefined, withTargets: boolean): Promise<Float32Array> {
    const model = createModel('mlp', { inputShape: [4], numClasses: 3, seed: 1 });
    const learner = createTfLearner({
      model,
      trainDs: blobs(24, 1),
      publicSet,
      settings: { batchSize: 8, seed: 5, learningRate: 0.01, evaluateTrain: false },
    });
    await learner.train({
      round: 2,
      targets: withTargets ? targets : undefined,
      temperature: 2,
      lambda: 0.5,
      localEpochs: 1,
      ...(distillEpochs === undefined ? {} : { distillEpochs }),
      signal: new AbortController().signal,
      onProgress: () => {},
    });
    const w = await learner.getWeights!();
    learner.dispose();
    model.dispose();
    return w;
  }
  const plain = await after(undefined, true);
  assert.deepEqual(await after(0, true), plain, 'distillEpochs 0 is the plain schedule');
  assert.notDeepEqual(await after(2, true), plain, 'the passes train the model');
  assert.deepEqual(await after(2, false), await after(0, false), 'no targets, no passes');
  const model = createModel('mlp', { inputShape: [4], numClasses: 3, seed: 1 });
  const learner = createTfLearner({ model, trainDs: blobs(24, 1), publicSet, settings: { batchSize: 8 } });
  await assert.rejects(
    learner.train({
      round: 1,
      targets,
      temperature: 2,
      lambda: 0.5,
      localEpochs: 1,
      distillEpochs: -1,
      signal: new AbortController().signal,
      onProgress: () => {},
    }),
    /distillEpochs must be an integer >= 0/,
  );
  learner.dispose();
  model.dispose();
});
