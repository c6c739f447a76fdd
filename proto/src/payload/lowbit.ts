/**
 * Low-bit soft labels (1, 2 or 4 bits per probability) and hard labels (the argmax only).
 *
 * Both pack unsigned integers into one little-endian bit stream: value t (t = 0, 1, …) takes
 * bits [t*w, (t+1)*w) of the stream, stream bit s is bit (s mod 8) of byte floor(s/8) (least
 * significant bit first), and the value's own bit b is stream bit t*w + b. The payload is
 * ceil(count*w / 8) bytes; the unused high bits of the last byte MUST be 0 (PAYLOAD_PADDING),
 * so every payload has one reading.
 *
 * soft-b (b = 1, 2, 4; L = 2^b - 1): n*C values, value (i, j) is t = i*C + j. Each row is
 * quantized RELATIVE TO ITS OWN MAXIMUM m = max_j p_j: q_j = floor(L * p_j / m + 1/2), so the
 * most probable class is always L and the row can never be all zeros. Decoders renormalise:
 * p'_j = q_j / sum(q); a row whose q are all 0 is PAYLOAD_ROW_SUM. Why a per-row maximum and
 * not a fixed grid over [0, 1]: a fixed 1- or 2-bit grid rounds every class of an uncertain
 * row (max < 1/(2L)) to 0, and then the row cannot be decoded at all; scaling by the row's
 * maximum needs no per-row header (the scale is implied by "the max is L") and spends the few
 * levels where the row's mass is. 1-bit rows are therefore multi-hot: every class at least
 * half as probable as the top one gets 1, and decoding spreads the mass evenly over them.
 *
 * hard: n values of w = max(1, ceil(log2 C)) bits, the row's argmax (ties: lower index).
 * Decoders return one-hot rows; an index >= C is PAYLOAD_CLASS_INDEX. One-hot, not
 * label-smoothed: the wire carries no more than the argmax, the coordinator's mean of one-hot
 * uploads is already a vote share (smooth wherever several participants disagree), and a
 * participant that wants smoothed targets can smooth locally.
 */

import { PayloadError } from './types.ts';

/** Bits per probability of each soft encoding. */
export type SoftBits = 1 | 2 | 4;

/** Bits a hard label takes: max(1, ceil(log2 C)). */
export function hardBits(C: number): number {
  let w = 1;
  while (2 ** w < C) w++;
  return w;
}

/** Payload bytes of `count` values of `w` bits. */
export function packedBytes(count: number, w: number): number {
  return Math.ceil((count * w) / 8);
}

/** Largest C a hard label can name (16-bit indices, like topk). */
export const HARD_MAX_CLASSES = 65536;

export function encodeSoftBits(src: Float32Array, n: number, C: number, bits: SoftBits): Uint8Array {
  const L = (1 << bits) - 1;
  const out = new Uint8Array(packedBytes(n * C, bits));
  const perByte = 8 / bits;
  let t = 0;
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let m = 0;
    for (let j = 0; j < C; j++) if (src[base + j]! > m) m = src[base + j]!;
    // The input check guarantees a row sums to ~1, so m >= 1/C > 0.
    const f = L / m;
    for (let j = 0; j < C; j++, t++) {
      let q = Math.floor(src[base + j]! * f + 0.5);
      if (q > L) q = L;
      out[(t / perByte) | 0]! |= q << ((t % perByte) * bits);
    }
  }
  return out;
}

export function decodeSoftBits(bytes: Uint8Array, n: number, C: number, bits: SoftBits): Float32Array {
  checkPadding(bytes, n * C * bits);
  const L = (1 << bits) - 1;
  const perByte = 8 / bits;
  const out = new Float32Array(n * C);
  let t = 0;
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = 0; j < C; j++, t++) {
      const q = (bytes[(t / perByte) | 0]! >> ((t % perByte) * bits)) & L;
      out[base + j] = q;
      sum += q;
    }
    if (sum === 0) {
      throw new PayloadError(
        'PAYLOAD_ROW_SUM',
        `row ${r} is all zeros; a soft${bits} row needs one non-zero value`,
      );
    }
    const inv = 1 / sum;
    for (let j = 0; j < C; j++) out[base + j] = out[base + j]! * inv;
  }
  return out;
}

export function encodeHard(src: Float32Array, n: number, C: number): Uint8Array {
  checkHardClasses(C);
  const w = hardBits(C);
  const out = new Uint8Array(packedBytes(n, w));
  let acc = 0;
  let nbits = 0;
  let o = 0;
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let best = 0;
    for (let j = 1; j < C; j++) if (src[base + j]! > src[base + best]!) best = j;
    acc |= best << nbits;
    nbits += w;
    while (nbits >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      nbits -= 8;
    }
  }
  if (nbits > 0) out[o] = acc & 0xff;
  return out;
}

export function decodeHard(bytes: Uint8Array, n: number, C: number): Float32Array {
  checkHardClasses(C);
  const w = hardBits(C);
  checkPadding(bytes, n * w);
  const out = new Float32Array(n * C);
  const mask = w === 32 ? -1 : (1 << w) - 1;
  let acc = 0;
  let nbits = 0;
  let i = 0;
  for (let r = 0; r < n; r++) {
    while (nbits < w) {
      acc |= bytes[i++]! << nbits;
      nbits += 8;
    }
    const c = acc & mask;
    acc >>>= w;
    nbits -= w;
    if (c >= C) throw new PayloadError('PAYLOAD_CLASS_INDEX', `row ${r} names class ${c}, but C = ${C}`);
    out[r * C + c] = 1;
  }
  return out;
}

function checkHardClasses(C: number): void {
  if (C > HARD_MAX_CLASSES) {
    throw new PayloadError(
      'PAYLOAD_BAD_SHAPE',
      `hard labels index at most ${HARD_MAX_CLASSES} classes, got C=${C}`,
    );
  }
}

/** The bits after the last value (up to the byte boundary) must be 0. Length is checked by the caller. */
function checkPadding(bytes: Uint8Array, usedBits: number): void {
  const rem = usedBits % 8;
  if (rem !== 0 && bytes[bytes.length - 1]! >> rem !== 0) {
    throw new PayloadError('PAYLOAD_PADDING', `the last ${8 - rem} bits of the payload must be 0`);
  }
}
