/**
 * The Learner a ParticipantSession drives, implemented with TensorFlow.js and the training
 * loop of distill.ts: each task runs `distillEpochs` distillation-only passes over the targets'
 * rows (when it holds targets), then `localEpochs` passes over the private data with the
 * mutual KL term toward the consensus on the public samples it covers, then predicts
 * tempered probabilities on the task's public batch.
 *
 * The model is the caller's: the learner trains it in place, never disposes it, and keeps
 * only an Adam optimizer (released by dispose()). Every path disposes its tensors; the
 * learner's own tests check tf.memory().numTensors across rounds.
 */
import type { PublicSet } from '@mutua/proto';
import * as tf from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from '../data/dataset.ts';
import { digestEpoch, type EpochResult, evaluate, predictPublic, Trainer } from '../distill.ts';
import { fnv1a64 } from './hash.ts';
import type { Learner, LearnerMetrics, TrainArgs } from './learner.ts';

export interface TfLearnerSettings {
  /** Private minibatch size; default 32. */
  batchSize?: number;
  /** Public (distillation) minibatch size per step; default batchSize. */
  publicBatchSize?: number;
  /** Adam learning rate; default 1e-3. */
  learningRate?: number;
  /**
   * Base seed of the shuffles. With it, round r epoch e uses a seed derived from (seed, r, e),
   * so a simulation is reproducible; without it, shuffles are random.
   */
  seed?: number;
  /** Samples per forward pass when predicting and evaluating; default 256. */
  predictBatchSize?: number;
  /** Measure accuracy on the private training set after each task; default true. */
  evaluateTrain?: boolean;
  /**
   * With a testDs: score the FedAvg global weights on it whenever they are loaded, before
   * local training moves them (default true). Scoring only after local training would
   * measure each participant's drift on its own skewed shard, not the federation's model.
   */
  evaluateGlobal?: boolean;
  /** Called after every optimizer step (e.g. a MagnitudePruner re-applying its masks). */
  afterStep?: () => void;
}

export interface TfLearnerOptions {
  /** A single-input model emitting [batch, classes] logits (models.ts). */
  model: tf.LayersModel;
  /** The private labeled data. */
  trainDs: Dataset;
  /** A held-out slice of the participant's own data: reported as val_accuracy. */
  valDs?: Dataset;
  /** Simulations only: a shared held-out test set, reported as test_accuracy. */
  testDs?: Dataset;
  /** The decoded public set (required to distill and to predict). */
  publicSet?: PublicSet;
  settings?: TfLearnerSettings;
  /** Called after global weights were scored on testDs (see evaluateGlobal). */
  onGlobalEvaluated?: (e: GlobalEvaluation) => void;
}

export interface GlobalEvaluation {
  /** The round whose aggregate the weights are. */
  round: number;
  /** Accuracy on testDs. */
  accuracy: number;
}

export interface TfLearner extends Learner {
  readonly model: tf.LayersModel;
  readonly modelSignature: string;
  readonly numSamples: number;
  readonly weightSegments: readonly number[];
  getWeights(): Promise<Float32Array>;
  setWeights(weights: Float32Array, global?: { round: number }): Promise<void>;
  dispose(): void;
}

/**
 * Hash of the shapes and dtypes of the model's trainable parameters, in variable order
 * (names are left out: tfjs numbers layers per process). Two models agree iff FedAvg can
 * average their weights (PROTOCOL.md, "FedAvg baseline").
 */
export function modelSignature(model: tf.LayersModel): string {
  const shapes = model.trainableWeights.map((w) => `${w.dtype}[${w.shape.join(',')}]`).join(';');
  return `fnv1a64:${fnv1a64(shapes)}`;
}

export function createTfLearner(options: TfLearnerOptions): TfLearner {
  const { model, trainDs, valDs, testDs, publicSet } = options;
  const settings = options.settings ?? {};
  const inputShape = model.inputs[0]?.shape.slice(1) ?? [];
  const fits = (shape: readonly number[]) => shape.join('x') === inputShape.join('x');
  for (const [what, ds] of [
    ['trainDs', trainDs],
    ['valDs', valDs],
    ['testDs', testDs],
  ] as const) {
    if (ds && !fits(ds.shape)) {
      throw new RangeError(
        `createTfLearner: ${what} samples are [${ds.shape}], the model takes [${inputShape}]`,
      );
    }
  }
  if (publicSet && !fits(publicSet.shape)) {
    throw new RangeError(
      `createTfLearner: public samples are [${publicSet.shape}], the model takes [${inputShape}]`,
    );
  }
  const trainer = new Trainer(model, {
    learningRate: settings.learningRate,
    ...(settings.afterStep ? { afterStep: settings.afterStep } : {}),
  });
  const batchSize = settings.batchSize ?? 32;
  const evalBatch = settings.predictBatchSize ?? 256;
  const size = sampleSize(inputShape as number[]);
  const scoreGlobal = testDs !== undefined && (settings.evaluateGlobal ?? true);
  /** The global weights' test accuracy, reported with the next task's metrics. */
  let globalAccuracy: number | undefined;

  function publicRows(indices: Uint32Array): Float32Array {
    if (!publicSet) throw new TypeError('this learner has no public set: it can neither distill nor predict');
    const out = new Float32Array(indices.length * size);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (i >= publicSet.sampleCount) {
        throw new RangeError(`public index ${i} is outside the public set of ${publicSet.sampleCount}`);
      }
      out.set(publicSet.x.subarray(i * size, (i + 1) * size), k * size);
    }
    return out;
  }

  function epochSeed(round: number, epoch: number): number | undefined {
    if (settings.seed === undefined) return undefined;
    return (
      (Math.imul(settings.seed >>> 0, 0x9e3779b1) ^ Math.imul(round + 1, 0x85ebca6b) ^ (epoch + 1)) >>> 0
    );
  }

  return {
    model,
    modelSignature: modelSignature(model),
    numSamples: trainDs.n,
    weightSegments: model.trainableWeights.map((v) => sampleSize(v.shape as number[])),

    async train(args: TrainArgs): Promise<LearnerMetrics> {
      const epochs = args.localEpochs;
      if (!(Number.isInteger(epochs) && epochs >= 1)) {
        throw new RangeError(`localEpochs must be a positive integer, got ${epochs}`);
      }
      const t = args.targets;
      const publicX = t ? publicRows(t.indices) : undefined;
      const digests = args.distillEpochs ?? 0;
      if (!(Number.isInteger(digests) && digests >= 0)) {
        throw new RangeError(`distillEpochs must be an integer >= 0, got ${digests}`);
      }
      if (t && publicX) {
        for (let pass = 1; pass <= digests; pass++) {
          await digestEpoch(trainer, {
            publicX,
            targets: t.probs,
            temperature: args.temperature,
            batchSize: settings.publicBatchSize ?? batchSize,
            seed: epochSeed(args.round, -pass),
            signal: args.signal,
          });
        }
      }
      let last: EpochResult | undefined;
      let samples = 0;
      for (let epoch = 1; epoch <= epochs; epoch++) {
        last = await trainer.trainEpoch(trainDs, {
          batchSize,
          publicBatchSize: settings.publicBatchSize,
          seed: epochSeed(args.round, epoch),
          publicX,
          targets: t?.probs ?? null,
          temperature: args.temperature,
          lambda: args.lambda,
          signal: args.signal,
          onBatch: (p) =>
            args.onProgress({ epoch, epochs, batch: p.batch, batches: p.batches, loss: p.loss }),
        });
        samples += last.samples;
      }
      const metrics: LearnerMetrics = { trainLoss: last!.loss, distillLoss: last!.kl, samples };
      if (settings.evaluateTrain ?? true) {
        metrics.trainAccuracy = (await evaluate(model, trainDs, { batchSize: evalBatch })).accuracy;
      }
      if (valDs) metrics.valAccuracy = (await evaluate(model, valDs, { batchSize: evalBatch })).accuracy;
      if (testDs) metrics.testAccuracy = (await evaluate(model, testDs, { batchSize: evalBatch })).accuracy;
      if (globalAccuracy !== undefined) metrics.globalTestAccuracy = globalAccuracy;
      globalAccuracy = undefined;
      return metrics;
    },

    predict(indices: Uint32Array, temperature: number): Promise<Float32Array> {
      return predictPublic(model, publicRows(indices), inputShape as number[], temperature, evalBatch);
    },

    // FedAvg weights are the trainable parameters, flattened in variable order, each tensor
    // row-major (PROTOCOL.md); non-trainable state stays local.
    async getWeights(): Promise<Float32Array> {
      const vars = model.trainableWeights;
      const out = new Float32Array(vars.reduce((n, v) => n + sampleSize(v.shape as number[]), 0));
      let offset = 0;
      for (const v of vars) {
        // read() hands out the variable itself: read its data, do not dispose it.
        const values = await v.read().data();
        out.set(values, offset);
        offset += values.length;
      }
      return out;
    },

    async setWeights(weights: Float32Array, global?: { round: number }): Promise<void> {
      const vars = model.trainableWeights;
      const total = vars.reduce((n, v) => n + sampleSize(v.shape as number[]), 0);
      if (weights.length !== total) {
        throw new RangeError(
          `setWeights: got ${weights.length} values, the model has ${total} trainable parameters`,
        );
      }
      let offset = 0;
      for (const v of vars) {
        const shape = v.shape as number[];
        const n = sampleSize(shape);
        const t = tf.tensor(weights.subarray(offset, offset + n), shape, v.dtype);
        offset += n;
        try {
          // The variable takes its own reference to the data, so ours is released right away.
          v.write(t);
        } finally {
          t.dispose();
        }
      }
      globalAccuracy = undefined;
      if (global && scoreGlobal) {
        globalAccuracy = (await evaluate(model, testDs!, { batchSize: evalBatch })).accuracy;
        options.onGlobalEvaluated?.({ round: global.round, accuracy: globalAccuracy });
      }
    },

    dispose(): void {
      trainer.dispose();
    },
  };
}
