/** 8-bit weights with a scale and offset per segment (ENCODING_UINT8_AFFINE). */
import { DEFAULT_WEIGHT_BLOCK, PayloadError } from './types.ts';

export const AFFINE_HEADER = 4;
export const AFFINE_SEGMENT = 12;

export function blocks(count: number): number[] {
  const out: number[] = [];
  for (let off = 0; off < count; off += DEFAULT_WEIGHT_BLOCK)
    out.push(Math.min(DEFAULT_WEIGHT_BLOCK, count - off));
  return out;
}

export function affineSegmentCount(bytes: Uint8Array): number {
  if (bytes.length < AFFINE_HEADER) {
    throw new PayloadError(
      'PAYLOAD_LENGTH_MISMATCH',
      `a uint8 weight payload starts with a 4-byte segment count, got ${bytes.length} bytes`,
    );
  }
  return (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
}

export function checkSegments(segments: readonly number[], count: number): void {
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

export function encodeAffine(values: Float32Array, segments: readonly number[]): Uint8Array {
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

export function decodeAffine(bytes: Uint8Array, count: number): Float32Array {
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
