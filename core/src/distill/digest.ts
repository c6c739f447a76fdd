/**
 * The digest pass (FedMD, "digest then revisit"): before local training, passes over the
 * consensus rows with the distillation term alone,
 *
 *     L = T^2 · KL( q || softmax(f(u) / T) )      for minibatches u of the target rows,
 *
 * no private data and no λ (λ balances the KL term against the cross-entropy, which is
 * absent here). The interleaved KL term of the local epochs (trainer.ts) then revisits the
 * same rows alongside the private data. Uses the trainer's Adam optimizer, so its moments
 * carry over into the local epochs.
 */
import * as tf from '@tensorflow/tfjs';
import { checkTemperature, modelIo, normalizedTargets, positiveInt } from './checks.ts';
import { forward, readAndDispose } from './forward.ts';
import { mutualKlLoss } from './loss.ts';
import { gatherRows, identity, mulberry32, shuffleInPlace, yieldToEventLoop } from './rows.ts';
import type { Trainer } from './trainer.ts';

export interface DigestOptions {
  /** Public inputs, n·prod(inputShape) values, row-aligned with `targets`. */
  publicX: Float32Array;
  /** Consensus targets, n×C row-major; rows are renormalised to sum to 1. */
  targets: Float32Array;
  temperature: number;
  /** Rows per step; default 32. */
  batchSize?: number;
  /** Seed of the row order; default random. */
  seed?: number;
  /** Stops between steps, rejecting with signal.reason. */
  signal?: AbortSignal;
}

export interface DigestResult {
  steps: number;
  /** Target rows seen (the pass covers each row once). */
  rows: number;
  /** Mean T²·KL over the steps, before each step's update. */
  kl: number;
}

/** One pass over the target rows in a shuffled order, one optimizer step per minibatch. */
export async function digestEpoch(trainer: Trainer, opts: DigestOptions): Promise<DigestResult> {
  const { inputShape, numClasses: C } = modelIo(trainer.model);
  checkTemperature(opts.temperature);
  const batchSize = positiveInt('batchSize', opts.batchSize ?? 32);
  const size = inputShape.reduce((a, b) => a * b, 1);
  const q = normalizedTargets(opts.targets, C);
  const n = q.length / C;
  if (opts.publicX.length !== n * size) {
    throw new RangeError(
      `digestEpoch: publicX has ${opts.publicX.length} values; ${n} target rows of samples [${inputShape}] need ${n * size}`,
    );
  }
  const order = identity(n);
  shuffleInPlace(order, mulberry32(opts.seed ?? Math.floor(Math.random() * 2 ** 32)));
  const vars = trainer.model.trainableWeights.map((w) => w.read() as tf.Variable);
  let steps = 0;
  let klSum = 0;
  for (let start = 0; start < n; start += batchSize) {
    opts.signal?.throwIfAborted();
    const rows = order.subarray(start, Math.min(n, start + batchSize));
    const x = tf.tensor(gatherRows(opts.publicX, rows, size, true), [rows.length, ...inputShape]);
    const t = tf.tensor2d(gatherRows(q, rows, C, true), [rows.length, C]);
    try {
      const kl = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => mutualKlLoss(forward(trainer.model, x, true), t, opts.temperature),
          vars,
        );
        trainer.optimizer.applyGradients(grads);
        return value;
      });
      klSum += readAndDispose(kl)[0]!;
    } finally {
      x.dispose();
      t.dispose();
    }
    steps++;
    await yieldToEventLoop();
  }
  return { steps, rows: n, kl: steps > 0 ? klSum / steps : 0 };
}
