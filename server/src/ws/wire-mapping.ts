/** Turns the runtime's domain objects into wire messages (and wire enums back). */
import {
  type EnvelopeInit,
  encodePredictions,
  encodeWeights,
  encodingName,
  encodingValue,
} from '@mutua/proto';
import type { TaskView } from '../engine/federation-runtime.ts';
import type { EncodingName, FederationSettings } from '../engine/settings.ts';

/** Callers validated the value first (validateHello / validatePredictionUpload). */
export function wireToEncoding(wire: number): EncodingName {
  return encodingName(wire) ?? 'float32';
}

export function encodingToWire(name: EncodingName): number {
  return encodingValue(name);
}

export function encodeTask(
  task: TaskView,
  settings: FederationSettings,
  download: EncodingName,
): NonNullable<EnvelopeInit['task']> {
  const C = settings.task.numClasses;
  const k = download === 'topk' ? settings.topk : 0;
  return {
    round: task.round,
    mode: task.mode === 'sync' ? 1 : 2,
    predictIndices: Array.from(task.predictIndices),
    targets: task.targets
      ? {
          version: task.targets.version,
          indices: Array.from(task.targets.indices),
          encoding: encodingToWire(download),
          rows: task.targets.indices.length,
          classes: C,
          k,
          payload: encodePredictions(task.targets.probs, task.targets.indices.length, C, download, { k }),
          contributors: task.targets.contributors,
        }
      : null,
    globalWeights: task.globalWeights
      ? {
          round: task.globalWeights.round,
          encoding: encodingToWire('float32'),
          count: task.globalWeights.params.length,
          payload: encodeWeights(task.globalWeights.params, 'float32'),
          modelSignature: task.globalWeights.signature,
        }
      : null,
    deadlineUnixMs: task.deadlineUnixMs,
    localEpochs: task.localEpochs,
  };
}
