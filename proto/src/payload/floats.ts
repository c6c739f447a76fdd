/** float32 / float16 payload bytes, little-endian on any host. */
import { float32BitsToFloat16Bits, fromFloat16Bits } from '../float16.ts';
import { clampProb, rowSumError } from './checks.ts';

export const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export function float32Bytes(src: Float32Array): Uint8Array {
  if (HOST_LITTLE_ENDIAN) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength).slice();
  const out = new Uint8Array(src.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < src.length; i++) view.setFloat32(4 * i, src[i]!, true);
  return out;
}

/** A fresh Float32Array from little-endian bytes, whatever their alignment (one memcpy). */
export function float32FromBytes(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  if (HOST_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  }
  return out;
}

export function float16Bytes(src: Float32Array): Uint8Array {
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

export function decodeFloat32Probs(
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

export function decodeFloat16Probs(
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
