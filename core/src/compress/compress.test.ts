import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.ts';
import { Trainer } from '../distill/trainer.ts';
import { initBackends, randomValues } from '../kernels/test-helpers.ts';
import { createModel } from '../models.ts';
import { leaveOneOutMeans, teacherTargets, trainCohortEpoch } from './cohort.ts';
import { kernelSparsity, quantizedArtifacts, readWeights } from './export.ts';
import { checkSchedule, isMaskUpdateStep, MagnitudePruner, magnitudeMask, sparsityAt } from './prune.ts';
import { encodeQuantizedWeights, quantizationTolerance, uint8Range } from './quantize.ts';

before(initBackends);

/** A learnable toy set: the class is which quarter of the 8×8 image is bright. */
function toyData(n: number, seed: number): Dataset {
  const noise = randomValues(n * 64, seed);
  const x = new Float32Array(n * 64);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    y[i] = c;
    for (let p = 0; p < 64; p++) {
      const r = Math.floor(p / 8);
      const col = p % 8;
      const quarter = (r < 4 ? 0 : 2) + (col < 4 ? 0 : 1);
      x[i * 64 + p] = (quarter === c ? 0.8 : 0.1) + 0.1 * noise[i * 64 + p]!;
    }
  }
  return { x, y, n, shape: [8, 8, 1], numClasses: 4 };
}

describe('pruning schedule (TFMOT PolynomialDecay)', () => {
  const s = { initialSparsity: 0.1, finalSparsity: 0.9, beginStep: 100, endStep: 300, frequency: 50 };

  test('sparsity follows s_f + (s_i − s_f)(1 − progress)^3, clamped outside [begin, end]', () => {
    const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
    near(sparsityAt(s, 0), 0.1);
    near(sparsityAt(s, 100), 0.1);
    // progress 1/2: 0.9 − 0.8 · 0.125 = 0.8
    assert.ok(Math.abs(sparsityAt(s, 200) - 0.8) < 1e-12);
    // progress 1/4: 0.9 − 0.8 · 0.421875 = 0.5625
    assert.ok(Math.abs(sparsityAt(s, 150) - 0.5625) < 1e-12);
    assert.equal(sparsityAt(s, 300), 0.9);
    assert.equal(sparsityAt(s, 10_000), 0.9);
    assert.ok(Math.abs(sparsityAt({ ...s, power: 1 }, 200) - 0.5) < 1e-12);
  });

  test('masks update every `frequency` steps inside [begin, end] and at end', () => {
    const steps = [];
    for (let t = 0; t < 400; t++) if (isMaskUpdateStep({ ...s, endStep: 320 }, t)) steps.push(t);
    assert.deepEqual(steps, [100, 150, 200, 250, 300, 320]);
  });

  test('bad schedules are refused with a coded error', () => {
    for (const bad of [
      { ...s, finalSparsity: 1 },
      { ...s, initialSparsity: 0.95 },
      { ...s, endStep: 100 },
      { ...s, beginStep: -1 },
      { ...s, frequency: 0 },
    ]) {
      assert.throws(() => checkSchedule(bad), { code: 'ERR_PRUNE_BAD_SCHEDULE' });
    }
  });

  test('magnitudeMask zeroes exactly round(s·n) of the smallest magnitudes', () => {
    const v = new Float32Array([0.5, -0.1, 0.3, -0.9, 0.05, 0.2, 0, 0.7]);
    assert.deepEqual([...magnitudeMask(v, 0.5)], [1, 0, 1, 1, 0, 0, 0, 1]);
    assert.deepEqual([...magnitudeMask(v, 0)], [1, 1, 1, 1, 1, 1, 1, 1]);
    const ties = magnitudeMask(new Float32Array(10), 0.3);
    assert.equal(ties.filter((m) => m === 0).length, 3);
  });
});

describe('MagnitudePruner on wasm', () => {
  test('masks hold after training steps; the target sparsity is reached and kept', async () => {
    assert.equal(tf.getBackend(), 'wasm');
    const model = createModel('cnn-tiny', { inputShape: [8, 8, 1], numClasses: 4, seed: 1 });
    const pruner = new MagnitudePruner(model, {
      initialSparsity: 0,
      finalSparsity: 0.8,
      beginStep: 0,
      endStep: 6,
      frequency: 2,
    });
    const trainer = new Trainer(model, { learningRate: 0.01, afterStep: () => pruner.afterStep() });
    const ds = toyData(64, 3);
    const zerosAfterEnd: number[][] = [];
    for (let epoch = 0; epoch < 4; epoch++) {
      await trainer.trainEpoch(ds, { batchSize: 16, seed: epoch });
      if (pruner.step > 6) {
        // The zero positions must not move once the masks are frozen.
        zerosAfterEnd.push(
          readWeights(model)
            .filter((w) => w.shape.length >= 2)
            .flatMap((w) => [...w.values].map((v, i) => (v === 0 ? i : -1)).filter((i) => i >= 0)),
        );
      }
    }
    assert.equal(pruner.step, 16);
    assert.ok(Math.abs(pruner.measuredSparsity() - 0.8) < 0.01, `sparsity ${pruner.measuredSparsity()}`);
    assert.ok(Math.abs(kernelSparsity(model) - 0.8) < 0.01);
    assert.ok(zerosAfterEnd.length >= 2);
    for (const z of zerosAfterEnd) assert.deepEqual(z, zerosAfterEnd[0]);
    // Biases are not pruned: they moved away from their zero initialisation.
    const biases = readWeights(model).filter((w) => w.shape.length === 1);
    assert.ok(biases.some((b) => b.values.some((v) => v !== 0)));
    pruner.dispose();
    trainer.dispose();
    model.dispose();
  });
});

describe('local mutual learning', () => {
  test('leaveOneOutMeans: each member gets the mean of the others', () => {
    const probs = [tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 1]]), tf.tensor2d([[0.5, 0.5]])];
    const q = leaveOneOutMeans(probs);
    assert.deepEqual(
      q.map((t) => [...t.dataSync()]),
      [
        [0.25, 0.75],
        [0.75, 0.25],
        [0.5, 0.5],
      ],
    );
    assert.deepEqual(leaveOneOutMeans([probs[0]!]), []);
    tf.dispose([...probs, ...q]);
  });

  test('a mutual epoch trains every member with a KL term, without leaking tensors', async () => {
    const ds = toyData(96, 5);
    const models = [
      createModel('mlp-tiny', { inputShape: [8, 8, 1], numClasses: 4, seed: 1 }),
      createModel('cnn-tiny', { inputShape: [8, 8, 1], numClasses: 4, seed: 2 }),
    ];
    const trainers = models.map((m) => new Trainer(m, { learningRate: 0.01 }));
    const opts = { temperature: 2, lambda: 1, batchSize: 16 };
    const first = await trainCohortEpoch(trainers, ds, { ...opts, mode: 'mutual', seed: 0 });
    // Adam's moments exist from the first step on; nothing else may accumulate.
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let e = 1; e < 6; e++)
      last = await trainCohortEpoch(trainers, ds, { ...opts, mode: 'mutual', seed: e });
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(first.steps, 6);
    for (const kl of first.kl) assert.ok(kl > 0);
    for (let i = 0; i < 2; i++) assert.ok(last.loss[i]! < first.loss[i]!, `member ${i} loss fell`);
    const alone = await trainCohortEpoch(trainers, ds, { ...opts, mode: 'alone', seed: 9 });
    assert.deepEqual(alone.kl, [0, 0]);
    await assert.rejects(
      trainCohortEpoch([trainers[0]!], ds, { ...opts, mode: 'mutual', seed: 0 }),
      /at least two/,
    );
    for (const t of trainers) t.dispose();
    for (const m of models) m.dispose();
  });

  test("one-way from precomputed teacher targets trains exactly as from the teacher's forward passes", async () => {
    const ds = toyData(80, 6);
    const teacher = createModel('mlp-tiny', { inputShape: [8, 8, 1], numClasses: 4, seed: 7 });
    const probs = await teacherTargets(teacher, ds, 3, 32);
    assert.equal(probs.length, 80 * 4);
    const direct = tf.tidy(() =>
      tf.softmax(tf.div(teacher.predict(tf.tensor4d(ds.x, [80, 8, 8, 1])) as tf.Tensor, 3)),
    );
    const expected = direct.dataSync();
    direct.dispose();
    for (let i = 0; i < probs.length; i++) assert.ok(Math.abs(probs[i]! - expected[i]!) < 1e-6);
    const run = async (via: 'model' | 'probs') => {
      const student = createModel('cnn-tiny', { inputShape: [8, 8, 1], numClasses: 4, seed: 3 });
      const trainer = new Trainer(student, { learningRate: 0.01 });
      const opts = { temperature: 3, lambda: 1, batchSize: 16, mode: 'teacher' as const };
      const losses = [];
      for (let e = 0; e < 3; e++) {
        const r = await trainCohortEpoch([trainer], ds, {
          ...opts,
          ...(via === 'model' ? { teacher } : { teacherProbs: probs }),
          seed: e,
        });
        losses.push(r.loss[0]!, r.kl[0]!);
      }
      trainer.dispose();
      student.dispose();
      return losses;
    };
    const fromModel = await run('model');
    const tensors = tf.memory().numTensors;
    const fromProbs = await run('probs');
    assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
    for (const [i, v] of fromModel.entries())
      assert.ok(Math.abs(v - fromProbs[i]!) < 1e-4, `${v} vs ${fromProbs[i]}`);
    const t = new Trainer(createModel('mlp-tiny', { inputShape: [8, 8, 1], numClasses: 4, seed: 1 }));
    await assert.rejects(
      trainCohortEpoch([t], ds, {
        temperature: 1,
        lambda: 1,
        mode: 'teacher',
        teacherProbs: new Float32Array(7),
        seed: 0,
      }),
      /not a multiple/,
    );
    await assert.rejects(
      trainCohortEpoch([t], ds, { temperature: 1, lambda: 1, mode: 'teacher', seed: 0 }),
      /needs a teacher model or its predictions/,
    );
    t.model.dispose();
    t.dispose();
    teacher.dispose();
  });
});

describe('quantized weights', () => {
  test('uint8 range contains 0 exactly; tfjs decodes every encoding within its tolerance', () => {
    const values = new Float32Array([-0.7, -0.1, 0, 0, 0.2, 0.35, 1.3]);
    const { scale, min } = uint8Range(values);
    assert.equal(Math.round(-min / scale) * scale + min, 0);
    const weights = [
      { name: 'a/kernel', shape: [7], values },
      { name: 'b/bias', shape: [2, 2], values: new Float32Array([3, 3, 3, 3]) },
    ];
    for (const encoding of ['float32', 'float16', 'uint8'] as const) {
      const { specs, data } = encodeQuantizedWeights(weights, encoding);
      const bytesPer = { float32: 4, float16: 2, uint8: 1 }[encoding];
      assert.equal(data.byteLength, 11 * bytesPer);
      if (encoding === 'uint8') assert.equal(specs[0]!.quantization?.dtype, 'uint8');
      const decoded = tf.io.decodeWeights(data.buffer as ArrayBuffer, specs as tf.io.WeightsManifestEntry[]);
      weights.forEach((w) => {
        const got = decoded[w.name]!.dataSync();
        const tol = quantizationTolerance(w.values, encoding);
        w.values.forEach((v, i) => {
          assert.ok(Math.abs(got[i]! - v) <= tol, `${encoding} ${w.name}[${i}]`);
        });
        if (encoding === 'uint8' && w.name === 'a/kernel') assert.equal(got[2], 0);
      });
      tf.dispose(Object.values(decoded));
    }
  });

  test('quantizedArtifacts load with tf.loadLayersModel and predict as the model does', async () => {
    const model = createModel('cnn-tiny', { inputShape: [8, 8, 1], numClasses: 4, seed: 4 });
    const x = tf.tensor(toyData(8, 1).x, [8, 8, 8, 1]);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    for (const encoding of ['float32', 'float16', 'uint8'] as const) {
      const artifacts = quantizedArtifacts(model, encoding);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const got = (loaded.predict(x) as tf.Tensor).dataSync();
      const tol = { float32: 1e-5, float16: 1e-2, uint8: 0.1 }[encoding];
      expected.forEach((v, i) => {
        assert.ok(Math.abs(got[i]! - v) <= tol, `${encoding}: ${got[i]} vs ${v}`);
      });
      loaded.dispose();
    }
    x.dispose();
    model.dispose();
  });
});
