/** Shape, k, count and row checks shared by the encoders and decoders; each throws PayloadError. */
import { PayloadError, TOPK_MAX_CLASSES } from './types.ts';

export function unknownEncoding(enc: never): never {
  throw new TypeError(`unknown encoding ${JSON.stringify(enc)}`);
}

export function checkShape(n: number, C: number, maxElements: number): void {
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

export function checkK(k: number | undefined, C: number): number {
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

export function checkCount(count: number, maxElements: number): void {
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
export function clampProb(v: number, tol: number, row: number, col: number): number {
  if (v - v !== 0) {
    throw new PayloadError('PAYLOAD_NON_FINITE', `row ${row}, class ${col} is ${v}`);
  }
  if (v < -tol || v > 1 + tol) {
    throw new PayloadError('PAYLOAD_PROB_RANGE', `row ${row}, class ${col} is ${v}, outside [0, 1]`);
  }
  return v < 0 ? 0 : 1;
}

export function rowSumError(row: number, sum: number, tol: number): PayloadError {
  return new PayloadError('PAYLOAD_ROW_SUM', `row ${row} sums to ${sum}, expected 1 ± ${tol}`);
}

/**
 * Checks encoder input; returns `probs` itself, or a clamped copy when some value was outside
 * [0, 1] within the range tolerance (the caller's array is never modified).
 */
export function checkInputRows(
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

export function hex16(h: number): string {
  return h.toString(16).padStart(4, '0');
}
