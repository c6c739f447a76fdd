/** FedAvg weight payloads: float32, float16, and 8-bit affine (affine.ts). */
import { fromFloat16Bits } from '../float16.ts';
import { blocks, decodeAffine, encodeAffine } from './affine.ts';
import { checkCount, hex16, unknownEncoding } from './checks.ts';
import { float16Bytes, float32Bytes, float32FromBytes } from './floats.ts';
import { weightByteLength } from './sizes.ts';
import { DEFAULT_MAX_WEIGHTS, PayloadError, type WeightCodecOptions, type WeightEncoding } from './types.ts';

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
