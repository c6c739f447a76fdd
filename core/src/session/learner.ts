/**
 * What a ParticipantSession needs from the thing that trains: a deliberately small interface,
 * so that the Node CLI, the browser worker and the tests can each bring their own. The
 * TensorFlow.js implementation is tf-learner.ts; the session never touches tensors.
 */
import type { PublicSet } from '@mutua/proto';
import type { FederationInfo } from './welcome.ts';

/** The leave-one-out consensus for this participant, decoded: rows follow `indices`. */
export interface LearnerTargets {
  /** Round / consensus version the targets were computed at. */
  version: number;
  /** Public-set sample indices, one per row. */
  indices: Uint32Array;
  /** indices.length x C probabilities, row-major; rows sum to 1. */
  probs: Float32Array;
  /** Participants whose predictions are in the consensus. */
  contributors: number;
}

export interface TrainProgress {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** 1-based step within the epoch. */
  batch: number;
  batches: number;
  /** Loss of the step just taken. */
  loss: number;
}

export interface TrainArgs {
  round: number;
  /**
   * The newest consensus, kept by the session across tasks (the coordinator sends targets
   * only when they change). Absent until a consensus exists: train on the private data alone.
   */
  targets?: LearnerTargets;
  /** Federation temperature T and weight lambda of the distillation term. */
  temperature: number;
  lambda: number;
  localEpochs: number;
  /**
   * Passes over the targets' rows with the distillation term alone before the local epochs
   * (FedMD's digest step); 0 or absent = none. Ignored without targets.
   */
  distillEpochs?: number;
  /**
   * Aborted when the work is superseded (sync mode: a newer round started) or the session
   * stops. Check it between steps and reject with signal.reason; the partial result is dropped.
   */
  signal: AbortSignal;
  onProgress(progress: TrainProgress): void;
}

/** What one task's training reports; sent to the coordinator as LocalMetrics. */
export interface LearnerMetrics {
  /** Mean loss of the last epoch (CE + lambda * distillation). */
  trainLoss: number;
  /** Mean distillation (KL) term of the last epoch; 0 without targets. */
  distillLoss?: number;
  trainAccuracy?: number;
  /** Accuracy on a held-out slice of the participant's own data. */
  valAccuracy?: number;
  /** Simulations only: accuracy on a shared held-out test set. */
  testAccuracy?: number;
  /**
   * Simulations, FedAvg only: accuracy on the test set of the global weights loaded for this
   * task, measured before any local training (the federation's model, not this participant's).
   */
  globalTestAccuracy?: number;
  /** Private samples seen during this task. */
  samples: number;
}

export interface Learner {
  train(args: TrainArgs): Promise<LearnerMetrics>;
  /**
   * Tempered probabilities softmax(f(u) / T) for the public samples at `indices`:
   * indices.length x C, row-major, rows summing to 1.
   */
  predict(indices: Uint32Array, temperature: number): Promise<Float32Array>;

  // FedAvg only (a mutual-distillation learner may leave these out).
  /** Hash of the parameter shapes; must agree across participants of a fedavg federation. */
  readonly modelSignature?: string;
  /** The FedAvg averaging weight: the size of the private training set. */
  readonly numSamples?: number;
  /** All model parameters, flattened in a fixed order. */
  getWeights?(): Promise<Float32Array>;
  /**
   * Loads `weights`; `global` says they are the federation's aggregate of round `round`
   * (a learner may evaluate them before training on them).
   */
  setWeights?(weights: Float32Array, global?: { round: number }): Promise<void>;
  /** Tensor sizes of the flattened weights, in order (lets a weight codec scale per tensor). */
  readonly weightSegments?: readonly number[];

  /** Releases what the learner holds (not the model it was given). */
  dispose?(): void;
}

export interface LearnerContext {
  federation: FederationInfo;
  /** The decoded public set; absent only in federations that do not use one (fedavg). */
  publicSet?: PublicSet;
}

/**
 * Builds the learner once the federation's settings and public set are known (after the
 * first Welcome). Called once per session.
 */
export type LearnerFactory = (context: LearnerContext) => Learner | Promise<Learner>;
