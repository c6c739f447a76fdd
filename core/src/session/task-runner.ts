/**
 * One task's local work, start to upload body: load the global weights (fedavg), train,
 * check the metrics, and build the strategy's upload. No transport: the session hands the
 * result to an UploadSender. Honours the abort signal between steps (the learner checks it
 * between batches), rejecting with its reason.
 */
import { validateMetrics } from '@mutua/proto';
import type { Body } from './connection-loop.ts';
import type { Learner, TrainProgress } from './learner.ts';
import type { TaskInputs } from './task-inputs.ts';
import type { TaskInHand } from './task-queue.ts';
import { type TimedMetrics, toLocalMetrics, type UploadBuilder, type UploadInput } from './upload-builder.ts';
import type { SessionWelcome } from './welcome.ts';

export interface RunTaskArgs {
  learner: Learner;
  welcome: SessionWelcome;
  task: TaskInHand;
  inputs: TaskInputs;
  builder: UploadBuilder;
  signature: string;
  deltas?: UploadInput['deltas'];
  signal: AbortSignal;
  onProgress(progress: TrainProgress): void;
}

export interface TaskResult {
  body: Body;
  metrics: TimedMetrics;
}

/**
 * fedavg: "load global_weights if present" (PROTOCOL.md). Each received set is loaded once;
 * without new ones the learner goes on from its own weights. Null when there is nothing to
 * load, so that training then starts without yielding (stop() right after the `task` event
 * finds the learner already training, as it always has).
 */
export function loadGlobalWeights(
  learner: Learner,
  welcome: SessionWelcome,
  inputs: TaskInputs,
): Promise<void> | null {
  const gw = inputs.globalWeights;
  if (welcome.federation.strategy !== 'fedavg' || !gw) return null;
  return learner.setWeights!(gw.values, { round: gw.round }).then(() => inputs.loaded(gw));
}

export async function runTask(args: RunTaskArgs): Promise<TaskResult> {
  const { learner, welcome, task, inputs, builder, signal } = args;
  const fed = welcome.federation;
  const loading = loadGlobalWeights(learner, welcome, inputs);
  if (loading) await loading;
  signal.throwIfAborted();
  const started = Date.now();
  const trained = await learner.train({
    round: task.round,
    targets: builder.distills ? (inputs.targets ?? undefined) : undefined,
    temperature: fed.temperature,
    lambda: fed.lambda,
    localEpochs: task.localEpochs,
    distillEpochs: fed.distillEpochs,
    signal,
    onProgress: args.onProgress,
  });
  signal.throwIfAborted();
  const metrics = { ...trained, trainMs: Date.now() - started };
  const localMetrics = toLocalMetrics(metrics);
  const badMetrics = validateMetrics(localMetrics);
  if (badMetrics) throw badMetrics;
  const body = await builder.build({
    learner,
    task,
    welcome,
    metrics,
    localMetrics,
    signature: args.signature,
    deltas: args.deltas,
  });
  signal.throwIfAborted();
  return { body, metrics };
}
