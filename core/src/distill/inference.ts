/** Tempered predictions on the public set (what a participant uploads) and evaluation on labelled data. */
import * as tf from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from '../data/dataset.ts';
import { checkDataset, checkSampleShape, checkTemperature, modelIo, positiveInt } from './checks.ts';
import { forward } from './forward.ts';
import { crossEntropyLoss, softmaxT } from './loss.ts';
import { yieldToEventLoop } from './rows.ts';

/**
 * Tempered probabilities softmax(f(u)/T) for every public sample: what a participant
 * uploads. Returns n×C row-major, each row summing to 1. Runs in batches of `batchSize`
 * so memory stays bounded, yielding to the event loop between batches.
 *
 * @param x n·prod(shape) values, row-major (NHWC for images).
 * @param shape shape of one sample, e.g. [28, 28, 1].
 */
export async function predictPublic(
  model: tf.LayersModel,
  x: Float32Array,
  shape: readonly number[],
  temperature: number,
  batchSize = 256,
): Promise<Float32Array> {
  checkTemperature(temperature);
  positiveInt('batchSize', batchSize);
  const { inputShape, numClasses: C } = modelIo(model);
  checkSampleShape('predictPublic', shape, inputShape);
  const size = sampleSize(shape);
  const n = x.length / size;
  if (!Number.isInteger(n)) {
    throw new RangeError(`predictPublic: ${x.length} values are not a whole number of samples [${shape}]`);
  }
  const out = new Float32Array(n * C);
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const probs = tf.tidy(() => {
      const xb = tf.tensor(x.subarray(start * size, (start + count) * size), [count, ...shape]);
      return softmaxT(forward(model, xb, false), temperature);
    });
    try {
      out.set((await probs.data()) as Float32Array, start * C);
    } finally {
      probs.dispose();
    }
    await yieldToEventLoop();
  }
  return out;
}

export interface EvaluateOptions {
  batchSize?: number;
}

export interface Evaluation {
  /** Fraction of samples whose arg-max logit is the label. */
  accuracy: number;
  /** Mean cross-entropy (T = 1). */
  loss: number;
  n: number;
}

/** Accuracy and mean cross-entropy of `model` on `ds`, in batches. */
export async function evaluate(
  model: tf.LayersModel,
  ds: Dataset,
  opts: EvaluateOptions = {},
): Promise<Evaluation> {
  const { inputShape, numClasses } = modelIo(model);
  checkDataset('evaluate', ds, inputShape, numClasses);
  const batchSize = positiveInt('batchSize', opts.batchSize ?? 256);
  const size = sampleSize(ds.shape);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < ds.n; start += batchSize) {
    const count = Math.min(batchSize, ds.n - start);
    const stats = tf.tidy(() => {
      const xb = tf.tensor(ds.x.subarray(start * size, (start + count) * size), [count, ...ds.shape]);
      const yb = tf.tensor1d(ds.y.subarray(start, start + count), 'int32');
      const logits = forward(model, xb, false);
      const ceSum = tf.mul(crossEntropyLoss(logits, yb), count);
      const hits = tf.sum(tf.equal(tf.argMax(logits, -1), yb).toFloat());
      return tf.stack([ceSum, hits]);
    });
    let values: Float32Array;
    try {
      values = (await stats.data()) as Float32Array;
    } finally {
      stats.dispose();
    }
    lossSum += values[0]!;
    correct += values[1]!;
    await yieldToEventLoop();
  }
  return { accuracy: correct / ds.n, loss: lossSum / ds.n, n: ds.n };
}
