/**
 * The mutual-distillation learning rule (ARCHITECTURE.md, "The learning rule") and the
 * local training loop around it. Pure @tensorflow/tfjs: runs on any backend, in Node or
 * a browser.
 *
 *     L = CE(y, softmax(f(x)))  +  lambda * T^2 * KL( q || softmax(f(u) / T) )
 *
 * x, y: a private labeled minibatch; u: a minibatch of the public batch; q: the consensus
 * targets for u (the leave-one-out aggregate of the peers' tempered predictions). Without
 * targets (the first rounds) the KL term is absent and L is plain cross-entropy.
 *
 * Everything here disposes what it creates: the maths functions return one new tensor
 * (call them inside tf.tidy or dispose the result), the loops return plain numbers and
 * typed arrays.
 */
import * as tf from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from './data/dataset.ts';

// --- the maths -----------------------------------------------------------------------

/** log softmax(logits / T) along the last axis, computed in log space (never log(softmax)). */
export function logSoftmaxT<R extends tf.Rank>(logits: tf.Tensor<R>, temperature: number): tf.Tensor<R> {
  checkTemperature(temperature);
  return tf.tidy(() => tf.logSoftmax(temperature === 1 ? logits : tf.div<tf.Tensor<R>>(logits, temperature)));
}

/** softmax(logits / T) along the last axis: the tempered probabilities participants share. */
export function softmaxT<R extends tf.Rank>(logits: tf.Tensor<R>, temperature: number): tf.Tensor<R> {
  checkTemperature(temperature);
  return tf.tidy(() => tf.softmax(temperature === 1 ? logits : tf.div<tf.Tensor<R>>(logits, temperature)));
}

/**
 * T^2 · mean over the batch of KL(q || p_T), p_T = softmax(studentLogits / T):
 *
 *     T^2 / B · Σ_b Σ_c q_bc · (log q_bc − logSoftmax(z_b / T)_c)
 *
 * Terms with q = 0 contribute exactly 0 (0·log 0 = 0), so sparse targets (top-k) give a
 * finite loss and gradient. Targets are constants: no gradient flows into them. With
 * rows of q summing to 1 the gradient w.r.t. the logits is T·(p_T − q)/B, whose scale
 * does not depend on T (Hinton et al.).
 *
 * @param studentLogits [B, C] raw logits of the model being trained.
 * @param targetProbs [B, C] target probabilities (rows should sum to 1).
 */
export function mutualKlLoss(
  studentLogits: tf.Tensor,
  targetProbs: tf.Tensor,
  temperature: number,
): tf.Scalar {
  checkTemperature(temperature);
  checkSameShape2d('mutualKlLoss', studentLogits, targetProbs, 'targetProbs');
  return tf.tidy(() => {
    const q = targetProbs.toFloat();
    const logP = logSoftmaxT(studentLogits, temperature);
    const positive = tf.greater(q, 0);
    // log(1) = 0 where q = 0, so neither branch of the `where` produces a NaN or an
    // infinite gradient; the `where` also drops 0 · (−∞) if a logit is ±∞.
    const logQ = tf.log(tf.where(positive, q, tf.onesLike(q)));
    const terms = tf.where(positive, tf.mul(q, tf.sub(logQ, logP)), tf.zerosLike(q));
    return tf.mul(tf.mean(tf.sum(terms, -1)), temperature * temperature) as tf.Scalar;
  });
}

/**
 * Mean cross-entropy CE(y, softmax(logits)) over the batch.
 * @param logits [B, C] raw logits.
 * @param labels [B] class indices (int32; other dtypes are cast).
 */
export function crossEntropyLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  if (logits.rank !== 2)
    throw new RangeError(`crossEntropyLoss: logits must be [batch, classes], got [${logits.shape}]`);
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new RangeError(
      `crossEntropyLoss: labels must be [${logits.shape[0]}] class indices, got [${labels.shape}]`,
    );
  }
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels.dtype === 'int32' ? labels : labels.toInt(), logits.shape[1]!);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  });
}

export interface DistillSettings {
  /** Softmax temperature T > 0, a federation setting. */
  temperature: number;
  /** Weight λ >= 0 of the distillation term, a federation setting. */
  lambda: number;
}

export interface LossParts {
  /** ce + λ·kl, or ce alone when there are no targets. */
  loss: tf.Scalar;
  ce: tf.Scalar;
  /** mutualKlLoss (already scaled by T²), or null when there are no targets. */
  kl: tf.Scalar | null;
}

/**
 * The participant's loss L = CE + λ·T²·KL. Pass `distill` = null/undefined when there
 * is no consensus yet: the KL term is then absent (not zero-weighted) and `loss` is `ce`.
 * The returned tensors are new; dispose them (or call inside tf.tidy). `loss` may be
 * the same tensor as `ce`.
 */
export function combinedLoss(
  privateBatch: { logits: tf.Tensor; labels: tf.Tensor },
  distill: { logits: tf.Tensor; targets: tf.Tensor } | null | undefined,
  settings?: DistillSettings,
): LossParts {
  const ce = crossEntropyLoss(privateBatch.logits, privateBatch.labels);
  if (!distill) return { loss: ce, ce, kl: null };
  if (!settings) {
    ce.dispose();
    throw new TypeError('combinedLoss: { temperature, lambda } are required with distillation targets');
  }
  try {
    checkLambda(settings.lambda);
  } catch (err) {
    ce.dispose();
    throw err;
  }
  let kl: tf.Scalar;
  try {
    kl = mutualKlLoss(distill.logits, distill.targets, settings.temperature);
  } catch (err) {
    ce.dispose();
    throw err;
  }
  const loss = tf.tidy(() => tf.add(ce, tf.mul(kl, settings.lambda)) as tf.Scalar);
  return { loss, ce, kl };
}

// --- one step --------------------------------------------------------------------------

export interface TrainerOptions {
  /** Adam learning rate; default 1e-3. */
  learningRate?: number;
}

/** Plain numbers from one step: loss = ce + λ·kl; kl is 0 when the step had no targets. */
export interface StepResult {
  loss: number;
  ce: number;
  kl: number;
}

export interface PrivateBatch {
  /** [B, ...sampleShape] inputs. */
  x: tf.Tensor;
  /** [B] class indices, int32. */
  y: tf.Tensor;
}

export interface PublicBatch {
  /** [P, ...sampleShape] public inputs. */
  x: tf.Tensor;
  /** [P, C] consensus probabilities for those inputs. */
  targets: tf.Tensor;
}

export interface EpochOptions {
  /** Private minibatch size; default 32. The last batch may be smaller. */
  batchSize?: number;
  /** Public minibatch size per step; default batchSize. */
  publicBatchSize?: number;
  /** Shuffle the private data (and the public cycle); default true. */
  shuffle?: boolean;
  /**
   * Seed of the shuffles (private order and public cycle). Same seed, same order; pass a
   * different seed each epoch (e.g. base + epoch) so successive epochs differ. Default: random.
   */
  seed?: number;
  /** Public inputs, n·prod(ds.shape) values, row-aligned with `targets`. */
  publicX?: Float32Array;
  /** Consensus targets, n×C row-major. Absent or null: no distillation (first rounds). */
  targets?: Float32Array | null;
  /** Required with targets. */
  temperature?: number;
  /** Required with targets. */
  lambda?: number;
  /** Called after every step. */
  onBatch?: (progress: BatchProgress) => void;
  /** Stops between steps, rejecting with signal.reason (e.g. the round closed). */
  signal?: AbortSignal;
}

export interface BatchProgress extends StepResult {
  /** 1-based index of the step just taken. */
  batch: number;
  batches: number;
  /** Private samples seen so far in this epoch. */
  samples: number;
}

export interface EpochResult {
  steps: number;
  samples: number;
  /** Public samples used in distillation steps (0 without targets). */
  publicSamples: number;
  /** Means over the epoch, weighted by private batch size. */
  loss: number;
  ce: number;
  /** Mean over the steps (0 without targets). */
  kl: number;
}

/**
 * Local training for one participant: owns an Adam optimizer whose moments persist
 * across steps, epochs and rounds. Call dispose() when done with it.
 */
export class Trainer {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly learningRate: number;
  private readonly inputShape: number[];
  private readonly numClasses: number;

  constructor(model: tf.LayersModel, opts: TrainerOptions = {}) {
    const learningRate = opts.learningRate ?? 1e-3;
    if (!(Number.isFinite(learningRate) && learningRate > 0)) {
      throw new RangeError(`Trainer: learningRate must be a positive number, got ${learningRate}`);
    }
    this.model = model;
    this.learningRate = learningRate;
    this.optimizer = tf.train.adam(learningRate);
    ({ inputShape: this.inputShape, numClasses: this.numClasses } = modelIo(model));
  }

  /**
   * One optimizer step on L = CE(private batch) [+ λ·T²·KL(public batch)], inside tf.tidy
   * with tf.variableGrads. The caller keeps ownership of the batch tensors.
   */
  trainStep(batch: PrivateBatch, publicBatch?: PublicBatch | null, settings?: DistillSettings): StepResult {
    checkBatch('trainStep', batch.x, this.inputShape);
    if (batch.y.rank !== 1 || batch.y.shape[0] !== batch.x.shape[0]) {
      throw new RangeError(
        `trainStep: y must be [${batch.x.shape[0]}] class indices, got [${batch.y.shape}]`,
      );
    }
    if (publicBatch) {
      checkBatch('trainStep (public)', publicBatch.x, this.inputShape);
      const t = publicBatch.targets;
      if (t.rank !== 2 || t.shape[0] !== publicBatch.x.shape[0] || t.shape[1] !== this.numClasses) {
        throw new RangeError(
          `trainStep: targets must be [${publicBatch.x.shape[0]}, ${this.numClasses}], got [${t.shape}]`,
        );
      }
      if (!settings)
        throw new TypeError('trainStep: { temperature, lambda } are required with a public batch');
      checkTemperature(settings.temperature);
      checkLambda(settings.lambda);
    }

    const vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    // ce and kl must outlive variableGrads' own tidy to be reported; they are kept, then
    // disposed here (once each, even when loss and ce are the same tensor).
    const kept: tf.Tensor[] = [];
    try {
      const summary = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const logits = forward(this.model, batch.x, true);
          const distill = publicBatch
            ? { logits: forward(this.model, publicBatch.x, true), targets: publicBatch.targets }
            : null;
          const parts = combinedLoss({ logits, labels: batch.y }, distill, settings);
          kept.push(tf.keep(parts.ce));
          if (parts.kl) kept.push(tf.keep(parts.kl));
          return parts.loss;
        }, vars);
        this.optimizer.applyGradients(grads);
        return tf.stack([value, kept[0]!, kept[1] ?? tf.scalar(0)]);
      });
      const [loss, ce, kl] = readAndDispose(summary);
      return { loss: loss!, ce: ce!, kl: kl! };
    } finally {
      for (const t of kept) t.dispose();
    }
  }

  /**
   * One pass over the private data set.
   *
   * Schedule: every step takes the next private minibatch and, when targets are given,
   * also the next `publicBatchSize` rows of the public set, cycling through it in a
   * shuffled order (reshuffled on each wrap-around), so the two loss terms are
   * optimised together as in the learning rule. An epoch is one pass over the private
   * data; it may see the public set less or more than once.
   *
   * Targets are validated (finite, non-negative) and each row is renormalised to sum to
   * 1, so quantised or top-k decoded consensus rows can be passed as they are.
   * Yields to the event loop between steps so heartbeats keep flowing.
   */
  async trainEpoch(ds: Dataset, opts: EpochOptions = {}): Promise<EpochResult> {
    checkDataset('trainEpoch', ds, this.inputShape, this.numClasses);
    const batchSize = positiveInt('batchSize', opts.batchSize ?? 32);
    const size = sampleSize(ds.shape);
    const shuffle = opts.shuffle ?? true;
    const rng = mulberry32(opts.seed ?? Math.floor(Math.random() * 2 ** 32));

    let pub: { x: Float32Array; q: Float32Array; n: number; batch: number } | null = null;
    let settings: DistillSettings | undefined;
    if (opts.targets) {
      if (!opts.publicX) throw new TypeError('trainEpoch: publicX is required with targets');
      if (opts.temperature === undefined || opts.lambda === undefined) {
        throw new TypeError('trainEpoch: temperature and lambda are required with targets');
      }
      checkTemperature(opts.temperature);
      checkLambda(opts.lambda);
      settings = { temperature: opts.temperature, lambda: opts.lambda };
      const q = normalizedTargets(opts.targets, this.numClasses);
      const n = q.length / this.numClasses;
      if (opts.publicX.length !== n * size) {
        throw new RangeError(
          `trainEpoch: publicX has ${opts.publicX.length} values; ${n} target rows of samples [${ds.shape}] need ${n * size}`,
        );
      }
      pub = {
        x: opts.publicX,
        q,
        n,
        batch: positiveInt('publicBatchSize', opts.publicBatchSize ?? batchSize),
      };
    }

    const order = identity(ds.n);
    if (shuffle) shuffleInPlace(order, rng);
    const pubOrder = pub ? identity(pub.n) : null;
    if (pub && pubOrder && shuffle) shuffleInPlace(pubOrder, rng);
    let pubCursor = 0;

    const batches = Math.ceil(ds.n / batchSize);
    const C = this.numClasses;
    let samples = 0;
    let publicSamples = 0;
    let lossSum = 0;
    let ceSum = 0;
    let klSum = 0;
    for (let b = 0; b < batches; b++) {
      opts.signal?.throwIfAborted();
      const start = b * batchSize;
      const count = Math.min(batchSize, ds.n - start);
      const rows = order.subarray(start, start + count);
      const tensors: tf.Tensor[] = [];
      let result: StepResult;
      try {
        const x = tf.tensor(gatherRows(ds.x, rows, size, shuffle), [count, ...ds.shape]);
        const y = tf.tensor1d(
          shuffle ? gatherLabels(ds.y, rows) : ds.y.subarray(start, start + count),
          'int32',
        );
        tensors.push(x, y);
        let publicBatch: PublicBatch | null = null;
        if (pub && pubOrder) {
          const take = Math.min(pub.batch, pub.n);
          const pubRows = new Int32Array(take);
          for (let k = 0; k < take; k++) {
            if (pubCursor === pub.n) {
              pubCursor = 0;
              if (shuffle) shuffleInPlace(pubOrder, rng);
            }
            pubRows[k] = pubOrder[pubCursor++]!;
          }
          const px = tf.tensor(gatherRows(pub.x, pubRows, size, true), [take, ...ds.shape]);
          const pq = tf.tensor2d(gatherRows(pub.q, pubRows, C, true), [take, C]);
          tensors.push(px, pq);
          publicBatch = { x: px, targets: pq };
          publicSamples += take;
        }
        result = this.trainStep({ x, y }, publicBatch, settings);
      } finally {
        for (const t of tensors) t.dispose();
      }
      samples += count;
      lossSum += result.loss * count;
      ceSum += result.ce * count;
      klSum += result.kl;
      opts.onBatch?.({ ...result, batch: b + 1, batches, samples });
      await yieldToEventLoop();
    }
    return {
      steps: batches,
      samples,
      publicSamples,
      loss: lossSum / samples,
      ce: ceSum / samples,
      kl: pub ? klSum / batches : 0,
    };
  }

  /** Releases the optimizer's state (Adam moments). The model is the caller's. */
  dispose(): void {
    this.optimizer.dispose();
  }
}

// --- prediction and evaluation ---------------------------------------------------------

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

// --- internals -------------------------------------------------------------------------

function forward(model: tf.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  return model.apply(x, { training }) as tf.Tensor;
}

function readAndDispose(t: tf.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

function modelIo(model: tf.LayersModel): { inputShape: number[]; numClasses: number } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new TypeError('expected a model with one input and one output');
  }
  const inShape = model.inputs[0]!.shape.slice(1);
  const outShape = model.outputs[0]!.shape;
  if (inShape.some((d) => d === null) || outShape.length !== 2 || outShape[1] === null) {
    throw new TypeError(
      `expected a model with a fixed input shape and [batch, classes] logits, got ` +
        `[${model.inputs[0]!.shape}] -> [${outShape}]`,
    );
  }
  return { inputShape: inShape as number[], numClasses: outShape[1] };
}

function checkSampleShape(where: string, shape: readonly number[], inputShape: number[]): void {
  if (shape.length !== inputShape.length || shape.some((d, i) => d !== inputShape[i])) {
    throw new RangeError(
      `${where}: samples of shape [${shape}] do not fit the model's input [${inputShape}]`,
    );
  }
}

function checkBatch(where: string, x: tf.Tensor, inputShape: number[]): void {
  checkSampleShape(where, x.shape.slice(1), inputShape);
}

function checkDataset(where: string, ds: Dataset, inputShape: number[], numClasses: number): void {
  checkSampleShape(where, ds.shape, inputShape);
  if (ds.numClasses !== numClasses) {
    throw new RangeError(`${where}: data set has ${ds.numClasses} classes, the model outputs ${numClasses}`);
  }
  if (ds.n < 1) throw new RangeError(`${where}: the data set is empty`);
  if (ds.x.length !== ds.n * sampleSize(ds.shape) || ds.y.length !== ds.n) {
    throw new RangeError(`${where}: data set arrays do not hold n = ${ds.n} samples of shape [${ds.shape}]`);
  }
  for (let i = 0; i < ds.n; i++) {
    const label = ds.y[i]!;
    if (label < 0 || label >= numClasses) {
      throw new RangeError(`${where}: label ${label} of sample ${i} outside [0, ${numClasses})`);
    }
  }
}

function checkSameShape2d(where: string, a: tf.Tensor, b: tf.Tensor, bName: string): void {
  if (a.rank !== 2) throw new RangeError(`${where}: logits must be [batch, classes], got [${a.shape}]`);
  if (b.rank !== 2 || b.shape[0] !== a.shape[0] || b.shape[1] !== a.shape[1]) {
    throw new RangeError(`${where}: ${bName} must be [${a.shape}] like the logits, got [${b.shape}]`);
  }
}

function checkTemperature(t: number): void {
  if (!(Number.isFinite(t) && t > 0)) throw new RangeError(`temperature must be a positive number, got ${t}`);
}

function checkLambda(lambda: number): void {
  if (!(Number.isFinite(lambda) && lambda >= 0)) {
    throw new RangeError(`lambda must be a finite number >= 0, got ${lambda}`);
  }
}

function positiveInt(name: string, v: number): number {
  if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** A copy of `targets` with each row scaled to sum to 1; rejects NaN, negatives, zero rows. */
function normalizedTargets(targets: Float32Array, C: number): Float32Array {
  const n = targets.length / C;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `targets: ${targets.length} values are not a whole number (>= 1) of rows of ${C} classes`,
    );
  }
  const q = new Float32Array(targets.length);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const v = targets[i * C + c]!;
      if (!(Number.isFinite(v) && v >= 0)) {
        throw new RangeError(`targets: row ${i} has ${v}; probabilities must be finite and >= 0`);
      }
      sum += v;
    }
    if (sum === 0) throw new RangeError(`targets: row ${i} is all zeros`);
    for (let c = 0; c < C; c++) q[i * C + c] = targets[i * C + c]! / sum;
  }
  return q;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Rows `rows` of a row-major array; a zero-copy view when they are contiguous and in order. */
function gatherRows(src: Float32Array, rows: Int32Array, width: number, copy: boolean): Float32Array {
  if (!copy) {
    const first = rows[0]!;
    return src.subarray(first * width, (first + rows.length) * width);
  }
  const out = new Float32Array(rows.length * width);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    out.set(src.subarray(r * width, (r + 1) * width), k * width);
  }
  return out;
}

function gatherLabels(y: Int32Array, rows: Int32Array): Int32Array {
  const out = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = y[rows[k]!]!;
  return out;
}

/** Seeded PRNG (mulberry32): reproducible shuffles across runs and platforms. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffleInPlace(a: Int32Array, rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** A macrotask boundary: setImmediate in Node, a MessageChannel hop in browsers (not throttled like timers). */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
