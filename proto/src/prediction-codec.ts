/**
 * Byte payloads for predictions and model weights.
 *
 * A prediction upload is an n x C matrix of class probabilities (n public samples, C classes,
 * row-major, each row a distribution). The wire message carries it as `bytes` next to an
 * `encoding` enum and the shape (n, C, and k for top-k), so the payload itself has NO header:
 * its length is fully determined by (n, C, encoding, k) — see predictionByteLength. All
 * multi-byte numbers are little-endian. A client in any language can implement these layouts
 * from this comment alone.
 *
 * Layouts, for row i and class j (offsets in bytes):
 *
 * - float32: n*C IEEE 754 binary32 values; value (i, j) at 4*(i*C + j). Lossless.
 * - float16: n*C IEEE 754 binary16 values; value (i, j) at 2*(i*C + j). Encoders round to
 *   nearest, ties to even, with subnormals. Decoders check each row sums to 1 within 1e-2
 *   and then divide the row by its sum.
 * - uint8: n*C unsigned bytes; byte (i, j) at i*C + j is the probability in 255ths, and every
 *   row's bytes sum to EXACTLY 255 (decoders reject anything else), so b/255 is a distribution
 *   without renormalising. Encoders quantize with the largest-remainder method: t_j = 255*p_j/sum(p),
 *   floor every t_j, then add 1 to the (255 - sum of floors) entries with the largest
 *   fractional parts, ties going to the lower class index.
 * - topk: n rows of k entries; an entry is (class index, quantized probability): the index is
 *   ONE byte when C <= 256 and a uint16 LE when 256 < C <= 65536 (topk rejects larger C),
 *   followed by one unsigned byte in 255ths. So an entry is w+1 bytes (w = topkIndexBytes(C)),
 *   a row k*(w+1) bytes, entry (i, e) at (i*k + e)*(w+1). Within a row the indices are < C and
 *   distinct, and the bytes sum to at most 255; the leftover L = 255 - sum is the mass of the
 *   C-k classes that were not sent, and decoders give each of them L / (255*(C-k)), so decoded
 *   rows sum to 1 and unsent classes are not forced to 0 (which would make a KL divergence
 *   against the decoded row infinite wherever the truth is not 0). When k = C there is no unsent class
 *   and the bytes must sum to exactly 255. Encoders send the k most probable classes in
 *   decreasing probability (ties: lower index first) and quantize the k kept values plus the
 *   leftover as one more bucket with the same largest-remainder rule (the leftover bucket
 *   losing ties), so the leftover is within one 255th of the true dropped mass. Decoders
 *   accept the entries in any order.
 *
 *   Why this layout: rows are self-contained (entries of a row are adjacent, so a row can be
 *   read or skipped alone), and the index width follows C because with 16-bit indices a top-3
 *   row of a 10-class problem would cost 9 bytes against 10 for the dense uint8 row, which
 *   would make top-k pointless for the common small-C case; with 8-bit indices it costs 6.
 *
 * Error bounds (decoded value vs. the input row normalised to sum 1, p^_j = p_j / sum(p);
 * maxAbsError(enc, C, k) returns them, and the tests check them on random rows):
 *
 * - float32: 0. Decoding returns exactly the values encoded (rows are not renormalised, so
 *   they sum to 1 within the sender's rounding, checked to 1e-3).
 * - float16: binary16 rounding is within 2^-11 relative (2^-25 absolute among subnormals),
 *   and renormalising can move each value by as much again, so
 *   |decoded_j - p^_j| <= ~2^-10 * p^_j + (C+1) * 2^-25; maxAbsError takes p^_j = 1.
 * - uint8: largest remainder moves each t_j by less than one unit; more precisely, an entry
 *   rounded up has a fractional part at least 1/(C-R+1) and one rounded down at most R/(R+1)
 *   (R = number of entries rounded up, 1 <= R <= C-1 when any rounding happens), so
 *   |decoded_j - p^_j| <= (C-1)/(255*C) < 1/255. The bound is reached (C = 2, p = (0.5, 0.5)
 *   gives bytes 128/127).
 * - topk: kept classes are within k/(255*(k+1)) (largest remainder over k+1 buckets). An
 *   unsent class gets the dropped mass D spread evenly, so its error is at most
 *   D*(C-k-1)/(C-k) + k/(255*(k+1)*(C-k)); since an unsent class is no more probable than any
 *   kept one, D's share in a single class is at most 1/(k+1), which gives the data-independent
 *   worst case (C-k-1)/((k+1)*(C-k)) returned by maxAbsError. In short: the error is the
 *   dropped mass, not the quantization.
 *
 * Measured on 20 000 softmax rows (logit scales 0.1 to 10), max |error| vs the bound:
 *   C=10:  float16 1.9e-4 (relative 7.9e-4 = 0.81 * 2^-10) vs 9.8e-4; uint8 3.12e-3 vs 3.53e-3;
 *          topk k=1 0.444 vs 0.445, k=3 0.186 vs 0.215, k=5 0.100 vs 0.134 (mean 2.6e-2, 7.4e-3, 3.2e-3)
 *   C=100: float16 1.8e-4 vs 9.8e-4; uint8 3.25e-3 vs 3.88e-3; topk k=5 0.106 vs 0.165 (mean 2.2e-3)
 *
 * Validation: decoders check everything a peer controls and throw PayloadError with a stable
 * code; encoders check their input with the same codes, so a bad local row fails before it is
 * sent. Values outside [0, 1] by no more than the range tolerance (default 1e-6, for GPU
 * softmax that returns 1.0000001) are clamped into [0, 1], by encoders before encoding (so
 * float32 round trips are exact for in-range input) and by decoders for foreign senders.
 * Decoded probabilities may be exactly 0 under every encoding: whoever takes their log must
 * floor them. Decoders run on every upload, so they allocate only the output (plus scratch
 * reused across calls) and touch each byte once or twice.
 */

import { float32BitsToFloat16Bits, fromFloat16Bits } from './float16.ts';

export type PredictionEncoding = 'float32' | 'float16' | 'uint8' | 'topk';
export const PREDICTION_ENCODINGS: readonly PredictionEncoding[] = ['float32', 'float16', 'uint8', 'topk'];

/** Weight encodings; 'uint8' is ENCODING_UINT8_AFFINE on the wire (not the prediction uint8). */
export type WeightEncoding = 'float32' | 'float16' | 'uint8';
export const WEIGHT_ENCODINGS: readonly WeightEncoding[] = ['float32', 'float16', 'uint8'];
/** Values per segment when an 8-bit weight encoder is not told the tensor sizes. */
export const DEFAULT_WEIGHT_BLOCK = 4096;

export type PayloadErrorCode =
  /** The byte length does not match the declared shape and encoding (or the values array its shape). */
  | 'PAYLOAD_LENGTH_MISMATCH'
  /** A float32/float16 value is NaN or infinite (or a weight would overflow float16). */
  | 'PAYLOAD_NON_FINITE'
  /** A probability lies outside [0, 1] by more than the range tolerance. */
  | 'PAYLOAD_PROB_RANGE'
  /** A row does not sum to 1 (float32/float16, within tolerance) or to 255 (uint8; topk: <= 255). */
  | 'PAYLOAD_ROW_SUM'
  /** A top-k class index is >= C or repeated within its row. */
  | 'PAYLOAD_TOPK_INDEX'
  /** n, C, k or a weight count is not a positive integer in range, or n*C exceeds maxElements. */
  | 'PAYLOAD_BAD_SHAPE';

export const PAYLOAD_ERROR_CODES: readonly PayloadErrorCode[] = [
  'PAYLOAD_LENGTH_MISMATCH',
  'PAYLOAD_NON_FINITE',
  'PAYLOAD_PROB_RANGE',
  'PAYLOAD_ROW_SUM',
  'PAYLOAD_TOPK_INDEX',
  'PAYLOAD_BAD_SHAPE',
];

/** A payload (or an encoder's input) that breaks its layout's rules; `code` is stable. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
  readonly code: PayloadErrorCode;

  constructor(code: PayloadErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** Default |row sum - 1| accepted by the float decoders: float16 rows carry rounding error. */
export const DEFAULT_ROW_SUM_TOLERANCE: Readonly<Record<'float32' | 'float16', number>> = {
  float32: 1e-3,
  float16: 1e-2,
};
/** Default |row sum - 1| accepted from an encoder's float32 input, whatever the encoding. */
export const DEFAULT_INPUT_ROW_SUM_TOLERANCE = 1e-3;
/**
 * Default distance outside [0, 1] still accepted (and then clamped into [0, 1]): a few binary32
 * ulps at 1, because GPU backends do not divide with correct rounding and softmax can come out
 * as 1.0000001. Anything farther is an error, since a negative probability breaks every log.
 */
export const DEFAULT_RANGE_TOLERANCE = 1e-6;
/** Default cap on n*C. Callers on a server should pass their own, smaller, limit. */
export const DEFAULT_MAX_ELEMENTS = 2 ** 24;
/** Default cap on a weight vector's length. */
export const DEFAULT_MAX_WEIGHTS = 2 ** 28;
/** Largest C the topk encoding can index (uint16 indices). */
export const TOPK_MAX_CLASSES = 65536;

export interface PredictionCodecOptions {
  /** Entries kept per row: required for 'topk' (1 <= k <= C), ignored by the other encodings. */
  k?: number;
  /**
   * Accepted |row sum - 1|. Decoders: for float32/float16 rows (defaults DEFAULT_ROW_SUM_TOLERANCE);
   * uint8/topk rows are checked on their integer sums instead. Encoders: for the input rows
   * (default DEFAULT_INPUT_ROW_SUM_TOLERANCE).
   */
  rowSumTolerance?: number;
  /** Accepted distance outside [0, 1] before PAYLOAD_PROB_RANGE (default DEFAULT_RANGE_TOLERANCE). */
  rangeTolerance?: number;
  /** Largest n*C accepted (default DEFAULT_MAX_ELEMENTS). */
  maxElements?: number;
}

export interface WeightCodecOptions {
  /** Largest weight count accepted (default DEFAULT_MAX_WEIGHTS). */
  maxElements?: number;
  /**
   * 'uint8' encoders: consecutive segment lengths (positive, summing to the weight count),
   * each with its own scale and offset: one per tensor is the intent. Default: blocks of
   * DEFAULT_WEIGHT_BLOCK values.
   */
  segments?: readonly number[];
}

// ---------------------------------------------------------------------------------------
// Sizes and bounds

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

// ---------------------------------------------------------------------------------------
// Predictions

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
    default:
      return unknownEncoding(enc);
  }
}

// ---------------------------------------------------------------------------------------
// Weights (FedAvg baseline)

/**
 * Encodes a flat weight vector. float32 / float16: binary32 or binary16, little-endian, no
 * header. uint8 (ENCODING_UINT8_AFFINE): a uint32 LE segment count S, then per segment a
 * uint32 LE length, a float32 LE offset `min` and a float32 LE `scale`, then one byte q per
 * weight, decoded as min + scale * q (segments in order, covering every weight once). The
 * encoder takes min and max of each segment, scale = (max - min) / 255 and q = round((v -
 * min) / scale), so each weight is within maxWeightError(min, max) (half a step). Throws
 * PAYLOAD_NON_FINITE for NaN/Infinity, and for float16 also for magnitudes that round to
 * Infinity (>= 65520); float16 magnitudes below 2^-25 become 0; PAYLOAD_BAD_SHAPE for
 * segments that do not cover the weights.
 */
export function encodeWeights(
  values: Float32Array,
  enc: WeightEncoding,
  opts: WeightCodecOptions = {},
): Uint8Array {
  checkCount(values.length, opts.maxElements ?? DEFAULT_MAX_WEIGHTS);
  if (enc !== 'float32' && enc !== 'float16' && enc !== 'uint8') return unknownEncoding(enc);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) throw new PayloadError('PAYLOAD_NON_FINITE', `weight ${i} is ${v}`);
  }
  if (enc === 'float32') return float32Bytes(values);
  if (enc === 'uint8') return encodeAffine(values, opts.segments ?? blocks(values.length));
  const out = float16Bytes(values);
  for (let i = 0; i < values.length; i++) {
    if ((out[2 * i + 1]! & 0x7c) === 0x7c) {
      throw new PayloadError(
        'PAYLOAD_NON_FINITE',
        `weight ${i} = ${values[i]} overflows float16 (max 65504)`,
      );
    }
  }
  return out;
}

/** Decodes `count` weights; throws on a length mismatch or a NaN/Infinity in the payload. */
export function decodeWeights(
  bytes: Uint8Array,
  count: number,
  enc: WeightEncoding,
  opts: WeightCodecOptions = {},
): Float32Array {
  checkCount(count, opts.maxElements ?? DEFAULT_MAX_WEIGHTS);
  if (enc === 'uint8') return decodeAffine(bytes, count);
  const expected = weightByteLength(count, enc);
  if (bytes.length !== expected) {
    throw new PayloadError(
      'PAYLOAD_LENGTH_MISMATCH',
      `${count} ${enc} weights are ${expected} bytes, got ${bytes.length}`,
    );
  }
  if (enc === 'float32') {
    const out = float32FromBytes(bytes, count);
    for (let i = 0; i < count; i++) {
      const v = out[i]!;
      if (v - v !== 0) throw new PayloadError('PAYLOAD_NON_FINITE', `weight ${i} is ${v}`);
    }
    return out;
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const h = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
    if ((h & 0x7c00) === 0x7c00) {
      throw new PayloadError('PAYLOAD_NON_FINITE', `weight ${i} is ${fromFloat16Bits(h)} (0x${hex16(h)})`);
    }
    out[i] = fromFloat16Bits(h);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// 8-bit weights with a scale and offset per segment (ENCODING_UINT8_AFFINE)

const AFFINE_HEADER = 4;
const AFFINE_SEGMENT = 12;

function blocks(count: number): number[] {
  const out: number[] = [];
  for (let off = 0; off < count; off += DEFAULT_WEIGHT_BLOCK)
    out.push(Math.min(DEFAULT_WEIGHT_BLOCK, count - off));
  return out;
}

function affineSegmentCount(bytes: Uint8Array): number {
  if (bytes.length < AFFINE_HEADER) {
    throw new PayloadError(
      'PAYLOAD_LENGTH_MISMATCH',
      `a uint8 weight payload starts with a 4-byte segment count, got ${bytes.length} bytes`,
    );
  }
  return (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
}

function checkSegments(segments: readonly number[], count: number): void {
  let sum = 0;
  for (const len of segments) {
    if (!Number.isSafeInteger(len) || len < 1) {
      throw new PayloadError(
        'PAYLOAD_BAD_SHAPE',
        `weight segment lengths must be positive integers, got ${len}`,
      );
    }
    sum += len;
  }
  if (sum !== count) {
    throw new PayloadError(
      'PAYLOAD_BAD_SHAPE',
      `weight segments cover ${sum} values, the payload has ${count}`,
    );
  }
}

function encodeAffine(values: Float32Array, segments: readonly number[]): Uint8Array {
  checkSegments(segments, values.length);
  const S = segments.length;
  const head = AFFINE_HEADER + AFFINE_SEGMENT * S;
  const out = new Uint8Array(head + values.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, S, true);
  let off = 0;
  for (let k = 0; k < S; k++) {
    const len = segments[k]!;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = off; i < off + len; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    // The values are binary32, so min is exact; the scale is rounded to binary32 as sent,
    // and the bytes are computed from what the receiver will multiply by.
    const scale = Math.fround((max - min) / 255);
    view.setUint32(AFFINE_HEADER + AFFINE_SEGMENT * k, len, true);
    view.setFloat32(AFFINE_HEADER + AFFINE_SEGMENT * k + 4, min, true);
    view.setFloat32(AFFINE_HEADER + AFFINE_SEGMENT * k + 8, scale, true);
    if (scale > 0) {
      for (let i = off; i < off + len; i++) {
        const q = Math.round((values[i]! - min) / scale);
        out[head + i] = Math.min(255, Math.max(0, q));
      }
    }
    off += len;
  }
  return out;
}

function decodeAffine(bytes: Uint8Array, count: number): Float32Array {
  const S = affineSegmentCount(bytes);
  if (S > count || (count > 0 && S === 0)) {
    throw new PayloadError('PAYLOAD_BAD_SHAPE', `${S} weight segments for ${count} weights`);
  }
  const head = AFFINE_HEADER + AFFINE_SEGMENT * S;
  if (bytes.length !== head + count) {
    throw new PayloadError(
      'PAYLOAD_LENGTH_MISMATCH',
      `${count} uint8 weights in ${S} segments are ${head + count} bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengths = Array.from({ length: S }, (_, k) =>
    view.getUint32(AFFINE_HEADER + AFFINE_SEGMENT * k, true),
  );
  checkSegments(lengths, count);
  const out = new Float32Array(count);
  let off = 0;
  for (let k = 0; k < S; k++) {
    const min = view.getFloat32(AFFINE_HEADER + AFFINE_SEGMENT * k + 4, true);
    const scale = view.getFloat32(AFFINE_HEADER + AFFINE_SEGMENT * k + 8, true);
    if (
      !(
        min - min === 0 &&
        scale - scale === 0 &&
        Math.fround(min + 255 * scale) - Math.fround(min + 255 * scale) === 0
      )
    ) {
      throw new PayloadError(
        'PAYLOAD_NON_FINITE',
        `weight segment ${k} has offset ${min} and scale ${scale}`,
      );
    }
    if (scale < 0) {
      throw new PayloadError('PAYLOAD_BAD_SHAPE', `weight segment ${k} has a negative scale ${scale}`);
    }
    const len = lengths[k]!;
    for (let i = off; i < off + len; i++) out[i] = min + scale * bytes[head + i]!;
    off += len;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Validation helpers

function unknownEncoding(enc: never): never {
  throw new TypeError(`unknown encoding ${JSON.stringify(enc)}`);
}

function checkShape(n: number, C: number, maxElements: number): void {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new PayloadError('PAYLOAD_BAD_SHAPE', `n (rows) must be a positive integer, got ${n}`);
  }
  if (!Number.isSafeInteger(C) || C < 1) {
    throw new PayloadError('PAYLOAD_BAD_SHAPE', `C (classes) must be a positive integer, got ${C}`);
  }
  if (n * C > maxElements) {
    throw new PayloadError(
      'PAYLOAD_BAD_SHAPE',
      `n*C = ${n}*${C} = ${n * C} exceeds the limit of ${maxElements}`,
    );
  }
}

function checkK(k: number | undefined, C: number): number {
  if (C > TOPK_MAX_CLASSES) {
    throw new PayloadError(
      'PAYLOAD_BAD_SHAPE',
      `topk indexes at most ${TOPK_MAX_CLASSES} classes, got C=${C}`,
    );
  }
  if (k === undefined || !Number.isInteger(k) || k < 1 || k > C) {
    throw new PayloadError('PAYLOAD_BAD_SHAPE', `topk needs an integer k in [1, C=${C}], got ${k}`);
  }
  return k;
}

function checkCount(count: number, maxElements: number): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new PayloadError('PAYLOAD_BAD_SHAPE', `weight count must be a non-negative integer, got ${count}`);
  }
  if (count > maxElements) {
    throw new PayloadError('PAYLOAD_BAD_SHAPE', `weight count ${count} exceeds the limit of ${maxElements}`);
  }
}

/**
 * Slow path for a value v that failed `v >= 0 && v <= 1`: returns it clamped into [0, 1] when
 * it is within `tol`, else throws the right code.
 */
function clampProb(v: number, tol: number, row: number, col: number): number {
  if (v - v !== 0) {
    throw new PayloadError('PAYLOAD_NON_FINITE', `row ${row}, class ${col} is ${v}`);
  }
  if (v < -tol || v > 1 + tol) {
    throw new PayloadError('PAYLOAD_PROB_RANGE', `row ${row}, class ${col} is ${v}, outside [0, 1]`);
  }
  return v < 0 ? 0 : 1;
}

function rowSumError(row: number, sum: number, tol: number): PayloadError {
  return new PayloadError('PAYLOAD_ROW_SUM', `row ${row} sums to ${sum}, expected 1 ± ${tol}`);
}

/**
 * Checks encoder input; returns `probs` itself, or a clamped copy when some value was outside
 * [0, 1] within the range tolerance (the caller's array is never modified).
 */
function checkInputRows(
  probs: Float32Array,
  n: number,
  C: number,
  sumTol: number,
  rangeTol: number,
): Float32Array {
  let src = probs;
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = 0; j < C; j++) {
      let v = src[base + j]!;
      if (!(v >= 0 && v <= 1)) {
        v = clampProb(v, rangeTol, r, j);
        if (src === probs) src = probs.slice();
        src[base + j] = v;
      }
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= sumTol)) throw rowSumError(r, sum, sumTol);
  }
  return src;
}

function hex16(h: number): string {
  return h.toString(16).padStart(4, '0');
}

// ---------------------------------------------------------------------------------------
// float32 / float16 bytes

const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function float32Bytes(src: Float32Array): Uint8Array {
  if (HOST_LITTLE_ENDIAN) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength).slice();
  const out = new Uint8Array(src.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < src.length; i++) view.setFloat32(4 * i, src[i]!, true);
  return out;
}

/** A fresh Float32Array from little-endian bytes, whatever their alignment (one memcpy). */
function float32FromBytes(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  if (HOST_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  }
  return out;
}

function float16Bytes(src: Float32Array): Uint8Array {
  // A Float32Array's byteOffset is always a multiple of 4, so this view is always valid.
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint8Array(2 * src.length);
  for (let i = 0; i < bits.length; i++) {
    const h = float32BitsToFloat16Bits(bits[i]!);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

function decodeFloat32Probs(
  bytes: Uint8Array,
  n: number,
  C: number,
  sumTol: number,
  rangeTol: number,
): Float32Array {
  const out = float32FromBytes(bytes, n * C);
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = base; j < base + C; j++) {
      let v = out[j]!;
      if (!(v >= 0 && v <= 1)) {
        v = clampProb(v, rangeTol, r, j - base);
        out[j] = v;
      }
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= sumTol)) throw rowSumError(r, sum, sumTol);
  }
  return out;
}

function decodeFloat16Probs(
  bytes: Uint8Array,
  n: number,
  C: number,
  sumTol: number,
  rangeTol: number,
): Float32Array {
  const out = new Float32Array(n * C);
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = base; j < base + C; j++) {
      let v = fromFloat16Bits(bytes[2 * j]! | (bytes[2 * j + 1]! << 8));
      if (!(v >= 0 && v <= 1)) v = clampProb(v, rangeTol, r, j - base);
      out[j] = v;
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= sumTol)) throw rowSumError(r, sum, sumTol);
    for (let j = base; j < base + C; j++) out[j] = out[j]! / sum;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// uint8 and topk

// Scratch reused across calls so encoding allocates only its output. Safe because every
// function here is synchronous and none calls back into user code. Hot loops read it through
// locals: module-level `let` bindings cost a hole check on every access.
interface Scratch {
  /** Bucket targets, then their fractional parts. */
  readonly t: Float64Array;
  /** Quantized buckets. */
  readonly q: Int32Array;
  /** Sort/select keys. */
  readonly keys: Float64Array;
  /** Selected top-k class indices. */
  readonly sel: Int32Array;
}

let scratch: Scratch = makeScratch(64);

function makeScratch(size: number): Scratch {
  return {
    t: new Float64Array(size),
    q: new Int32Array(size),
    keys: new Float64Array(size),
    sel: new Int32Array(size),
  };
}

function getScratch(m: number): Scratch {
  if (scratch.t.length < m) scratch = makeScratch(Math.max(m, 2 * scratch.t.length));
  return scratch;
}

/**
 * Moves the value that ranks `kth` (0-based, ascending) among a[0..len) to a[kth], with no
 * larger value before it and no smaller one after (C++'s nth_element; Hoare/Wirth partitioning
 * around a median-of-three, average O(len)). Returns a[kth].
 */
function selectKth(a: Float64Array, len: number, kth: number): number {
  let lo = 0;
  let hi = len - 1;
  while (lo < hi) {
    const x0 = a[lo]!;
    const x1 = a[(lo + hi) >>> 1]!;
    const x2 = a[hi]!;
    const pivot = Math.max(Math.min(x0, x1), Math.min(Math.max(x0, x1), x2)); // median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (pivot < a[j]!) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    // Now a[lo..j] <= pivot, a[j+1..i-1] == pivot, a[i..hi] >= pivot: keep kth's part.
    if (j < kth) lo = i;
    if (kth < i) hi = j;
  }
  return a[kth]!;
}

/**
 * Largest-remainder rounding of t[0..m) (non-negative, summing to `total` up to float error)
 * into q[0..m), which then sums to exactly `total`: floor everything, then add 1 to the
 * `missing` entries with the largest fractional parts, ties to the lower position. Overwrites
 * t with the fractional parts.
 */
function largestRemainder(s: Scratch, m: number, total: number): void {
  const t = s.t;
  const q = s.q;
  let floorSum = 0;
  for (let i = 0; i < m; i++) {
    const f = Math.floor(t[i]!);
    q[i] = f;
    floorSum += f;
    t[i] = t[i]! - f;
  }
  // 0 <= missing <= m: each fraction is < 1 and they add up to `missing` (up to float error).
  const missing = total - floorSum;
  if (missing <= 0) return;
  if (missing >= m) {
    for (let i = 0; i < m; i++) q[i] = q[i]! + 1;
    return;
  }
  if (m <= 16) {
    // Few buckets: pick the largest remaining fraction `missing` times; `>` keeps the lower
    // position on ties. Picked fractions are set to -1 (they are scratch).
    for (let r = 0; r < missing; r++) {
      let best = 0;
      for (let i = 1; i < m; i++) if (t[i]! > t[best]!) best = i;
      q[best] = q[best]! + 1;
      t[best] = -1;
    }
    return;
  }
  // Many buckets: find the missing-th largest fraction, then raise everything above it and
  // the lowest positions among those equal to it.
  const keys = s.keys;
  for (let i = 0; i < m; i++) keys[i] = t[i]!;
  const threshold = selectKth(keys, m, m - missing);
  let ties = missing;
  for (let i = 0; i < m; i++) if (t[i]! > threshold) ties--;
  for (let i = 0; i < m; i++) {
    const f = t[i]!;
    if (f > threshold || (f === threshold && ties-- > 0)) q[i] = q[i]! + 1;
  }
}

function encodeUint8(src: Float32Array, n: number, C: number): Uint8Array {
  const s = getScratch(C);
  const t = s.t;
  const q = s.q;
  const out = new Uint8Array(n * C);
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = base; j < base + C; j++) sum += src[j]!;
    const scale = 255 / sum;
    for (let j = 0; j < C; j++) t[j] = src[base + j]! * scale;
    largestRemainder(s, C, 255);
    for (let j = 0; j < C; j++) out[base + j] = q[j]!;
  }
  return out;
}

const UINT8_VALUES = new Float32Array(256).map((_, b) => b / 255);

function decodeUint8(bytes: Uint8Array, n: number, C: number): Float32Array {
  const out = new Float32Array(n * C);
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = base; j < base + C; j++) {
      const b = bytes[j]!;
      sum += b;
      out[j] = UINT8_VALUES[b]!;
    }
    if (sum !== 255) {
      throw new PayloadError('PAYLOAD_ROW_SUM', `uint8 row ${r} sums to ${sum}, expected exactly 255`);
    }
  }
  return out;
}

/**
 * Fills s.sel[0..k) with the indices of the k largest values of src[base..base+C), largest
 * first, ties to the lower index. `bits` aliases src as uint32.
 */
function selectTopk(
  s: Scratch,
  src: Float32Array,
  bits: Uint32Array,
  base: number,
  C: number,
  k: number,
): void {
  const sel = s.sel;
  if (k > 8) {
    // Keys that order by value, then by lower index: the bits of a non-negative binary32
    // order like its value (the sign is masked off for -0), and C <= 65536 leaves room below
    // them for the index within a double's 53-bit integers. Select the k largest, then sort
    // just those (natively: no comparator callback).
    const keys = s.keys;
    for (let j = 0; j < C; j++) keys[j] = (bits[base + j]! & 0x7fffffff) * 65536 + (65535 - j);
    if (k < C) selectKth(keys, C, C - k);
    const top = keys.subarray(C - k, C).sort();
    for (let e = 0; e < k; e++) sel[e] = 65535 - (top[k - 1 - e]! % 65536);
    return;
  }
  // Bounded insertion: O(C) when most values fall below the current k-th largest.
  let count = 0;
  for (let j = 0; j < C; j++) {
    const v = src[base + j]!;
    let p: number;
    if (count === k) {
      if (!(v > src[base + sel[k - 1]!]!)) continue;
      p = k - 1;
    } else {
      p = count++;
    }
    while (p > 0 && src[base + sel[p - 1]!]! < v) {
      sel[p] = sel[p - 1]!;
      p--;
    }
    sel[p] = j;
  }
}

function encodeTopk(src: Float32Array, n: number, C: number, k: number): Uint8Array {
  const s = getScratch(C + 1);
  const t = s.t;
  const q = s.q;
  const sel = s.sel;
  const w = topkIndexBytes(C);
  const entry = w + 1;
  const out = new Uint8Array(n * k * entry);
  // With k < C the dropped mass is one more bucket, last, so it loses ties to kept classes.
  const buckets = k < C ? k + 1 : k;
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  let o = 0;
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = base; j < base + C; j++) sum += src[j]!;
    selectTopk(s, src, bits, base, C, k);
    const scale = 255 / sum;
    let kept = 0;
    for (let e = 0; e < k; e++) {
      const v = src[base + sel[e]!]!;
      kept += v;
      t[e] = v * scale;
    }
    if (k < C) t[k] = Math.max(0, sum - kept) * scale;
    largestRemainder(s, buckets, 255);
    for (let e = 0; e < k; e++) {
      const idx = sel[e]!;
      out[o] = idx & 0xff;
      if (w === 2) out[o + 1] = idx >>> 8;
      out[o + w] = q[e]!;
      o += entry;
    }
  }
  return out;
}

// Duplicate detection without clearing anything per row: a class was already named in the
// current row when its stamp equals the row's mark. Marks increase across rows and calls.
const seen = { stamps: new Int32Array(0), mark: 0 };

function decodeTopk(bytes: Uint8Array, n: number, C: number, k: number): Float32Array {
  const w = topkIndexBytes(C);
  const entry = w + 1;
  const out = new Float32Array(n * C);
  const rowBytes = k * entry;
  if (seen.stamps.length < C) {
    seen.stamps = new Int32Array(Math.max(C, 2 * seen.stamps.length));
    seen.mark = 0;
  }
  const stamps = seen.stamps;
  for (let r = 0, base = 0, start = 0; r < n; r++, base += C, start += rowBytes) {
    if (seen.mark === 0x7fffffff) {
      stamps.fill(0);
      seen.mark = 0;
    }
    const mark = ++seen.mark;
    let sum = 0;
    for (let o = start; o < start + rowBytes; o += entry) {
      const idx = w === 1 ? bytes[o]! : bytes[o]! | (bytes[o + 1]! << 8);
      if (idx >= C) {
        throw new PayloadError('PAYLOAD_TOPK_INDEX', `topk row ${r} names class ${idx}, but C=${C}`);
      }
      if (stamps[idx] === mark) {
        throw new PayloadError('PAYLOAD_TOPK_INDEX', `topk row ${r} names class ${idx} twice`);
      }
      stamps[idx] = mark;
      sum += bytes[o + w]!;
    }
    if (sum > 255 || (k === C && sum !== 255)) {
      const want = k === C ? 'exactly 255 (k = C)' : 'at most 255';
      throw new PayloadError('PAYLOAD_ROW_SUM', `topk row ${r} sums to ${sum}, expected ${want}`);
    }
    if (k < C) out.fill((255 - sum) / (255 * (C - k)), base, base + C);
    for (let o = start; o < start + rowBytes; o += entry) {
      const idx = w === 1 ? bytes[o]! : bytes[o]! | (bytes[o + 1]! << 8);
      out[base + idx] = UINT8_VALUES[bytes[o + w]!]!;
    }
  }
  return out;
}
