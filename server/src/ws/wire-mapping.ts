/** Turns the runtime's domain objects into wire messages (and wire enums back). */

import type { BatchRule, CompressionName, WeightEncoding } from '@mutua/proto';
import {
  compressionValue,
  Envelope,
  type EnvelopeInit,
  encodePredictions,
  encodeWeights,
  encodingName,
  encodingValue,
  followsBatchRule,
  weightEncodingValue,
} from '@mutua/proto';
import type { TaskView } from '../engine/runtime-types.ts';
import type { EncodingName, FederationSettings } from '../engine/settings.ts';
import type { Admission } from './connection-types.ts';
import { targetsPayload } from './delta-payloads.ts';
import { deflatePayload } from './payload-compression.ts';

/** Callers validated the value first (validateHello / validatePredictionUpload). */
export function wireToEncoding(wire: number): EncodingName {
  return encodingName(wire) ?? 'float32';
}

export function encodingToWire(name: EncodingName): number {
  return encodingValue(name);
}

/**
 * Tensor sizes of each model (by signature, which fixes the parameter shapes), learned from
 * the segments of 8-bit weight uploads, so that 8-bit global weights get one scale and
 * offset per tensor too. Until an upload shows them, blocks of DEFAULT_WEIGHT_BLOCK values.
 */
const weightLayouts = new Map<string, readonly number[]>();
const MAX_LAYOUTS = 1000;

export function rememberWeightLayout(signature: string, segments: readonly number[]): void {
  if (weightLayouts.has(signature)) return;
  if (weightLayouts.size >= MAX_LAYOUTS) weightLayouts.delete(weightLayouts.keys().next().value!);
  weightLayouts.set(signature, segments);
}

function weightLayout(signature: string, count: number): readonly number[] | undefined {
  const segments = weightLayouts.get(signature);
  return segments && segments.reduce((a, b) => a + b, 0) === count ? segments : undefined;
}

/**
 * Whether an index list is what the batch rule gives for these versions (PROTOCOL.md,
 * "Derived indices"), remembered per list: a version's list is one array, shared by every
 * Task and Targets of one federation that carry it (so always with the same versions and
 * rule), and the rule runs once per list, not once per send.
 */
const followsRule = new WeakMap<Uint32Array, boolean>();

function derivable(rule: BatchRule, versions: readonly number[], indices: Uint32Array): boolean {
  let yes = followsRule.get(indices);
  if (yes === undefined) {
    yes = versions.length > 0 && followsBatchRule(rule, versions, indices);
    followsRule.set(indices, yes);
  }
  return yes;
}

export function encodeTask(
  task: TaskView,
  settings: FederationSettings,
  download: EncodingName,
  weights: WeightEncoding = 'float32',
  compression: CompressionName = 'none',
  delta: Admission['delta'] = null,
  rule: BatchRule | null = null,
): NonNullable<EnvelopeInit['task']> {
  const C = settings.task.numClasses;
  const k = download === 'topk' ? settings.topk : 0;
  const t = task.targets;
  // With deltas, the payload depends on what this connection was sent before.
  const coded = t
    ? delta
      ? targetsPayload(t.probs, t.indices, t.version, C, download, k, delta)
      : { payload: encodePredictions(t.probs, t.indices.length, C, download, { k }), deltaBase: 0 }
    : null;
  // The typed index arrays go to protobufjs as they are (its packed writer only reads
  // length and [i]); copying them into number[] cost more than the encoding itself.
  const list = (a: Uint32Array) => a as unknown as number[];
  // Lists the participant rebuilds from their versions are left out.
  const taskDerived =
    rule !== null && task.predictIndices.length > 0 && derivable(rule, [task.round], task.predictIndices);
  const targetVersions =
    rule !== null && t?.versions && derivable(rule, t.versions, t.indices) ? t.versions : null;
  return {
    round: task.round,
    mode: task.mode === 'sync' ? 1 : 2,
    predictIndices: taskDerived ? [] : list(task.predictIndices),
    indicesDerived: taskDerived,
    targets: task.targets
      ? {
          version: task.targets.version,
          indices: targetVersions ? [] : list(task.targets.indices),
          indexVersions: targetVersions ? [...targetVersions] : [],
          encoding: encodingToWire(download),
          rows: task.targets.indices.length,
          classes: C,
          k,
          payload: deflatePayload(coded!.payload, compression),
          contributors: task.targets.contributors,
          compression: compressionValue(compression),
          deltaBase: coded!.deltaBase,
        }
      : null,
    globalWeights: task.globalWeights
      ? {
          round: task.globalWeights.round,
          encoding: weightEncodingValue(weights),
          count: task.globalWeights.params.length,
          payload: encodeWeights(task.globalWeights.params, weights, {
            segments: weightLayout(task.globalWeights.signature, task.globalWeights.params.length),
          }),
          modelSignature: task.globalWeights.signature,
        }
      : null,
    deadlineUnixMs: task.deadlineUnixMs,
    localEpochs: task.localEpochs,
  };
}

/** Encoded Task bodies (the Envelope's `task` field), per TaskView and download + weight encoding. */
const taskBodies = new WeakMap<TaskView, Map<string, Uint8Array>>();

/**
 * The Envelope of a Task, for sending one TaskView to many participants: the body is
 * encoded once per TaskView and download encoding (the runtime hands one TaskView to
 * everyone who gets the same task), and each send only prepends its own seq and
 * reply_to. These are fields 1 and 2 and the body is field 21, so the result is byte for
 * byte what encodeEnvelope would produce.
 */
export function encodeTaskEnvelope(
  task: TaskView,
  settings: FederationSettings,
  download: EncodingName,
  seq: number,
  replyTo = 0,
  weights: WeightEncoding = 'float32',
  compression: CompressionName = 'none',
  delta: Admission['delta'] = null,
  rule: BatchRule | null = null,
): Uint8Array {
  const head = Envelope.encode({ seq, replyTo }).finish();
  if (delta && task.targets) {
    const own = Envelope.encode({
      task: encodeTask(task, settings, download, weights, compression, delta, rule),
    }).finish();
    return Buffer.concat([head, own]);
  }
  let bodies = taskBodies.get(task);
  if (!bodies) {
    bodies = new Map();
    taskBodies.set(task, bodies);
  }
  // A TaskView belongs to one federation, so one batch rule: whether lists are left out is all that differs.
  const key = task.globalWeights
    ? `${download}/${weights}`
    : `${download}/${compression}/${rule ? 'derived' : ''}`;
  let body = bodies.get(key);
  if (!body) {
    // A copy: protobufjs may hand out a slice of a shared pool.
    body = Buffer.from(
      Envelope.encode({
        task: encodeTask(task, settings, download, weights, compression, null, rule),
      }).finish(),
    );
    bodies.set(key, body);
  }
  return Buffer.concat([head, body]);
}
