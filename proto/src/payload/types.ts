/** Payload encodings' names, the PayloadError they throw, default tolerances and limits. */

export type PredictionEncoding = 'float32' | 'float16' | 'uint8' | 'topk' | LowBitEncoding;
/** Low-bit soft labels (1, 2, 4 bits per probability) and hard labels (argmax only): payload/lowbit.ts. */
export type LowBitEncoding = 'soft1' | 'soft2' | 'soft4' | 'hard';
export const PREDICTION_ENCODINGS: readonly PredictionEncoding[] = [
  'float32',
  'float16',
  'uint8',
  'topk',
  'soft4',
  'soft2',
  'soft1',
  'hard',
];
/** The encodings a client could produce before low-bit labels existed (what an old participant offers). */
export const LEGACY_PREDICTION_ENCODINGS: readonly PredictionEncoding[] = [
  'float32',
  'float16',
  'uint8',
  'topk',
];

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
  | 'PAYLOAD_BAD_SHAPE'
  /** A hard label names a class >= C. */
  | 'PAYLOAD_CLASS_INDEX'
  /** The unused bits after the last value of a bit-packed payload (soft1/2/4, hard) are not 0. */
  | 'PAYLOAD_PADDING'
  /** A compressed payload is not valid raw deflate, or does not inflate to exactly the expected length. */
  | 'PAYLOAD_INFLATE'
  /** A delta payload leaves out a row whose public index the receiver holds no row for (payload/delta.ts). */
  | 'PAYLOAD_DELTA_BASE';

export const PAYLOAD_ERROR_CODES: readonly PayloadErrorCode[] = [
  'PAYLOAD_LENGTH_MISMATCH',
  'PAYLOAD_NON_FINITE',
  'PAYLOAD_PROB_RANGE',
  'PAYLOAD_ROW_SUM',
  'PAYLOAD_TOPK_INDEX',
  'PAYLOAD_BAD_SHAPE',
  'PAYLOAD_CLASS_INDEX',
  'PAYLOAD_PADDING',
  'PAYLOAD_INFLATE',
  'PAYLOAD_DELTA_BASE',
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
