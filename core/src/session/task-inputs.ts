/**
 * What the coordinator sends for training, validated and kept: Tasks become TaskInHand,
 * and the newest targets (mutual) and global weights (fedavg) are kept across tasks, since
 * the coordinator sends them only when they change and every run uses the newest received.
 * Pure: no transport, no learner.
 */
import {
  modeName,
  type PredictionEncoding,
  type TargetsInit,
  type TaskInit,
  type ValidTargets,
  validateTargets,
  validateTask,
  type WeightsExpectation,
} from '@mutua/proto';
import type { LearnerTargets } from './learner.ts';
import { SessionError } from './session-error.ts';
import type { TaskInHand } from './task-queue.ts';
import type { FederationInfo } from './welcome.ts';

export interface InputExpectation {
  federation: FederationInfo;
  /** Public samples (undefined without a public set). */
  sampleCount: number | undefined;
  encodings: readonly PredictionEncoding[];
  /** fedavg: parameter count and model signature of this participant's model. */
  weights?: { count: number; signature: string };
  /** The client's local-epochs override. */
  localEpochs?: number;
}

export interface GlobalWeights {
  round: number;
  values: Float32Array;
}

export class TaskInputs {
  private newestTargets: LearnerTargets | null = null;
  /** fedavg: global weights received and not yet loaded into the learner. */
  private pendingWeights: GlobalWeights | null = null;

  get targets(): LearnerTargets | null {
    return this.newestTargets;
  }

  get globalWeights(): GlobalWeights | null {
    return this.pendingWeights;
  }

  /** Validates a Targets message and keeps it if newer; a SessionError (non-fatal) when invalid. */
  acceptTargets(msg: TargetsInit, expect: InputExpectation): SessionError | null {
    const v = validateTargets(msg, {
      classes: expect.federation.numClasses,
      sampleCount: expect.sampleCount,
      allowedEncodings: expect.encodings,
    });
    if (!v.ok) return SessionError.fromProtocol(v.error, { round: Number(msg.version ?? 0) });
    this.keepTargets(v.value);
    return null;
  }

  /** Validates a Task, keeps its targets and global weights, and returns the task; a SessionError when invalid. */
  acceptTask(msg: TaskInit, expect: InputExpectation): TaskInHand | SessionError {
    const fed = expect.federation;
    const gw = msg.globalWeights;
    let weights: WeightsExpectation | undefined;
    if (fed.strategy === 'fedavg') {
      // A coordinator that leaves GlobalWeights.model_signature empty has not stated one: the count is still checked.
      weights = {
        count: expect.weights?.count ?? 0,
        signature: gw && !gw.modelSignature ? '' : (expect.weights?.signature ?? ''),
      };
    }
    const v = validateTask(msg, {
      classes: fed.numClasses,
      sampleCount: expect.sampleCount,
      allowedEncodings: expect.encodings,
      weights,
    });
    if (!v.ok) return SessionError.fromProtocol(v.error, { round: Number(msg.round ?? 0) });
    if (v.value.targets) this.keepTargets(v.value.targets);
    if (v.value.globalWeights) {
      const round = Number(gw?.round ?? 0);
      // Weights not yet loaded are replaced only by newer ones.
      if (!this.pendingWeights || round >= this.pendingWeights.round) {
        this.pendingWeights = { round, values: v.value.globalWeights };
      }
    }
    return {
      round: Number(v.value.round),
      mode: modeName(msg.mode) ?? fed.mode,
      predictIndices: Uint32Array.from(v.value.predictIndices),
      localEpochs: expect.localEpochs ?? (msg.localEpochs || fed.localEpochs || 1),
      deadlineUnixMs: Number(msg.deadlineUnixMs ?? 0),
    };
  }

  /** The global weights were loaded: they are not loaded again, unless newer ones came meanwhile. */
  loaded(weights: GlobalWeights): void {
    if (this.pendingWeights === weights) this.pendingWeights = null;
  }

  /** The coordinator's numbering restarted: what refers to the old state is forgotten. */
  reset(): void {
    this.newestTargets = null;
    this.pendingWeights = null;
  }

  private keepTargets(t: ValidTargets): void {
    // Number(): an absent uint64 decodes to protobufjs's prototype default, a Long, not a number.
    const version = Number(t.version);
    if (this.newestTargets && version < this.newestTargets.version) return;
    this.newestTargets = {
      version,
      indices: Uint32Array.from(t.indices),
      probs: t.probs,
      contributors: t.contributors,
    };
  }
}
