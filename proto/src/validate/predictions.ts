/** A PredictionUpload against the task it answers. */
import { compressionName, encodingName } from '../enums.ts';
import { ProtocolError } from '../errors.ts';
import type { mutua } from '../gen/mutua.js';
import {
  type CompressionName,
  type DeltaRows,
  decodeDelta,
  decodePredictions,
  maxDeltaByteLength,
  type PredictionCodecOptions,
  type PredictionEncoding,
  predictionByteLength,
} from '../prediction-codec.ts';
import { describeEncoding, err, ok, payloadFailure, type Validated } from './common.ts';
import { validateMetrics } from './metrics.ts';

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
  /**
   * Compressions accepted besides 'none' (the participant's negotiated one), and how to undo
   * them: `inflate(payload, expected)` returns exactly `expected` bytes or throws PayloadError
   * (PAYLOAD_INFLATE); it must never produce more than `expected` + 1 bytes (decompression bombs).
   */
  compression?: {
    allowed: readonly CompressionName[];
    inflate(payload: Uint8Array, expected: number, how: CompressionName, exact?: boolean): Uint8Array;
  };
  /**
   * A delta upload (PredictionUpload.delta_base != 0, payload/delta.ts): the public indices of
   * the task's rows and the rows held for this participant. The caller has checked that the
   * held rows are as of delta_base. Absent: a delta upload is ENCODING_NOT_ALLOWED.
   */
  delta?: { indices: ArrayLike<number>; base: DeltaRows };
}

/** What validatePredictionUpload accepted: the probabilities and the payload as encoded (inflated). */
export interface ValidPredictions {
  probs: Float32Array;
  /** The encoding's bytes: `payload` itself, or what it inflated to. */
  payload: Uint8Array;
}

/** The compression a payload message names, when this receiver accepts it. */
export function checkCompression(
  value: number | null | undefined,
  allowed: readonly CompressionName[],
  what: string,
): CompressionName | ProtocolError {
  const name = compressionName(value ?? 0);
  if (name === undefined || (name !== 'none' && !allowed.includes(name))) {
    return new ProtocolError(
      'ENCODING_NOT_ALLOWED',
      `${what} uses compression ${value}; accepted: ${['none', ...allowed].join(', ')}`,
      { detail: 'COMPRESSION' },
    );
  }
  return name;
}

export function checkEncoding(
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

export function checkK(
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
  const v = validatePredictionPayload(msg, task);
  return v.ok ? ok(v.value.probs) : v;
}

/** validatePredictionUpload, also returning the (inflated) payload the probabilities came from. */
export function validatePredictionPayload(
  msg: mutua.v1.PredictionUpload.$Properties,
  task: PredictionTaskShape,
): Validated<ValidPredictions> {
  const enc = checkEncoding(msg.encoding, task.allowedEncodings, 'the upload');
  if (enc instanceof ProtocolError) return err(enc);
  const how = checkCompression(msg.compression, task.compression?.allowed ?? [], 'the upload');
  if (how instanceof ProtocolError) return err(how);
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
  const isDelta = Number(msg.deltaBase ?? 0) !== 0;
  if (isDelta && task.delta === undefined) {
    return err(
      new ProtocolError('ENCODING_NOT_ALLOWED', 'the upload is a delta, but deltas were not negotiated', {
        detail: 'DELTA',
      }),
    );
  }
  try {
    let payload = msg.payload ?? new Uint8Array(0);
    const kk = enc === 'topk' ? k : undefined;
    if (how !== 'none' && task.compression) {
      // A delta's length depends on how many rows it sends: inflate up to the all-rows size.
      const expected = isDelta
        ? maxDeltaByteLength(rows, classes, enc, kk)
        : predictionByteLength(rows, classes, enc, kk);
      payload = task.compression.inflate(payload, expected, how, !isDelta);
    }
    const opts = { ...task.codec, k: kk, maxElements: rows * classes };
    if (isDelta && task.delta) {
      if (task.delta.indices.length !== rows) {
        return err(
          new ProtocolError('BAD_SHAPE', `a delta for ${task.delta.indices.length} rows has rows ${rows}`),
        );
      }
      const { values } = decodeDelta(payload, task.delta.indices, classes, enc, task.delta.base, opts);
      return ok({ probs: values, payload });
    }
    const probs = decodePredictions(payload, rows, classes, enc, opts);
    return ok({ probs, payload });
  } catch (e) {
    return err(payloadFailure('predictions payload', e));
  }
}
