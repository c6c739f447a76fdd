import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useCpuBackend } from '../backend.ts';
import { digestEpoch, predictPublic, Trainer } from '../distill.ts';
import { createModel } from '../models.ts';

before(async () => {
  await useCpuBackend();
});

/** Seeded uniform inputs in [-1, 1). */
function inputs(n: number, size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n * size);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

function rows(n: number, row: number[]): Float32Array {
  const out = new Float32Array(n * row.length);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return out;
}

/** T² · mean over rows of KL(q || softmax(z / T)), float64, from raw logits. */
function jsKl(logits: Float32Array, q: Float32Array, C: number, T: number): number {
  const n = logits.length / C;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = Array.from(logits.subarray(i * C, (i + 1) * C), (v) => v / T);
    const m = Math.max(...s);
    const lse = m + Math.log(s.reduce((a, v) => a + Math.exp(v - m), 0));
    for (let c = 0; c < C; c++) {
      const qc = q[i * C + c]!;
      if (qc > 0) total += qc * (Math.log(qc) - (s[c]! - lse));
    }
  }
  return (T * T * total) / n;
}

const SHAPE = [6];
const C = 3;

function setup(seed = 4) {
  const model = createModel('mlp', { inputShape: SHAPE, numClasses: C, seed });
  const trainer = new Trainer(model, { learningRate: 5e-3 });
  return {
    model,
    trainer,
    done() {
      trainer.dispose();
      model.dispose();
    },
  };
}

describe('digestEpoch (distillation-only pass)', () => {
  test('one step reports T²·KL of the starting predictions, as plain JS computes it', async () => {
    const { model, trainer, done } = setup();
    const x = inputs(20, 6, 1);
    const q = rows(20, [0.5, 0.3, 0.2]);
    const T = 2;
    const logits = tf.tidy(() => model.predict(tf.tensor2d(x, [20, 6])) as tf.Tensor);
    const expected = jsKl(logits.dataSync() as Float32Array, q, C, T);
    logits.dispose();
    const r = await digestEpoch(trainer, { publicX: x, targets: q, temperature: T, batchSize: 32, seed: 1 });
    assert.equal(r.steps, 1);
    assert.equal(r.rows, 20);
    assert.ok(Math.abs(r.kl - expected) < 1e-4, `kl ${r.kl} vs ${expected}`);
    done();
  });

  test('passes move the predictions toward the targets; steps = ceil(rows / batch)', async () => {
    const { model, trainer, done } = setup();
    const x = inputs(50, 6, 2);
    const target = [0.7, 0.2, 0.1];
    const q = rows(50, target);
    const T = 2;
    const klNow = async () => {
      const logits = tf.tidy(() => model.predict(tf.tensor2d(x, [50, 6])) as tf.Tensor);
      const v = jsKl(logits.dataSync() as Float32Array, q, C, T);
      logits.dispose();
      return v;
    };
    const start = await klNow();
    let r = { steps: 0, rows: 0, kl: 0 };
    for (let pass = 0; pass < 6; pass++) {
      r = await digestEpoch(trainer, { publicX: x, targets: q, temperature: T, batchSize: 16, seed: pass });
    }
    assert.equal(r.steps, 4);
    const end = await klNow();
    assert.ok(end < start / 3, `T²·KL ${start} -> ${end}`);
    done();
  });

  test('is reproducible with a seed and renormalises target rows', async () => {
    const x = inputs(30, 6, 3);
    const run = async (q: Float32Array) => {
      const { model, trainer, done } = setup(7);
      await digestEpoch(trainer, { publicX: x, targets: q, temperature: 3, batchSize: 8, seed: 11 });
      const p = await predictPublic(model, x, SHAPE, 1);
      done();
      return p;
    };
    const a = await run(rows(30, [0.6, 0.3, 0.1]));
    const b = await run(rows(30, [6, 3, 1]));
    assert.deepEqual(Array.from(a), Array.from(b));
  });

  test('rejects inputs that do not fit, without leaking tensors', async () => {
    const { trainer, done } = setup();
    const x = inputs(12, 6, 5);
    // The first step creates Adam's moment variables; from then on the count must stay put.
    await digestEpoch(trainer, { publicX: x, targets: rows(12, [0.2, 0.3, 0.5]), temperature: 3 });
    const before = tf.memory().numTensors;
    await assert.rejects(
      digestEpoch(trainer, { publicX: inputs(9, 6, 1), targets: rows(10, [1, 0, 0]), temperature: 1 }),
      /publicX has 54 values; 10 target rows/,
    );
    await assert.rejects(
      digestEpoch(trainer, { publicX: inputs(1, 6, 1), targets: rows(1, [1, 0, 0]), temperature: 0 }),
      /temperature/,
    );
    await assert.rejects(
      digestEpoch(trainer, {
        publicX: inputs(1, 6, 1),
        targets: new Float32Array([1, -1, 0]),
        temperature: 1,
      }),
      /finite and >= 0/,
    );
    for (let i = 0; i < 3; i++) {
      await digestEpoch(trainer, {
        publicX: x,
        targets: rows(12, [0.2, 0.3, 0.5]),
        temperature: 3,
        batchSize: 5,
      });
    }
    assert.equal(tf.memory().numTensors, before);
    done();
  });
});
