/**
 * What a participant uploads after training, one builder per strategy, mirroring the
 * coordinator's strategies (server/src/engine/mutual-strategy.ts, fedavg-strategy.ts):
 * mutual-upload.ts sends tempered predictions on the task's public samples, fedavg-upload.ts
 * the model's weights. A builder is a pure function of the learner and the task; it does
 * not send anything (upload-sender.ts does).
 */
import type { LocalMetricsInit, StrategyName } from '@mutua/proto';
import type { Body } from './connection-loop.ts';
import { fedavgUpload } from './fedavg-upload.ts';
import type { Learner, LearnerMetrics } from './learner.ts';
import { mutualUpload } from './mutual-upload.ts';
import type { PayloadDeltas } from './payload-delta.ts';
import type { TaskInHand } from './task-queue.ts';
import type { SessionWelcome } from './welcome.ts';

export type TimedMetrics = LearnerMetrics & { trainMs: number };

export interface UploadInput {
  learner: Learner;
  task: TaskInHand;
  welcome: SessionWelcome;
  /** What training reported, with its wall time. */
  metrics: TimedMetrics;
  /** The same as sent on the wire (validated). */
  localMetrics: LocalMetricsInit;
  /** This participant's model signature ('' = none). */
  signature: string;
  /** Delta payloads' state, used when the Welcome negotiated them. */
  deltas?: PayloadDeltas;
}

export interface UploadBuilder {
  /** Whether training distills toward the newest targets. */
  readonly distills: boolean;
  /** The upload's envelope body; rejects when the learner's output does not fit the task. */
  build(input: UploadInput): Promise<Body>;
}

export const UPLOAD_BUILDERS: Readonly<Record<StrategyName, UploadBuilder>> = {
  mutual: mutualUpload,
  fedavg: fedavgUpload,
};

/** Learner metrics as the wire's LocalMetrics (counts rounded, absent values 0). */
export function toLocalMetrics(m: TimedMetrics): LocalMetricsInit {
  return {
    trainLoss: m.trainLoss,
    trainAccuracy: m.trainAccuracy ?? 0,
    valAccuracy: m.valAccuracy ?? 0,
    distillLoss: m.distillLoss ?? 0,
    samples: Math.max(0, Math.round(m.samples)),
    trainMs: Math.max(0, Math.round(m.trainMs)),
    testAccuracy: m.testAccuracy ?? 0,
    hasTestAccuracy: m.testAccuracy !== undefined,
  };
}
