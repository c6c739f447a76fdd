/**
 * Local mutual learning (Deep Mutual Learning, Zhang et al. 2018) without a coordinator:
 * k models train together on ONE data set, each with the federation's loss
 *
 *     L_i = CE(y, softmax(f_i(x)))  +  λ·T²·KL( q_{-i}(x) || softmax(f_i(x)/T) )
 *
 * where q_{-i} is the mean of the OTHER models' tempered predictions on the same minibatch
 * (the leave-one-out mean the coordinator computes, here on the private batch itself).
 * The loss is core's (Trainer.trainStep → combinedLoss); this file only decides the targets.
 *
 * The same loop runs the two baselines: `alone` (no KL term) and `teacher` (one-way
 * distillation: every student's target is a fixed pre-trained teacher's tempered
 * prediction). Targets are computed from all models before any of them steps, so the
 * order of the cohort does not matter.
 */
import * as tf from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from '../data/dataset.ts';
import { forward } from '../distill/forward.ts';
import { softmaxT } from '../distill/loss.ts';
import {
  gatherLabels,
  gatherRows,
  identity,
  mulberry32,
  shuffleInPlace,
  yieldToEventLoop,
} from '../distill/rows.ts';
import type { Trainer } from '../distill/trainer.ts';

export type CohortMode = 'alone' | 'mutual' | 'teacher';

export interface CohortEpochOptions {
  mode: CohortMode;
  /** mode 'teacher': the fixed teacher (never trained here). */
  teacher?: tf.LayersModel;
  /**
   * mode 'teacher', instead of `teacher`: its tempered predictions on every row of `ds`
   * (row-major n × classes, from {@link teacherTargets} at the same temperature). The
   * teacher is fixed, so this is the same target without a teacher forward pass per
   * minibatch, per epoch and per student.
   */
  teacherProbs?: Float32Array;
  /** Temperature T of the KL term (modes mutual, teacher). */
  temperature: number;
  /** Weight λ of the KL term (modes mutual, teacher). */
  lambda: number;
  batchSize?: number;
  /** Shuffle seed of this epoch (pass base + epoch). */
  seed: number;
  onBatch?: (p: { batch: number; batches: number; loss: number }) => void;
  signal?: AbortSignal;
}

export interface CohortEpochResult {
  steps: number;
  /** Per member: mean loss (CE + λ·KL) and mean KL over the epoch. */
  loss: number[];
  kl: number[];
}

/**
 * Leave-one-out means: out[i] = mean_{j≠i} probs[j]. With one member there is no peer and
 * the result is empty. Each returned tensor is new.
 */
export function leaveOneOutMeans(probs: readonly tf.Tensor[]): tf.Tensor[] {
  const k = probs.length;
  if (k < 2) return [];
  return tf.tidy(() => {
    const sum = tf.addN(probs as tf.Tensor[]);
    return probs.map((p) => tf.keep(tf.div(tf.sub(sum, p), k - 1)));
  });
}

/** One epoch of the cohort over `ds` in one shared shuffled order. */
export async function trainCohortEpoch(
  trainers: readonly Trainer[],
  ds: Dataset,
  opts: CohortEpochOptions,
): Promise<CohortEpochResult> {
  if (trainers.length === 0) throw new RangeError('trainCohortEpoch: no models');
  if (opts.mode === 'mutual' && trainers.length < 2) {
    throw new RangeError('trainCohortEpoch: mutual learning needs at least two models');
  }
  if (opts.mode === 'teacher' && !opts.teacher && !opts.teacherProbs) {
    throw new TypeError("trainCohortEpoch: mode 'teacher' needs a teacher model or its predictions");
  }
  const classes = opts.teacherProbs ? opts.teacherProbs.length / ds.n : 0;
  if (opts.teacherProbs && (!Number.isInteger(classes) || classes < 1)) {
    throw new RangeError(
      `trainCohortEpoch: teacherProbs has ${opts.teacherProbs.length} values, not a multiple of ${ds.n} rows`,
    );
  }
  const batchSize = opts.batchSize ?? 32;
  const size = sampleSize(ds.shape);
  const order = identity(ds.n);
  shuffleInPlace(order, mulberry32(opts.seed));
  const batches = Math.ceil(ds.n / batchSize);
  const k = trainers.length;
  const loss = new Array<number>(k).fill(0);
  const kl = new Array<number>(k).fill(0);
  const settings = { temperature: opts.temperature, lambda: opts.lambda };
  for (let b = 0; b < batches; b++) {
    opts.signal?.throwIfAborted();
    const rows = order.subarray(b * batchSize, Math.min(ds.n, (b + 1) * batchSize));
    const x = tf.tensor(gatherRows(ds.x, rows, size, true), [rows.length, ...ds.shape]);
    const y = tf.tensor1d(gatherLabels(ds.y, rows), 'int32');
    let targets: tf.Tensor[] = [];
    try {
      if (opts.mode === 'mutual') {
        const probs = trainers.map((t) =>
          tf.tidy(() => softmaxT(forward(t.model, x, false), opts.temperature)),
        );
        targets = leaveOneOutMeans(probs);
        tf.dispose(probs);
      } else if (opts.mode === 'teacher') {
        const q = opts.teacherProbs
          ? tf.tensor2d(gatherRows(opts.teacherProbs, rows, classes, true), [rows.length, classes])
          : tf.tidy(() => softmaxT(forward(opts.teacher!, x, false), opts.temperature));
        targets = trainers.map(() => q);
      }
      let last = 0;
      trainers.forEach((t, i) => {
        const target = targets[i];
        const r = target ? t.trainStep({ x, y }, { x, targets: target }, settings) : t.trainStep({ x, y });
        loss[i]! += r.loss / batches;
        kl[i]! += r.kl / batches;
        last = r.loss;
      });
      opts.onBatch?.({ batch: b + 1, batches, loss: last });
    } finally {
      tf.dispose([x, y, ...new Set(targets)]);
    }
    await yieldToEventLoop();
  }
  return { steps: batches, loss, kl };
}

/**
 * A fixed teacher's tempered predictions softmax(f(x)/T) on every row of `ds`, in
 * inference mode, row-major n × classes: the targets of one-way distillation, computed once
 * instead of once per minibatch, epoch and student.
 */
export async function teacherTargets(
  teacher: tf.LayersModel,
  ds: Dataset,
  temperature: number,
  batchSize = 256,
): Promise<Float32Array> {
  const size = sampleSize(ds.shape);
  let out: Float32Array | undefined;
  let classes = 0;
  for (let start = 0; start < ds.n; start += batchSize) {
    const end = Math.min(ds.n, start + batchSize);
    const q = tf.tidy(() => {
      const x = tf.tensor(ds.x.subarray(start * size, end * size), [end - start, ...ds.shape]);
      return softmaxT(forward(teacher, x, false), temperature);
    });
    const values = (await q.data()) as Float32Array;
    q.dispose();
    if (!out) {
      classes = values.length / (end - start);
      out = new Float32Array(ds.n * classes);
    }
    out.set(values, start * classes);
    await yieldToEventLoop();
  }
  return out ?? new Float32Array(0);
}
