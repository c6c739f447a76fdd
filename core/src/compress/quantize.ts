/**
 * Post-training weight quantization in the TF.js layers format, as the TF.js converter
 * (`tensorflowjs_converter --quantize_float16 / --quantize_uint8`) writes it, so that stock
 * `tf.loadLayersModel` decodes it (tfjs-core io_utils `decodeWeights`):
 *
 * - float16: each float32 weight stored as IEEE binary16 (2 bytes), manifest entry
 *   `quantization: { dtype: 'float16' }`;
 * - uint8: per-tensor affine, `quantization: { dtype: 'uint8', scale, min }`, value
 *   = q·scale + min. As the converter does, [min, max] is first widened to contain 0 and
 *   min is nudged so that 0.0 is exactly representable (q0 = round(−min/scale)): pruned
 *   weights stay exactly zero after a round trip, and all share one byte value, which
 *   gzip then compresses well (see export.ts).
 *
 * The entry's `dtype` stays 'float32' (the dequantized type). Pure: no tensors.
 */
import { float32BitsToFloat16Bits } from '@mutua/proto';

export const WEIGHT_ENCODINGS = ['float32', 'float16', 'uint8'] as const;
export type WeightEncoding = (typeof WEIGHT_ENCODINGS)[number];

export interface NamedWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** A weights-manifest entry (tf.io.WeightsManifestEntry, restated to stay free of tfjs). */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
  quantization?: { dtype: 'float16' } | { dtype: 'uint8'; scale: number; min: number };
}

/** uint8 affine parameters with 0 exactly representable (the converter's nudged range). */
export function uint8Range(values: Float32Array): { scale: number; min: number } {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi === lo) return { scale: 1, min: 0 };
  const scale = (hi - lo) / 255;
  const zero = Math.round(-lo / scale);
  return { scale, min: -zero * scale };
}

export function quantizeUint8(values: Float32Array, scale: number, min: number): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const q = Math.round((values[i]! - min) / scale);
    out[i] = Math.min(255, Math.max(0, q));
  }
  return out;
}

export function quantizeFloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32BitsToFloat16Bits(bits[i]!);
  return out;
}

/**
 * Encodes weights for a layers-format weights file: the manifest entries (in order) and the
 * concatenated bytes. float16 and uint8 entries carry the converter's `quantization` field.
 */
export function encodeQuantizedWeights(
  weights: readonly NamedWeight[],
  encoding: WeightEncoding,
): { specs: WeightSpec[]; data: Uint8Array } {
  const parts: Uint8Array[] = [];
  const specs: WeightSpec[] = [];
  for (const w of weights) {
    const values = w.values.byteOffset % 4 === 0 ? w.values : new Float32Array(w.values);
    const spec: WeightSpec = { name: w.name, shape: [...w.shape], dtype: 'float32' };
    if (encoding === 'float32') {
      parts.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    } else if (encoding === 'float16') {
      const h = quantizeFloat16(values);
      parts.push(new Uint8Array(h.buffer));
      spec.quantization = { dtype: 'float16' };
    } else {
      const { scale, min } = uint8Range(values);
      parts.push(quantizeUint8(values, scale, min));
      spec.quantization = { dtype: 'uint8', scale, min };
    }
    specs.push(spec);
  }
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.byteLength;
  }
  return { specs, data };
}

/** Largest |dequantized − original| an encoding allows for these values (the test tolerance). */
export function quantizationTolerance(values: Float32Array, encoding: WeightEncoding): number {
  if (encoding === 'float32') return 0;
  if (encoding === 'uint8') return uint8Range(values).scale / 2 + 1e-7;
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max * 2 ** -11 + 2 ** -25;
}
