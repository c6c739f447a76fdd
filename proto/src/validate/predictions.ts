/** A PredictionUpload against the task it answers. */
import { encodingName } from '../enums.ts';
import { ProtocolError } from '../errors.ts';
import type { mutua } from '../gen/mutua.js';
import {
  decodePredictions,
  type PredictionCodecOptions,
  type PredictionEncoding,
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
