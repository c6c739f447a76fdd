/** Prediction payloads: encode and decode n x C probability matrices under each encoding. */

import { checkInputRows, checkK, checkShape, unknownEncoding } from './checks.ts';
import { decodeFloat16Probs, decodeFloat32Probs, float16Bytes, float32Bytes } from './floats.ts';
import { decodeHard, decodeSoftBits, encodeHard, encodeSoftBits } from './lowbit.ts';
import { decodeTopk, decodeUint8, encodeTopk, encodeUint8 } from './quantized.ts';
import { predictionByteLength } from './sizes.ts';
import {
  DEFAULT_INPUT_ROW_SUM_TOLERANCE,
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_RANGE_TOLERANCE,
  DEFAULT_ROW_SUM_TOLERANCE,
  PayloadError,
  type PredictionCodecOptions,
  type PredictionEncoding,
} from './types.ts';

/**
 * Encodes the n x C row-major matrix `probs` (rows are distributions) under `enc`. Throws
 * PayloadError when the shape is invalid, probs.length != n*C, a value is not finite or
 * outside [0, 1] beyond the range tolerance (values within it are clamped), or a row does
 * not sum to 1 within opts.rowSumTolerance.
 */
export function encodePredictions(
  probs: Float32Array,
  n: number,
  C: number,
  enc: PredictionEncoding,
  opts: PredictionCodecOptions = {},
): Uint8Array {
  checkShape(n, C, opts.maxElements ?? DEFAULT_MAX_ELEMENTS);
  const k = enc === 'topk' ? checkK(opts.k, C) : 0;
  if (probs.length !== n * C) {
    throw new PayloadError(
      'PAYLOAD_LENGTH_MISMATCH',
      `expected n*C = ${n}*${C} = ${n * C} probabilities, got ${probs.length}`,
    );
  }
  const src = checkInputRows(
    probs,
    n,
    C,
    opts.rowSumTolerance ?? DEFAULT_INPUT_ROW_SUM_TOLERANCE,
    opts.rangeTolerance ?? DEFAULT_RANGE_TOLERANCE,
  );
  switch (enc) {
    case 'float32':
      return float32Bytes(src);
    case 'float16':
      return float16Bytes(src);
    case 'uint8':
      return encodeUint8(src, n, C);
    case 'topk':
      return encodeTopk(src, n, C, k);
    case 'soft1':
      return encodeSoftBits(src, n, C, 1);
    case 'soft2':
      return encodeSoftBits(src, n, C, 2);
    case 'soft4':
      return encodeSoftBits(src, n, C, 4);
    case 'hard':
      return encodeHard(src, n, C);
    default:
      return unknownEncoding(enc);
  }
}

/**
 * Decodes and validates a payload into a fresh n x C row-major Float32Array whose rows sum
 * to 1 (float32: within the tolerance; the others up to binary32 rounding). Throws
 * PayloadError for a bad shape or k, a length that does not match, non-finite values,
 * probabilities outside [0, 1], wrong row sums, or bad top-k indices.
 */
export function decodePredictions(
  bytes: Uint8Array,
  n: number,
  C: number,
  enc: PredictionEncoding,
  opts: PredictionCodecOptions = {},
): Float32Array {
  checkShape(n, C, opts.maxElements ?? DEFAULT_MAX_ELEMENTS);
  const k = enc === 'topk' ? checkK(opts.k, C) : 0;
  const expected = predictionByteLength(n, C, enc, enc === 'topk' ? k : undefined);
  if (bytes.length !== expected) {
    const shape = enc === 'topk' ? `n=${n}, C=${C}, k=${k}` : `n=${n}, C=${C}`;
    throw new PayloadError(
      'PAYLOAD_LENGTH_MISMATCH',
      `a ${enc} payload for ${shape} is ${expected} bytes, got ${bytes.length}`,
    );
  }
  const rangeTol = opts.rangeTolerance ?? DEFAULT_RANGE_TOLERANCE;
  switch (enc) {
    case 'float32':
      return decodeFloat32Probs(
        bytes,
        n,
        C,
        opts.rowSumTolerance ?? DEFAULT_ROW_SUM_TOLERANCE.float32,
        rangeTol,
      );
    case 'float16':
      return decodeFloat16Probs(
        bytes,
        n,
        C,
        opts.rowSumTolerance ?? DEFAULT_ROW_SUM_TOLERANCE.float16,
        rangeTol,
      );
    case 'uint8':
      return decodeUint8(bytes, n, C);
    case 'topk':
      return decodeTopk(bytes, n, C, k);
    case 'soft1':
      return decodeSoftBits(bytes, n, C, 1);
    case 'soft2':
      return decodeSoftBits(bytes, n, C, 2);
    case 'soft4':
      return decodeSoftBits(bytes, n, C, 4);
    case 'hard':
      return decodeHard(bytes, n, C);
    default:
      return unknownEncoding(enc);
  }
}
