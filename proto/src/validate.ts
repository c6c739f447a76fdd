/**
 * Semantic checks of decoded messages, shared by the coordinator (uploads, Hello) and the
 * clients (Task, Targets, GlobalWeights). Each returns the decoded numbers or a ProtocolError;
 * none throws on anything a peer sends.
 *
 * Order of checks, so that the error names the first thing to fix: encoding, then shape,
 * then metrics, then the payload bytes (length, values).
 */

import { encodingName, supportedWeightEncodings, weightEncodingName } from './enums.ts';
import { ProtocolError } from './errors.ts';
import { mutua } from './gen/mutua.js';
import {
  decodePredictions,
  decodeWeights,
  PayloadError,
  type PredictionCodecOptions,
  type PredictionEncoding,
  type WeightEncoding,
} from './prediction-codec.ts';

export type Validated<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

type LocalMetricsInit = mutua.v1.LocalMetrics.$Properties;

function ok<T>(value: T): Validated<T> {
  return { ok: true, value };
}

function err<T>(error: ProtocolError): Validated<T> {
  return { ok: false, error };
}

/** A PayloadError becomes BAD_SHAPE (PAYLOAD_BAD_SHAPE) or BAD_PAYLOAD, keeping its code as detail. */
function payloadFailure(what: string, e: unknown): ProtocolError {
  if (e instanceof PayloadError) {
    const code = e.code === 'PAYLOAD_BAD_SHAPE' ? 'BAD_SHAPE' : 'BAD_PAYLOAD';
    return new ProtocolError(code, `${what}: ${e.message}`, { detail: e.code, cause: e });
  }
  return new ProtocolError('INTERNAL', `${what}: could not be decoded (${String(e)})`, { cause: e });
}

function describeEncoding(value: number | null | undefined): string {
  const name = mutua.v1.Encoding[value ?? 0] as string | undefined;
  return name === undefined ? `encoding ${value}` : `encoding ${value} (${name})`;
}

// ---------------------------------------------------------------- metrics

const ACCURACIES = ['trainAccuracy', 'valAccuracy', 'testAccuracy'] as const;
const LOSSES = ['trainLoss', 'distillLoss'] as const;

/**
 * LocalMetrics: every number finite, accuracies within [0, 1]. Returns the error or undefined.
 * Absent metrics are fine (they are optional everywhere).
 */
export function validateMetrics(m: LocalMetricsInit | null | undefined): ProtocolError | undefined {
  if (m == null) return undefined;
  for (const key of [...LOSSES, ...ACCURACIES]) {
    const v = m[key];
    if (v != null && !Number.isFinite(v)) {
      return new ProtocolError('BAD_PAYLOAD', `metrics.${snake(key)} is ${v}; metrics must be finite`, {
        detail: 'METRICS_NON_FINITE',
      });
    }
  }
  for (const key of ACCURACIES) {
    const v = m[key];
    if (v != null && (v < 0 || v > 1)) {
      return new ProtocolError('BAD_PAYLOAD', `metrics.${snake(key)} is ${v}; accuracies lie in [0, 1]`, {
        detail: 'METRICS_RANGE',
      });
    }
  }
  return undefined;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

// ---------------------------------------------------------------- predictions

export interface PredictionTaskShape {
  /** Number of predict_indices of the task this upload answers. */
  rows: number;
  /** The federation's class count. */
  classes: number;
  /** The federation's accepted upload encodings. */
  allowedEncodings: readonly PredictionEncoding[];
  /** Largest k accepted for topk (FederationSettings.topk); default: any k in [1, classes]. */
  maxK?: number;
  /** Tolerances passed to decodePredictions. */
  codec?: Pick<PredictionCodecOptions, 'rowSumTolerance' | 'rangeTolerance'>;
}

function checkEncoding(
  value: number | null | undefined,
  allowed: readonly PredictionEncoding[] | undefined,
  what: string,
): PredictionEncoding | ProtocolError {
  const enc = encodingName(value);
  if (enc === undefined || (allowed !== undefined && !allowed.includes(enc))) {
    const list = allowed ?? ['float32', 'float16', 'uint8', 'topk'];
    return new ProtocolError(
      'ENCODING_NOT_ALLOWED',
      `${what} uses ${describeEncoding(value)}; accepted: ${list.join(', ')}`,
    );
  }
  return enc;
}

function checkK(
  k: number,
  classes: number,
  maxK: number | undefined,
  what: string,
): ProtocolError | undefined {
  const limit = Math.min(classes, maxK ?? classes);
  if (!(k >= 1 && k <= limit)) {
    return new ProtocolError('BAD_SHAPE', `${what}: topk needs k in [1, ${limit}], got ${k}`, {
      detail: 'TOPK_K',
    });
  }
  return undefined;
}

/**
 * A PredictionUpload against the task it answers: returns the n x C row-major probabilities.
 * Errors: ENCODING_NOT_ALLOWED, BAD_SHAPE (rows, classes, k), BAD_PAYLOAD (metrics, and every
 * payload check with the PayloadError code in `detail`). All non-fatal.
 */
export function validatePredictionUpload(
  msg: mutua.v1.PredictionUpload.$Properties,
  task: PredictionTaskShape,
): Validated<Float32Array> {
  const enc = checkEncoding(msg.encoding, task.allowedEncodings, 'the upload');
  if (enc instanceof ProtocolError) return err(enc);
  const rows = msg.rows ?? 0;
  const classes = msg.classes ?? 0;
  if (rows !== task.rows) {
    return err(
      new ProtocolError('BAD_SHAPE', `rows is ${rows} but the task has ${task.rows} predict_indices`, {
        detail: 'ROWS',
      }),
    );
  }
  if (classes !== task.classes) {
    return err(
      new ProtocolError('BAD_SHAPE', `classes is ${classes} but the federation has ${task.classes} classes`, {
        detail: 'CLASSES',
      }),
    );
  }
  const k = msg.k ?? 0;
  if (enc === 'topk') {
    const bad = checkK(k, classes, task.maxK, 'the upload');
    if (bad) return err(bad);
  }
  const badMetrics = validateMetrics(msg.metrics);
  if (badMetrics) return err(badMetrics);
  try {
    const probs = decodePredictions(msg.payload ?? new Uint8Array(0), rows, classes, enc, {
      ...task.codec,
      k: enc === 'topk' ? k : undefined,
      maxElements: rows * classes,
    });
    return ok(probs);
  } catch (e) {
    return err(payloadFailure('predictions payload', e));
  }
}

// ---------------------------------------------------------------- targets and tasks

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

function checkIndices(
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

// ---------------------------------------------------------------- weights (fedavg)

export interface WeightsExpectation {
  /** Number of model parameters. */
  count: number;
  /** The federation's model signature (hash of the parameter shapes). */
  signature: string;
}

function decodeWeightsMessage(
  msg: {
    encoding?: number | null;
    count?: number | null;
    payload?: Uint8Array | null;
    modelSignature?: string | null;
  },
  expect: WeightsExpectation,
  what: string,
): Validated<Float32Array> {
  const name = weightEncodingName(msg.encoding);
  if (name === undefined) {
    return err(
      new ProtocolError(
        'ENCODING_NOT_ALLOWED',
        `${what} use ${describeEncoding(msg.encoding)}; accepted: float32, float16, uint8-affine`,
      ),
    );
  }
  const signature = msg.modelSignature ?? '';
  if (signature !== expect.signature) {
    // Non-fatal like every submission error: the participant keeps its session and can reconnect with the right model.
    return err(
      new ProtocolError(
        'MODEL_MISMATCH',
        `${what} have model signature "${signature}", the federation "${expect.signature}"`,
        { fatal: false, detail: 'SIGNATURE' },
      ),
    );
  }
  const count = msg.count ?? 0;
  if (count !== expect.count) {
    return err(
      new ProtocolError(
        'BAD_SHAPE',
        `${what} have count ${count}, the model has ${expect.count} parameters`,
        {
          detail: 'COUNT',
        },
      ),
    );
  }
  try {
    return ok(
      decodeWeights(msg.payload ?? new Uint8Array(0), count, name satisfies WeightEncoding, {
        maxElements: count,
      }),
    );
  } catch (e) {
    return err(payloadFailure(`${what} payload`, e));
  }
}

/**
 * A FedAvg WeightsUpload: FLOAT32/FLOAT16, the federation's signature and parameter count, a
 * positive num_samples (the averaging weight), finite metrics and values. Returns the weights.
 */
export function validateWeightsUpload(
  msg: mutua.v1.WeightsUpload.$Properties,
  expect: WeightsExpectation,
): Validated<Float32Array> {
  if ((msg.numSamples ?? 0) < 1) {
    return err(
      new ProtocolError('BAD_PAYLOAD', 'num_samples must be at least 1: it is the FedAvg averaging weight', {
        detail: 'NUM_SAMPLES',
      }),
    );
  }
  const badMetrics = validateMetrics(msg.metrics);
  if (badMetrics) return err(badMetrics);
  return decodeWeightsMessage(msg, expect, 'the weights');
}

/** GlobalWeights as a fedavg client receives them. */
export function validateGlobalWeights(
  msg: mutua.v1.GlobalWeights.$Properties,
  expect: WeightsExpectation,
): Validated<Float32Array> {
  return decodeWeightsMessage(msg, expect, 'global weights');
}

// ---------------------------------------------------------------- hello

export interface HelloInfo {
  token: { kind: 'join' | 'resume'; value: string };
  name: string;
  kind: mutua.v1.ParticipantKind;
  modelArch: string;
  inputShape: number[];
  numClasses: number;
  /**
   * The prediction encodings the participant supports, in its order, duplicates and values this
   * build does not know removed; [] means "float32 only" (see negotiateEncoding).
   */
  encodings: PredictionEncoding[];
  /** fedavg: the weight encodings it can use (supportedWeightEncodings). */
  weightEncodings: WeightEncoding[];
  clientVersion: string;
  modelSignature: string;
}

/** C0/C1 control characters (NUL included) and unpaired UTF-16 surrogates. */
const UNPRINTABLE = /[\p{Cc}\p{Cs}]/u;

/**
 * Whether `s` is text a person can read and every database can store: no control
 * characters (PostgreSQL refuses NUL in text) and no unpaired surrogates (not encodable as
 * UTF-8). Used for Hello's strings and, as a schema pattern, for names in the REST API.
 */
export function isPrintableText(s: string): boolean {
  return !UNPRINTABLE.test(s);
}

/** Longest token accepted; real tokens are far shorter, and anything longer is not worth hashing. */
export const MAX_TOKEN_LENGTH = 512;
const MAX_INPUT_ELEMENTS = 2 ** 24;

/**
 * The first message of a connection, before any lookup: protocol version 1, exactly one of
 * join_token / resume_token, a plausible model description. Whether the token exists and the
 * model matches the federation is the coordinator's next step. All failures are fatal.
 *
 * Unknown `supported_encodings` values are dropped rather than rejected: enums are open, and a
 * newer client that also offers an encoding this coordinator lacks must still be able to join.
 */
export function validateHello(msg: mutua.v1.Hello.$Properties): Validated<HelloInfo> {
  const version = msg.protocolVersion ?? 0;
  if (version !== mutua.v1.ProtocolVersion.PROTOCOL_VERSION_1) {
    return err(
      new ProtocolError(
        'UNSUPPORTED_PROTOCOL',
        `protocol_version ${version} is not supported; this peer speaks PROTOCOL_VERSION_1 (1)`,
      ),
    );
  }
  const join = msg.joinToken ?? '';
  const resume = msg.resumeToken ?? '';
  if ((join === '') === (resume === '')) {
    return err(
      new ProtocolError('BAD_TOKEN', 'Hello must carry exactly one of join_token and resume_token', {
        detail: join === '' ? 'TOKEN_MISSING' : 'TOKEN_BOTH',
      }),
    );
  }
  const value = join || resume;
  if (value.length > MAX_TOKEN_LENGTH) {
    return err(
      new ProtocolError('BAD_TOKEN', `the token is longer than ${MAX_TOKEN_LENGTH} characters`, {
        detail: 'TOKEN_TOO_LONG',
      }),
    );
  }
  const texts = {
    token: value,
    name: msg.name ?? '',
    model_arch: msg.modelArch ?? '',
    client_version: msg.clientVersion ?? '',
    model_signature: msg.modelSignature ?? '',
  };
  for (const [field, text] of Object.entries(texts)) {
    if (!isPrintableText(text)) {
      return err(
        new ProtocolError('BAD_TEXT', `Hello.${field} holds a control character or an unpaired surrogate`, {
          detail: field.toUpperCase(),
        }),
      );
    }
  }
  const inputShape = [...(msg.inputShape ?? [])];
  const elements = inputShape.reduce((a, b) => a * b, 1);
  if (inputShape.length === 0 || inputShape.some((d) => !(d >= 1)) || elements > MAX_INPUT_ELEMENTS) {
    return err(
      new ProtocolError(
        'MODEL_MISMATCH',
        `input_shape [${inputShape.join(', ')}] must be non-empty positive integers (at most ${MAX_INPUT_ELEMENTS} values)`,
        { detail: 'INPUT_SHAPE' },
      ),
    );
  }
  const numClasses = msg.numClasses ?? 0;
  if (numClasses < 2) {
    return err(
      new ProtocolError('MODEL_MISMATCH', `num_classes must be at least 2, got ${numClasses}`, {
        detail: 'NUM_CLASSES',
      }),
    );
  }
  const encodings: PredictionEncoding[] = [];
  for (const v of msg.supportedEncodings ?? []) {
    const name = encodingName(v);
    if (name !== undefined && !encodings.includes(name)) encodings.push(name);
  }
  return ok({
    token: { kind: join ? 'join' : 'resume', value },
    name: msg.name ?? '',
    kind: msg.kind ?? mutua.v1.ParticipantKind.PARTICIPANT_KIND_UNSPECIFIED,
    modelArch: msg.modelArch ?? '',
    inputShape,
    numClasses,
    encodings,
    weightEncodings: supportedWeightEncodings(msg.supportedEncodings ?? []),
    clientVersion: msg.clientVersion ?? '',
    modelSignature: msg.modelSignature ?? '',
  });
}
