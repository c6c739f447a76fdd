import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useCpuBackend } from './backend.ts';
import type { Dataset } from './data/dataset.ts';
import { loadMnist } from './data/node/mnist.ts';
import {
  combinedLoss,
  crossEntropyLoss,
  evaluate,
  logSoftmaxT,
  mutualKlLoss,
  predictPublic,
  softmaxT,
  Trainer,
} from './distill.ts';
import { createModel } from './models.ts';

before(async () => {
  await useCpuBackend();
});

// --- reference maths in plain JS (float64), independent of tf ---------------------------

function jsLogSoftmax(row: readonly number[], T: number): number[] {
  const s = row.map((v) => v / T);
  const m = Math.max(...s);
  const lse = m + Math.log(s.reduce((acc, v) => acc + Math.exp(v - m), 0));
  return s.map((v) => v - lse);
}

/** T² · mean_b Σ_c q (log q − log p_T), skipping q = 0 terms. */
function jsKl(z: number[][], q: number[][], T: number): number {
  let total = 0;
  z.forEach((row, b) => {
    const logP = jsLogSoftmax(row, T);
    q[b]!.forEach((qc, c) => {
      if (qc > 0) total += qc * (Math.log(qc) - logP[c]!);
    });
  });
  return (T * T * total) / z.length;
}

/** The analytic gradient T·(p_T − q)/B. */
function jsKlGrad(z: number[][], q: number[][], T: number): number[][] {
  return z.map((row, b) => jsLogSoftmax(row, T).map((lp, c) => (T * (Math.exp(lp) - q[b]![c]!)) / z.length));
}

function scalar(fn: () => tf.Tensor): number {
  const t = fn();
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
}

function assertClose(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what} expected ${expected}, got ${actual} (|diff| ${Math.abs(actual - expected)} > ${tol})`,
  );
}

// --- fixtures --------------------------------------------------------------------------

/** Seeded PRNG for fixtures (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A fake, linearly separable data set: class c is a Gaussian blob around its own random
 * centre (spread 0.3, centres ~U(-1, 1) per dimension), any sample shape.
 */
function blobs(opts: { n: number; shape: number[]; numClasses: number; seed: number }): Dataset {
  const rand = rng(opts.seed);
  const size = opts.shape.reduce((a, b) => a * b, 1);
  const centres = Array.from({ length: opts.numClasses }, () =>
    Array.from({ length: size }, () => 2 * rand() - 1),
  );
  const x = new Float32Array(opts.n * size);
  const y = new Int32Array(opts.n);
  for (let i = 0; i < opts.n; i++) {
    const c = i % opts.numClasses;
    y[i] = c;
    for (let k = 0; k < size; k++) {
      const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      x[i * size + k] = centres[c]![k]! + 0.3 * gauss;
    }
  }
  return { x, y, n: opts.n, shape: opts.shape, numClasses: opts.numClasses };
}

function uniformRows(n: number, row: number[]): Float32Array {
  const out = new Float32Array(n * row.length);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return out;
}

/** Mean over rows of KL(q || p) for row-major n×C arrays, q a single row (JS, float64). */
function meanKlToRow(p: Float32Array, q: number[]): number {
  const C = q.length;
  const n = p.length / C;
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) total += q[c]! * Math.log(q[c]! / p[i * C + c]!);
  }
  return total / n;
}

// --- the maths -------------------------------------------------------------------------

const Z = [
  [0.3, -1.2, 2.0, 0.5],
  [1.5, 0.1, -0.4, -2.2],
  [0.0, 0.0, 0.0, 0.0],
];
const Q = [
  [0.1, 0.2, 0.3, 0.4],
  [0.25, 0.25, 0.25, 0.25],
  [0.7, 0.1, 0.15, 0.05],
];

describe('tempered softmax', () => {
  for (const T of [1, 3]) {
    test(`logSoftmaxT and softmaxT match plain JS at T=${T}`, () => {
      const z = tf.tensor2d(Z);
      const logP = logSoftmaxT(z, T);
      const p = softmaxT(z, T);
      const logPv = logP.arraySync() as number[][];
      const pv = p.arraySync() as number[][];
      Z.forEach((row, b) => {
        const expected = jsLogSoftmax(row, T);
        expected.forEach((lp, c) => {
          assertClose(logPv[b]![c]!, lp, 1e-6, `logSoftmax[${b}][${c}]`);
          assertClose(pv[b]![c]!, Math.exp(lp), 1e-6, `softmax[${b}][${c}]`);
        });
        assertClose(
          pv[b]!.reduce((a, v) => a + v, 0),
          1,
          1e-6,
          'row sum',
        );
      });
      tf.dispose([z, logP, p]);
    });
  }

  test('stays finite for huge logits (log space, not log(softmax))', () => {
    const z = tf.tensor2d([[1000, -1000, 0]]);
    const logP = logSoftmaxT(z, 2);
    const v = Array.from(logP.dataSync());
    assert.ok(v.every(Number.isFinite), String(v));
    assertClose(v[0]!, 0, 1e-6);
    assertClose(v[1]!, -1000, 1e-3);
    tf.dispose([z, logP]);
  });

  test('rejects a non-positive temperature', () => {
    const z = tf.tensor2d([[1, 2]]);
    for (const T of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => softmaxT(z, T), /temperature must be a positive number/);
      assert.throws(() => logSoftmaxT(z, T), /temperature must be a positive number/);
      assert.throws(() => mutualKlLoss(z, z, T), /temperature must be a positive number/);
    }
    z.dispose();
  });
});

describe('mutualKlLoss', () => {
  test('closed forms: ln 2 at T=1, 4.5·ln(4/3) at T=3', () => {
    // p = softmax([0, 0]) = [1/2, 1/2], q = [1, 0]: KL = 1·ln(1 / (1/2)) = ln 2.
    const a = scalar(() => tf.tidy(() => mutualKlLoss(tf.tensor2d([[0, 0]]), tf.tensor2d([[1, 0]]), 1)));
    assertClose(a, Math.LN2, 1e-6);
    // z/3 = [0, ln 3] -> p = [1/4, 3/4]; q = [1/2, 1/2]:
    // KL = ½ln(½ / ¼) + ½ln(½ / ¾) = ½ln(4/3); times T² = 9.
    const b = scalar(() =>
      tf.tidy(() => mutualKlLoss(tf.tensor2d([[0, 3 * Math.log(3)]]), tf.tensor2d([[0.5, 0.5]]), 3)),
    );
    assertClose(b, 4.5 * Math.log(4 / 3), 1e-5);
  });

  for (const T of [1, 3]) {
    test(`matches plain-JS KL on a batch at T=${T}`, () => {
      const expected = jsKl(Z, Q, T);
      const actual = scalar(() => tf.tidy(() => mutualKlLoss(tf.tensor2d(Z), tf.tensor2d(Q), T)));
      // float32 sums of a handful of O(1) terms: a few ulps of ~1.
      assertClose(actual, expected, 1e-6 * Math.max(1, Math.abs(expected)) * 4, `T=${T}`);
      assert.ok(expected > 0);
    });

    test(`gradient w.r.t. logits is T·(p_T − q)/B and matches central differences at T=${T}`, () => {
      const q = tf.tensor2d(Q);
      const z = tf.tensor2d(Z);
      const g = tf.grad((x: tf.Tensor) => mutualKlLoss(x, q, T))(z);
      const grad = g.arraySync() as number[][];
      const analytic = jsKlGrad(Z, Q, T);
      // Central differences on the float32 loss. With h = 1e-2: truncation h^2/6 * |L'''| is
      // ~1e-6 here; rounding dominates: the loss (~0.6 at T=1, ~2 at T=3) carries a few
      // ulp of error (ulp(2) = 2.4e-7), divided by 2h -> ~5e-5 worst case. Smaller h makes
      // it worse (h = 1e-3 gives ~2e-4), larger h lets truncation grow. Seen: < 2e-5.
      // Tolerance 1e-4, against gradient entries of 6e-3..0.5: a wrong T or B factor fails.
      const h = 1e-2;
      const loss = (zz: number[][]) => scalar(() => tf.tidy(() => mutualKlLoss(tf.tensor2d(zz), q, T)));
      Z.forEach((row, b) => {
        row.forEach((_, c) => {
          assertClose(grad[b]![c]!, analytic[b]![c]!, 1e-6, `analytic [${b}][${c}]`);
          const plus = Z.map((r) => [...r]);
          const minus = Z.map((r) => [...r]);
          plus[b]![c]! += h;
          minus[b]![c]! -= h;
          const fd = (loss(plus) - loss(minus)) / (2 * h);
          assertClose(grad[b]![c]!, fd, 1e-4, `finite difference [${b}][${c}]`);
        });
      });
      tf.dispose([q, z, g]);
    });
  }

  test('zeros in the targets (top-k) give a finite loss and gradient', () => {
    const z = [
      [1e4, -1e4, 3],
      [0.5, -1, 2],
    ];
    const q = [
      [0, 0, 1],
      [0.6, 0.4, 0],
    ];
    const zt = tf.tensor2d(z);
    const qt = tf.tensor2d(q);
    const loss = mutualKlLoss(zt, qt, 2);
    const g = tf.grad((x: tf.Tensor) => mutualKlLoss(x, qt, 2))(zt);
    const lv = loss.dataSync()[0]!;
    assert.ok(Number.isFinite(lv), `loss ${lv}`);
    assertClose(lv, jsKl(z, q, 2), 1e-2 * Math.abs(jsKl(z, q, 2)));
    const gv = g.arraySync() as number[][];
    assert.ok(gv.flat().every(Number.isFinite), `grad ${gv}`);
    const expected = jsKlGrad(z, q, 2);
    for (const [i, v] of gv.flat().entries()) assertClose(v, expected.flat()[i]!, 1e-6, `grad ${i}`);

    // Even an infinite logit where q = 0 stays finite.
    const inf = tf.tensor2d([[Number.NEGATIVE_INFINITY, 0, 1]]);
    const q1 = tf.tensor2d([[0, 0.5, 0.5]]);
    const l2 = mutualKlLoss(inf, q1, 1);
    const g2 = tf.grad((x: tf.Tensor) => mutualKlLoss(x, q1, 1))(inf);
    assert.ok(Number.isFinite(l2.dataSync()[0]!));
    assert.ok(Array.from(g2.dataSync()).every(Number.isFinite));
    tf.dispose([zt, qt, loss, g, inf, q1, l2, g2]);
  });

  test('is zero when the student already predicts the targets', () => {
    const v = scalar(() =>
      tf.tidy(() => {
        const z = tf.tensor2d(Z);
        return mutualKlLoss(z, softmaxT(z, 3), 3);
      }),
    );
    assertClose(v, 0, 1e-5);
  });

  test('rejects mismatched shapes', () => {
    const z = tf.tensor2d([[1, 2, 3]]);
    const q = tf.tensor2d([[0.5, 0.5]]);
    assert.throws(() => mutualKlLoss(z, q, 1), /targetProbs must be \[1,3\]/);
    assert.throws(() => mutualKlLoss(tf.tensor1d([1, 2]), q, 1), /logits must be \[batch, classes\]/);
    tf.dispose([z, q]);
  });
});

describe('combinedLoss', () => {
  const labels = [2, 0, 3];
  const jsCe = () => {
    let s = 0;
    Z.forEach((row, b) => {
      s -= jsLogSoftmax(row, 1)[labels[b]!]!;
    });
    return s / Z.length;
  };

  test('crossEntropyLoss matches plain JS', () => {
    const v = scalar(() => tf.tidy(() => crossEntropyLoss(tf.tensor2d(Z), tf.tensor1d(labels, 'int32'))));
    assertClose(v, jsCe(), 1e-6);
  });

  test('without targets the KL term is absent and the loss is CE', () => {
    tf.tidy(() => {
      const parts = combinedLoss({ logits: tf.tensor2d(Z), labels: tf.tensor1d(labels, 'int32') }, null);
      assert.equal(parts.kl, null);
      assert.equal(parts.loss.dataSync()[0], parts.ce.dataSync()[0]);
      assertClose(parts.loss.dataSync()[0]!, jsCe(), 1e-6);
    });
  });

  test('with targets it is CE + λ·T²·KL', () => {
    tf.tidy(() => {
      const pub = [
        [2, 1, 0, -1],
        [0, 0, 1, 0],
      ];
      const q = [
        [0.4, 0.3, 0.2, 0.1],
        [0, 0, 1, 0],
      ];
      const parts = combinedLoss(
        { logits: tf.tensor2d(Z), labels: tf.tensor1d(labels, 'int32') },
        { logits: tf.tensor2d(pub), targets: tf.tensor2d(q) },
        { temperature: 3, lambda: 0.5 },
      );
      assertClose(parts.kl!.dataSync()[0]!, jsKl(pub, q, 3), 1e-5);
      assertClose(parts.loss.dataSync()[0]!, jsCe() + 0.5 * jsKl(pub, q, 3), 1e-5);
    });
  });

  test('requires settings with targets and rejects a negative lambda, without leaking', () => {
    const before = tf.memory().numTensors;
    const args = [
      { logits: tf.tensor2d(Z), labels: tf.tensor1d(labels, 'int32') },
      { logits: tf.tensor2d(Z), targets: tf.tensor2d(Q) },
    ] as const;
    const created = tf.memory().numTensors;
    assert.throws(() => combinedLoss(args[0], args[1]), /temperature, lambda/);
    assert.throws(() => combinedLoss(args[0], args[1], { temperature: 1, lambda: -1 }), /lambda/);
    assert.throws(() => combinedLoss(args[0], args[1], { temperature: 0, lambda: 1 }), /temperature/);
    assert.equal(tf.memory().numTensors, created);
    tf.dispose([args[0].logits, args[0].labels, args[1].logits, args[1].targets]);
    assert.equal(tf.memory().numTensors, before);
  });
});

// --- training ----------------------------------------------------------------------------

describe('Trainer', () => {
  test('training on a separable data set reduces the loss', async () => {
    const ds = blobs({ n: 240, shape: [6], numClasses: 3, seed: 1 });
    const model = createModel('mlp', { inputShape: [6], numClasses: 3, seed: 1 });
    const trainer = new Trainer(model, { learningRate: 1e-2 });
    const before = await evaluate(model, ds);
    const first = await trainer.trainEpoch(ds, { batchSize: 32, seed: 1 });
    let last = first;
    for (let epoch = 2; epoch <= 5; epoch++)
      last = await trainer.trainEpoch(ds, { batchSize: 32, seed: epoch });
    const after = await evaluate(model, ds);
    assert.ok(last.loss < first.loss / 2, `epoch loss ${first.loss} -> ${last.loss}`);
    assert.ok(after.loss < before.loss / 4, `eval loss ${before.loss} -> ${after.loss}`);
    assert.ok(after.accuracy > 0.95, `accuracy ${after.accuracy}`);
    assert.equal(first.kl, 0);
    assert.equal(first.publicSamples, 0);
    trainer.dispose();
    model.dispose();
  });

  test('distillation toward fixed targets moves the predictions toward them', async () => {
    const ds = blobs({ n: 96, shape: [6], numClasses: 3, seed: 2 });
    const pub = blobs({ n: 64, shape: [6], numClasses: 3, seed: 3 });
    const q = [0.6, 0.3, 0.1];
    const T = 2;
    const run = async (lambda: number | null) => {
      const model = createModel('mlp', { inputShape: [6], numClasses: 3, seed: 4 });
      const trainer = new Trainer(model, { learningRate: 5e-3 });
      const before = meanKlToRow(await predictPublic(model, pub.x, pub.shape, T), q);
      for (let epoch = 0; epoch < 4; epoch++) {
        await trainer.trainEpoch(ds, {
          batchSize: 16,
          seed: epoch,
          ...(lambda === null
            ? {}
            : {
                publicX: pub.x,
                targets: uniformRows(pub.n, q),
                temperature: T,
                lambda,
                publicBatchSize: 16,
              }),
        });
      }
      const after = meanKlToRow(await predictPublic(model, pub.x, pub.shape, T), q);
      trainer.dispose();
      model.dispose();
      return { before, after };
    };
    const distilled = await run(1);
    const control = await run(null);
    assert.ok(distilled.after < distilled.before / 3, `KL(q||p) ${distilled.before} -> ${distilled.after}`);
    assert.ok(
      distilled.after < control.after / 3,
      `distilled ${distilled.after} vs control ${control.after}`,
    );
  });

  test('trainStep returns plain numbers with loss = ce + λ·kl', () => {
    const model = createModel('mlp', { inputShape: [6], numClasses: 3, seed: 5 });
    const trainer = new Trainer(model);
    const ds = blobs({ n: 8, shape: [6], numClasses: 3, seed: 5 });
    tf.tidy(() => {
      const x = tf.tensor2d(ds.x, [8, 6]);
      const y = tf.tensor1d(ds.y, 'int32');
      const plain = trainer.trainStep({ x, y });
      assert.equal(plain.kl, 0);
      assert.equal(plain.loss, plain.ce);
      const targets = tf.tensor2d(uniformRows(8, [0.2, 0.3, 0.5]), [8, 3]);
      const r = trainer.trainStep({ x, y }, { x, targets }, { temperature: 2, lambda: 0.25 });
      for (const v of [r.loss, r.ce, r.kl]) assert.equal(typeof v, 'number');
      assert.ok(r.kl > 0);
      assertClose(r.loss, r.ce + 0.25 * r.kl, 1e-5);
    });
    trainer.dispose();
    model.dispose();
  });

  test('trainEpoch follows its schedule and is reproducible with a seed', async () => {
    const ds = blobs({ n: 50, shape: [10, 10, 1], numClasses: 4, seed: 6 });
    const pub = blobs({ n: 30, shape: [10, 10, 1], numClasses: 4, seed: 7 });
    const targets = uniformRows(30, [0.1, 0.2, 0.3, 0.4]);
    const run = async () => {
      const model = createModel('cnn-small', { inputShape: [10, 10, 1], numClasses: 4, seed: 8 });
      const trainer = new Trainer(model);
      const progress: { batch: number; batches: number; samples: number; kl: number }[] = [];
      const result = await trainer.trainEpoch(ds, {
        batchSize: 16,
        publicBatchSize: 12,
        seed: 9,
        publicX: pub.x,
        targets,
        temperature: 3,
        lambda: 1,
        onBatch: ({ batch, batches, samples, kl }) => progress.push({ batch, batches, samples, kl }),
      });
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      trainer.dispose();
      model.dispose();
      return { result, progress, weights };
    };
    const a = await run();
    // 50 private samples in batches of 16: 16, 16, 16, 2. Each step also takes 12 public rows
    // (cycling through the 30), so 4 steps see 48 public samples.
    assert.deepEqual(
      a.progress.map((p) => [p.batch, p.batches, p.samples]),
      [
        [1, 4, 16],
        [2, 4, 32],
        [3, 4, 48],
        [4, 4, 50],
      ],
    );
    assert.ok(a.progress.every((p) => p.kl > 0));
    assert.equal(a.result.steps, 4);
    assert.equal(a.result.samples, 50);
    assert.equal(a.result.publicSamples, 48);
    const b = await run();
    assert.deepEqual(b.result, a.result);
    assert.deepEqual(b.weights, a.weights);
  });

  test('trainEpoch renormalises target rows (quantised or top-k consensus)', async () => {
    const ds = blobs({ n: 8, shape: [6], numClasses: 3, seed: 10 });
    const pub = blobs({ n: 8, shape: [6], numClasses: 3, seed: 11 });
    const epoch = async (targets: Float32Array) => {
      const model = createModel('mlp', { inputShape: [6], numClasses: 3, seed: 12 });
      const trainer = new Trainer(model);
      const r = await trainer.trainEpoch(ds, {
        batchSize: 8,
        seed: 1,
        publicX: pub.x,
        targets,
        temperature: 1,
        lambda: 1,
      });
      trainer.dispose();
      model.dispose();
      return r;
    };
    const exact = await epoch(uniformRows(8, [0.5, 0.5, 0]));
    const unnormalised = await epoch(uniformRows(8, [0.45, 0.45, 0]));
    assert.deepEqual(unnormalised, exact);
  });

  test('rejects inputs that do not fit, with messages that say why', async () => {
    const model = createModel('mlp', { inputShape: [6], numClasses: 3, seed: 13 });
    const trainer = new Trainer(model);
    const ds = blobs({ n: 8, shape: [6], numClasses: 3, seed: 13 });
    const pubX = ds.x;
    const before = tf.memory().numTensors;
    const rejects = (opts: Parameters<Trainer['trainEpoch']>[1], re: RegExp, data: Dataset = ds) =>
      assert.rejects(trainer.trainEpoch(data, opts), re);
    await rejects({}, /samples of shape \[4\] do not fit the model's input \[6\]/, { ...ds, shape: [4] });
    await rejects({}, /data set has 4 classes, the model outputs 3/, { ...ds, numClasses: 4 });
    await rejects({}, /label 7 of sample 0 outside \[0, 3\)/, {
      ...ds,
      y: Int32Array.from(ds.y, (v, i) => (i ? v : 7)),
    });
    await rejects({}, /the data set is empty/, { ...ds, n: 0, x: new Float32Array(0), y: new Int32Array(0) });
    await rejects({ batchSize: 0 }, /batchSize must be a positive integer/);
    await rejects({ targets: uniformRows(8, [1, 0, 0]), temperature: 1, lambda: 1 }, /publicX is required/);
    await rejects(
      { targets: uniformRows(8, [1, 0, 0]), publicX: pubX },
      /temperature and lambda are required/,
    );
    await rejects(
      { targets: uniformRows(8, [1, -0.1, 0.1]), publicX: pubX, temperature: 1, lambda: 1 },
      /row 0 has -0.1/,
    );
    await rejects(
      { targets: uniformRows(8, [0, 0, 0]), publicX: pubX, temperature: 1, lambda: 1 },
      /row 0 is all zeros/,
    );
    await rejects(
      { targets: uniformRows(7, [1, 0, 0]), publicX: pubX, temperature: 1, lambda: 1 },
      /publicX has 48 values; 7 target rows/,
    );
    const aborted = new AbortController();
    aborted.abort(new Error('round closed'));
    await rejects({ signal: aborted.signal }, /round closed/);
    tf.tidy(() => {
      const x = tf.zeros([2, 6]);
      assert.throws(() => trainer.trainStep({ x, y: tf.tensor1d([0], 'int32') }), /y must be \[2\]/);
      assert.throws(
        () => trainer.trainStep({ x, y: tf.tensor1d([0, 1], 'int32') }, { x, targets: tf.zeros([2, 4]) }),
        /targets must be \[2, 3\]/,
      );
      assert.throws(
        () => trainer.trainStep({ x, y: tf.tensor1d([0, 1], 'int32') }, { x, targets: tf.zeros([2, 3]) }),
        /temperature, lambda/,
      );
    });
    assert.equal(tf.memory().numTensors, before);
    assert.throws(() => new Trainer(model, { learningRate: 0 }), /learningRate/);
    trainer.dispose();
    model.dispose();
  });
});

describe('predictPublic and evaluate', () => {
  test('predictPublic returns tempered probabilities, batch size notwithstanding', async () => {
    const pub = blobs({ n: 13, shape: [10, 10, 1], numClasses: 4, seed: 14 });
    const model = createModel('cnn-small', { inputShape: [10, 10, 1], numClasses: 4, seed: 14 });
    const T = 3;
    const probs = await predictPublic(model, pub.x, pub.shape, T, 5);
    assert.equal(probs.length, 13 * 4);
    const expected = tf.tidy(() =>
      softmaxT(model.predict(tf.tensor4d(pub.x, [13, 10, 10, 1])) as tf.Tensor, T).dataSync(),
    );
    for (let i = 0; i < 13; i++) {
      let sum = 0;
      for (let c = 0; c < 4; c++) {
        sum += probs[i * 4 + c]!;
        assertClose(probs[i * 4 + c]!, expected[i * 4 + c]!, 1e-6);
      }
      assertClose(sum, 1, 1e-6, `row ${i}`);
    }
    assert.deepEqual(await predictPublic(model, pub.x, pub.shape, T, 256), probs);
    await assert.rejects(
      predictPublic(model, pub.x.subarray(1), pub.shape, T),
      /not a whole number of samples/,
    );
    await assert.rejects(predictPublic(model, pub.x, [100], T), /do not fit the model's input/);
    await assert.rejects(predictPublic(model, pub.x, pub.shape, 0), /temperature/);
    model.dispose();
  });

  test('evaluate reports accuracy and mean cross-entropy', async () => {
    const ds = blobs({ n: 11, shape: [6], numClasses: 3, seed: 15 });
    const model = createModel('mlp', { inputShape: [6], numClasses: 3, seed: 15 });
    const logits = tf.tidy(
      () => (model.predict(tf.tensor2d(ds.x, [11, 6])) as tf.Tensor).arraySync() as number[][],
    );
    let loss = 0;
    let correct = 0;
    logits.forEach((row, i) => {
      loss -= jsLogSoftmax(row, 1)[ds.y[i]!]!;
      if (row.indexOf(Math.max(...row)) === ds.y[i]) correct++;
    });
    const r = await evaluate(model, ds, { batchSize: 4 });
    assert.equal(r.n, 11);
    assert.equal(r.accuracy, correct / 11);
    assertClose(r.loss, loss / 11, 1e-5);
    model.dispose();
  });
});

describe('no tensor leaks', () => {
  test('numTensors is unchanged across repeated steps, epochs, predictions and evaluations', async () => {
    // Small on purpose: conv gradients are slow on the cpu backend.
    const ds = blobs({ n: 20, shape: [10, 10, 1], numClasses: 4, seed: 16 });
    const pub = blobs({ n: 12, shape: [10, 10, 1], numClasses: 4, seed: 17 });
    const targets = uniformRows(12, [0.7, 0.1, 0.1, 0.1]);
    const model = createModel('cnn-small', { inputShape: [10, 10, 1], numClasses: 4, seed: 16 });
    const trainer = new Trainer(model);
    const x = tf.tensor4d(ds.x.subarray(0, 8 * 100), [8, 10, 10, 1]);
    const y = tf.tensor1d(ds.y.subarray(0, 8), 'int32');
    const px = tf.tensor4d(pub.x.subarray(0, 8 * 100), [8, 10, 10, 1]);
    const pq = tf.tensor2d(targets.subarray(0, 8 * 4), [8, 4]);
    const settings = { temperature: 2, lambda: 0.5 };
    const round = async () => {
      trainer.trainStep({ x, y });
      trainer.trainStep({ x, y }, { x: px, targets: pq }, settings);
      await trainer.trainEpoch(ds, { batchSize: 12, seed: 1 });
      await trainer.trainEpoch(ds, { batchSize: 12, seed: 2, publicX: pub.x, targets, ...settings });
      await trainer.trainEpoch(ds, { batchSize: 12, shuffle: false, publicX: pub.x, targets, ...settings });
      await predictPublic(model, pub.x, pub.shape, 2, 10);
      await evaluate(model, ds, { batchSize: 16 });
      assert.throws(() =>
        trainer.trainStep({ x, y }, { x: px, targets: pq }, { temperature: -1, lambda: 1 }),
      );
    };
    await round(); // the first step creates Adam's moment variables
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) await round();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y, px, pq]);
    trainer.dispose();
    model.dispose();
  });
});

describe('on real MNIST', () => {
  test('a few training steps reduce the loss', async () => {
    const train = await loadMnist({ split: 'train', limit: 1280 });
    const held = await loadMnist({ split: 'test', limit: 500 });
    const model = createModel('mlp', { inputShape: train.shape, numClasses: train.numClasses, seed: 0 });
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const before = await evaluate(model, held);
    const losses: number[] = [];
    // 20 steps of 64.
    await trainer.trainEpoch(train, { batchSize: 64, seed: 0, onBatch: (p) => losses.push(p.loss) });
    const after = await evaluate(model, held);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.equal(losses.length, 20);
    assert.ok(
      mean(losses.slice(-5)) < 0.6 * mean(losses.slice(0, 5)),
      `batch losses ${losses.map((l) => l.toFixed(2))}`,
    );
    assert.ok(after.loss < 0.5 * before.loss, `held-out loss ${before.loss} -> ${after.loss}`);
    assert.ok(after.accuracy > 0.75, `held-out accuracy ${before.accuracy} -> ${after.accuracy}`);
    trainer.dispose();
    model.dispose();
  });
});
