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

export {
  COMPRESSION_NAMES,
  type CompressionName,
  deflateRawAsync,
  inflateError,
  inflateRawAsync,
  negotiateCompression,
} from './payload/compression.ts';
export {
  type DeltaCodecOptions,
  DeltaRows,
  decodeDelta,
  deltaMaskBytes,
  type EncodedDelta,
  encodeDelta,
  maxDeltaByteLength,
} from './payload/delta.ts';
export { HARD_MAX_CLASSES, hardBits, type SoftBits } from './payload/lowbit.ts';
export {
  decodePredictions,
  encodePredictions,
} from './payload/predictions.ts';
export {
  maxAbsError,
  maxWeightError,
  predictionByteLength,
  topkIndexBytes,
  weightByteLength,
  weightCountOf,
  weightSegmentsOf,
} from './payload/sizes.ts';
export {
  DEFAULT_INPUT_ROW_SUM_TOLERANCE,
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_MAX_WEIGHTS,
  DEFAULT_RANGE_TOLERANCE,
  DEFAULT_ROW_SUM_TOLERANCE,
  DEFAULT_WEIGHT_BLOCK,
  LEGACY_PREDICTION_ENCODINGS,
  type LowBitEncoding,
  PAYLOAD_ERROR_CODES,
  PayloadError,
  type PayloadErrorCode,
  PREDICTION_ENCODINGS,
  type PredictionCodecOptions,
  type PredictionEncoding,
  TOPK_MAX_CLASSES,
  WEIGHT_ENCODINGS,
  type WeightCodecOptions,
  type WeightEncoding,
} from './payload/types.ts';
export {
  decodeWeights,
  encodeWeights,
} from './payload/weights.ts';
