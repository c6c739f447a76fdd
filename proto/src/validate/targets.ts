/** Targets and Tasks as a client receives them. */
import { type BatchRule, mergedBatches, publicBatch } from '../batch-rule.ts';
import { ProtocolError } from '../errors.ts';
import type { mutua } from '../gen/mutua.js';
import { decodePredictions, type PredictionEncoding } from '../prediction-codec.ts';
import { err, ok, payloadFailure, type Validated } from './common.ts';
import { checkCompression, checkEncoding, checkK } from './predictions.ts';
import { decodeWeightsMessage, type WeightsExpectation } from './weights.ts';

export interface TargetsExpectation {
  /** The federation's class count (Welcome.federation.task.num_classes). */
  classes: number;
  /** Public-set size; indices must be below it. */
  sampleCount?: number;
  /** Encodings this client can decode; default: all four. */
  allowedEncodings?: readonly PredictionEncoding[];
}

export interface ValidTargets {
  version: number;
  indices: readonly number[];
  /** rows x classes, row-major, in the order of `indices`. */
  probs: Float32Array;
  contributors: number;
}

export function checkIndices(
  indices: readonly number[],
  sampleCount: number | undefined,
  what: string,
): ProtocolError | undefined {
  if (indices.length === 0) return new ProtocolError('BAD_SHAPE', `${what} are empty`, { detail: 'INDICES' });
  const seen = new Set<number>();
  for (const i of indices) {
    if (sampleCount !== undefined && i >= sampleCount) {
      return new ProtocolError(
        'BAD_SHAPE',
        `${what}: index ${i} is outside the public set of ${sampleCount}`,
        {
          detail: 'INDICES',
        },
      );
    }
    if (seen.has(i)) {
      return new ProtocolError('BAD_SHAPE', `${what}: index ${i} appears twice`, { detail: 'INDICES' });
    }
    seen.add(i);
  }
  return undefined;
}

/** Targets as a client receives them: indices, shape, encoding and payload agree. */
export function validateTargets(
  msg: mutua.v1.Targets.$Properties,
  expect: TargetsExpectation,
): Validated<ValidTargets> {
  const enc = checkEncoding(msg.encoding, expect.allowedEncodings, 'the targets');
  if (enc instanceof ProtocolError) return err(enc);
  // A compressed payload is inflated by the caller first (inflateTaskPayloads: async in browsers).
  const how = checkCompression(msg.compression, [], 'the targets');
  if (how instanceof ProtocolError) return err(how);
  if ((msg.indexVersions?.length ?? 0) > 0) return err(underived('targets carry index_versions'));
  const indices = msg.indices ?? [];
  const rows = msg.rows ?? 0;
  const classes = msg.classes ?? 0;
  if (classes !== expect.classes) {
    return err(
      new ProtocolError('BAD_SHAPE', `targets have ${classes} classes, the federation ${expect.classes}`, {
        detail: 'CLASSES',
      }),
    );
  }
  if (rows !== indices.length) {
    return err(
      new ProtocolError('BAD_SHAPE', `targets have rows ${rows} but ${indices.length} indices`, {
        detail: 'ROWS',
      }),
    );
  }
  const badIndices = checkIndices(indices, expect.sampleCount, 'target indices');
  if (badIndices) return err(badIndices);
  const k = msg.k ?? 0;
  if (enc === 'topk') {
    const bad = checkK(k, classes, undefined, 'the targets');
    if (bad) return err(bad);
  }
  try {
    const probs = decodePredictions(msg.payload ?? new Uint8Array(0), rows, classes, enc, {
      k: enc === 'topk' ? k : undefined,
      maxElements: rows * classes,
    });
    return ok({ version: msg.version ?? 0, indices, probs, contributors: msg.contributors ?? 0 });
  } catch (e) {
    return err(payloadFailure('targets payload', e));
  }
}

export interface TaskExpectation extends TargetsExpectation {
  /** fedavg: the parameter count and signature GlobalWeights must match. */
  weights?: WeightsExpectation;
}

export interface ValidTask {
  round: number;
  predictIndices: readonly number[];
  targets?: ValidTargets;
  globalWeights?: Float32Array;
}

/**
 * A Task as a client receives it: predict_indices non-empty, distinct and inside the public
 * set (mutual strategy), and its Targets / GlobalWeights valid when present.
 */
export function validateTask(msg: mutua.v1.Task.$Properties, expect: TaskExpectation): Validated<ValidTask> {
  if (msg.indicesDerived) return err(underived('the task has indices_derived'));
  const predictIndices = msg.predictIndices ?? [];
  const task: ValidTask = { round: msg.round ?? 0, predictIndices };
  if (expect.weights === undefined) {
    const bad = checkIndices(predictIndices, expect.sampleCount, 'predict_indices');
    if (bad) return err(bad);
  }
  if (msg.targets != null) {
    const t = validateTargets(msg.targets, expect);
    if (!t.ok) return t;
    task.targets = t.value;
  }
  if (msg.globalWeights != null) {
    if (expect.weights === undefined) {
      return err(new ProtocolError('WRONG_STRATEGY', 'global_weights in a Task of a mutual federation'));
    }
    const w = decodeWeightsMessage(msg.globalWeights, expect.weights, 'global weights');
    if (!w.ok) return w;
    task.globalWeights = w.value;
  }
  return ok(task);
}

// ---------------------------------------------------------------- derived indices

function underived(what: string): ProtocolError {
  return new ProtocolError('BAD_SHAPE', `${what}, but derived indices were not negotiated`, {
    detail: 'INDICES',
  });
}

/**
 * Targets whose `index_versions` name their batches (PROTOCOL.md, "Derived indices") with
 * the index list rebuilt by the batch rule; Targets that list their indices unchanged.
 * `rule` is undefined when the Welcome did not negotiate derived indices: then any
 * `index_versions` is BAD_SHAPE (validateTargets says so). Run before delta decoding, whose
 * rows follow the list.
 */
export function expandTargetsIndices<T extends mutua.v1.Targets.$Properties>(
  msg: T,
  rule: BatchRule | undefined,
): T | ProtocolError {
  const versions = msg.indexVersions ?? [];
  if (versions.length === 0 || rule === undefined) return msg;
  if ((msg.indices?.length ?? 0) > 0) {
    return new ProtocolError('BAD_SHAPE', 'targets carry both index_versions and indices', {
      detail: 'INDICES',
    });
  }
  const list = versions.map(Number);
  if (list.some((v) => !Number.isSafeInteger(v) || v < 1)) {
    return new ProtocolError('BAD_SHAPE', 'targets name batch version 0', { detail: 'INDICES' });
  }
  return { ...msg, indices: Array.from(mergedBatches(rule, list)), indexVersions: [] };
}

/** A Task with derived `predict_indices` (and Targets) rebuilt; see expandTargetsIndices. */
export function expandTaskIndices<T extends mutua.v1.Task.$Properties>(
  msg: T,
  rule: BatchRule | undefined,
): T | ProtocolError {
  if (rule === undefined) return msg;
  let out = msg;
  if (msg.indicesDerived) {
    if ((msg.predictIndices?.length ?? 0) > 0) {
      return new ProtocolError('BAD_SHAPE', 'the task has both indices_derived and predict_indices', {
        detail: 'INDICES',
      });
    }
    const round = Number(msg.round ?? 0);
    if (!Number.isSafeInteger(round) || round < 1) {
      return new ProtocolError('BAD_SHAPE', 'a derived batch of round 0', { detail: 'INDICES' });
    }
    out = { ...out, predictIndices: Array.from(publicBatch(rule, round)), indicesDerived: false };
  }
  if (msg.targets) {
    const t = expandTargetsIndices(msg.targets, rule);
    if (t instanceof ProtocolError) return t;
    if (t !== msg.targets) out = { ...out, targets: t };
  }
  return out;
}
