/**
 * Local training for one participant around the learning rule (loss.ts): one step, one
 * epoch over the private data with the public rows cycled alongside. Returns plain numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from '../data/dataset.ts';
import { fusedAdam } from '../fused-adam.ts';
import {
  checkBatch,
  checkDataset,
  checkLambda,
  checkTemperature,
  modelIo,
  normalizedTargets,
  positiveInt,
} from './checks.ts';
import { forward, readAndDispose } from './forward.ts';
import { combinedLoss, type DistillSettings } from './loss.ts';
import { gatherLabels, gatherRows, identity, mulberry32, shuffleInPlace, yieldToEventLoop } from './rows.ts';

export interface TrainerOptions {
  /** Adam learning rate; default 1e-3. */
  learningRate?: number;
  /**
   * Called after every optimizer step, outside its tidy: e.g. a MagnitudePruner
   * re-applying its masks (compress/prune.ts).
   */
  afterStep?: () => void;
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
  private readonly afterStep: (() => void) | undefined;

  constructor(model: tf.LayersModel, opts: TrainerOptions = {}) {
    const learningRate = opts.learningRate ?? 1e-3;
    if (!(Number.isFinite(learningRate) && learningRate > 0)) {
      throw new RangeError(`Trainer: learningRate must be a positive number, got ${learningRate}`);
    }
    this.model = model;
    this.learningRate = learningRate;
    // tf.train.adam's maths, with one fused kernel per small variable on wasm (fused-adam.ts).
    this.optimizer = fusedAdam(learningRate);
    this.afterStep = opts.afterStep;
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
      this.afterStep?.();
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
