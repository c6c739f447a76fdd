/** Payload sizes and error bounds per encoding (the layouts are documented in ../prediction-codec.ts). */

import { AFFINE_HEADER, AFFINE_SEGMENT, affineSegmentCount } from './affine.ts';
import { checkCount, checkK, checkShape, unknownEncoding } from './checks.ts';
import { HARD_MAX_CLASSES, hardBits, packedBytes } from './lowbit.ts';
import {
  DEFAULT_INPUT_ROW_SUM_TOLERANCE,
  PayloadError,
  type PredictionEncoding,
  type WeightEncoding,
} from './types.ts';

/** Bytes per top-k class index: 1 when C <= 256, else 2. */
export function topkIndexBytes(C: number): 1 | 2 {
  return C <= 256 ? 1 : 2;
}

/** The exact payload length for this shape and encoding (k is required for 'topk'). */
export function predictionByteLength(n: number, C: number, enc: PredictionEncoding, k?: number): number {
  checkShape(n, C, Number.MAX_SAFE_INTEGER);
  switch (enc) {
    case 'float32':
      return 4 * n * C;
    case 'float16':
      return 2 * n * C;
    case 'uint8':
      return n * C;
    case 'topk':
      return n * checkK(k, C) * (topkIndexBytes(C) + 1);
    case 'soft1':
      return packedBytes(n * C, 1);
    case 'soft2':
      return packedBytes(n * C, 2);
    case 'soft4':
      return packedBytes(n * C, 4);
    case 'hard':
      if (C > HARD_MAX_CLASSES) {
        throw new PayloadError(
          'PAYLOAD_BAD_SHAPE',
          `hard labels index at most ${HARD_MAX_CLASSES} classes, got C=${C}`,
        );
      }
      return packedBytes(n, hardBits(C));
    default:
      return unknownEncoding(enc);
  }
}

/**
 * The largest |decoded - p^| any single probability can have under `enc` with C classes (and k
 * kept for 'topk'), where p^ is the input row divided by its sum. See the module comment for
 * the derivations. Includes float rounding of the decoded binary32 value.
 */
export function maxAbsError(enc: PredictionEncoding, C: number, k?: number): number {
  checkShape(1, C, Number.MAX_SAFE_INTEGER);
  const f32Rounding = 2 ** -24;
  switch (enc) {
    case 'float32':
      return 0;
    case 'float16': {
      // |h_j - p_j| <= 2^-11 p_j + 2^-25; row sum P in [1 - tau, 1 + tau]; S = sum h_j.
      // |h_j/S - p_j/P| <= (2^-10 p_j + 2^-25 + p^_j C 2^-25) / S, with S >= P (1 - 2^-11) - C 2^-25.
      const P = 1 - DEFAULT_INPUT_ROW_SUM_TOLERANCE;
      const tiny = 2 ** -25 / P;
      const bound = (2 ** -10 + (C + 1) * tiny) / (1 - 2 ** -11 - C * tiny);
      return Math.min(1, bound + f32Rounding);
    }
    case 'uint8':
      return (C - 1) / (255 * C) + f32Rounding;
    case 'topk': {
      const kk = checkK(k, C);
      const kept = kk / (255 * (kk + 1));
      if (kk === C) return (C - 1) / (255 * C) + f32Rounding;
      const dropped = (C - kk - 1) / ((kk + 1) * (C - kk)) + kept / (C - kk);
      return Math.max(kept, dropped) + f32Rounding;
    }
    case 'soft1':
    case 'soft2':
    case 'soft4': {
      // q_j = d_j + e_j with d_j = L p_j / m, |e_j| <= 1/2 and e = 0 at the argmax (d = L there);
      // S = sum q >= L. |q_j/S - d_j/D| <= |e_j|/S + (d_j/D)|D - S|/S <= (1/2 + p^_j (C-1)/2) / L.
      const L = 2 ** Number(enc.slice(4)) - 1;
      return Math.min(1, C / (2 * L)) + f32Rounding;
    }
    case 'hard':
      // The argmax class loses 1 - p_max <= 1 - 1/C; any other class loses p_j <= 1/2.
      return Math.max(1 - 1 / C, 0.5);
    default:
      return unknownEncoding(enc);
  }
}

/** The exact payload length of `count` weights under `enc` ('uint8': in `segments` segments). */
export function weightByteLength(count: number, enc: WeightEncoding, segments = count > 0 ? 1 : 0): number {
  checkCount(count, Number.MAX_SAFE_INTEGER);
  if (enc === 'float32') return 4 * count;
  if (enc === 'float16') return 2 * count;
  if (enc === 'uint8') return AFFINE_HEADER + AFFINE_SEGMENT * segments + count;
  return unknownEncoding(enc);
}

/** The weight count of a payload (for stored payloads whose count was not kept). */
export function weightCountOf(bytes: Uint8Array, enc: WeightEncoding): number {
  if (enc === 'float32') return Math.floor(bytes.length / 4);
  if (enc === 'float16') return Math.floor(bytes.length / 2);
  if (enc === 'uint8')
    return Math.max(0, bytes.length - AFFINE_HEADER - AFFINE_SEGMENT * affineSegmentCount(bytes));
  return unknownEncoding(enc);
}

/** The segment lengths of a 'uint8' weight payload (its tensor layout, as the sender chose it). */
export function weightSegmentsOf(bytes: Uint8Array): number[] {
  const S = affineSegmentCount(bytes);
  if (bytes.length < AFFINE_HEADER + AFFINE_SEGMENT * S) {
    throw new PayloadError(
      'PAYLOAD_LENGTH_MISMATCH',
      `${S} segments need ${AFFINE_HEADER + AFFINE_SEGMENT * S} header bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: S }, (_, k) => view.getUint32(AFFINE_HEADER + AFFINE_SEGMENT * k, true));
}

/**
 * The largest |decoded - value| of a 'uint8' weight in a segment whose values span
 * [min, max]: half a step, (max - min) / 510, plus binary32 rounding of the scale and of
 * min + scale * byte.
 */
export function maxWeightError(min: number, max: number): number {
  const scale = (max - min) / 255;
  return scale / 2 + 2 ** -22 * (Math.abs(min) + Math.abs(max) + 255 * scale);
}
