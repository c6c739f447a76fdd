/**
 * What a federated run and a local-only run share: the backend, the private data, the model,
 * the checkpoint directory (and what it holds), and the learner's settings.
 */
import type { BackendChoice } from '@mutua/core/backend-node';
import { selectBackend } from '@mutua/core/backend-node';
import { MagnitudePruner } from '@mutua/core/compress';
import { deriveSeed } from '@mutua/core/data-node';
import { createModel } from '@mutua/core/models';
import type { TfLearnerSettings } from '@mutua/core/session';
import type * as tf from '@tensorflow/tfjs';
import { type CheckpointState, CheckpointStore } from './checkpoints.ts';
import { loadPrivateData, type PrivateData } from './data-source.ts';
import type { ClientOptions } from './options.ts';
import type { Reporter } from './reporter.ts';

export interface Prepared {
  backend: BackendChoice;
  data: PrivateData;
  model: tf.LayersModel;
  checkpoints: CheckpointStore;
  /** The checkpoint in --checkpoint-dir, when it holds a model of this architecture and shapes. */
  saved: CheckpointState | null;
  /**
   * Loads the saved model's weights into `model`; false when there is none. The caller
   * decides whether the checkpoint is its own: a federated run only resumes the federation
   * it was saved in, so an experiment rerun in the same directory starts afresh.
   */
  restoreCheckpoint(): Promise<boolean>;
  learnerSettings: TfLearnerSettings;
  /** With --prune: the pruner re-applying its masks after every step (learnerSettings.afterStep). */
  pruner: MagnitudePruner | null;
}

/**
 * Seeds derived from --seed and the shard index, so participants of one simulation differ
 * and a rerun with the same seed is the same run: the model initialisation is stream
 * 1000 + k, the shuffles 2000 + k.
 */
export function seeds(o: Pick<ClientOptions, 'seed' | 'shard'>): { model?: number; shuffle?: number } {
  if (o.seed === undefined) return {};
  const k = o.shard?.index ?? 0;
  return { model: deriveSeed(o.seed, 1000 + k), shuffle: deriveSeed(o.seed, 2000 + k) };
}

export async function prepare(o: ClientOptions, reporter: Reporter): Promise<Prepared> {
  const backend = await selectBackend(o.backend);
  reporter.info(`backend: ${backend.name} (${backend.reason})`);
  const data = await loadPrivateData(o);
  reporter.info(`data: ${data.description}`);
  const seed = seeds(o);
  const model = createModel(o.model, {
    inputShape: data.shape,
    numClasses: data.numClasses,
    seed: seed.model,
  });

  const checkpoints = new CheckpointStore(o.checkpointDir);
  const state = await checkpoints.readState();
  const usable =
    state !== null &&
    state.arch === o.model &&
    state.numClasses === data.numClasses &&
    state.inputShape.join('x') === data.shape.join('x');
  if (state && !usable) {
    reporter.warn(
      `not resuming from the checkpoint in ${o.checkpointDir}: it holds a ${state.arch} model for [${state.inputShape.join('x')}] -> ${state.numClasses} classes`,
    );
  }
  const saved = usable ? state : null;
  const restoreCheckpoint = async (): Promise<boolean> => {
    const stored = saved ? await checkpoints.loadModel() : null;
    if (!stored) return false;
    try {
      model.setWeights(stored.getWeights());
    } finally {
      stored.dispose();
    }
    reporter.info(`model: restored from ${checkpoints.modelDir} (round ${saved!.round})`);
    return true;
  };
  const pruner =
    o.prune === undefined
      ? null
      : new MagnitudePruner(model, {
          initialSparsity: 0,
          finalSparsity: o.prune,
          beginStep: 0,
          endStep: o.pruneSteps,
          frequency: Math.max(1, Math.round(o.pruneSteps / 10)),
        });
  if (pruner) reporter.info(`pruning: kernels to ${o.prune} sparsity over the first ${o.pruneSteps} steps`);
  return {
    backend,
    data,
    model,
    checkpoints,
    saved,
    restoreCheckpoint,
    learnerSettings: {
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      seed: seed.shuffle,
      ...(pruner ? { afterStep: () => pruner.afterStep() } : {}),
    },
    pruner,
  };
}
