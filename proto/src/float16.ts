/**
 * IEEE 754-2008 binary16 ("half") conversions in plain TypeScript, because Node 20 and most
 * browsers have neither Float16Array nor Math.f16round.
 *
 * binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. Normal values span
 * [2^-14, 65504] with a relative spacing of 2^-10; subnormals are multiples of 2^-24 below
 * 2^-14; exponent 31 encodes Infinity (fraction 0) and NaN.
 *
 * Rounding is to nearest, ties to even, subnormals included, and magnitudes from 65520 up
 * (the midpoint between 65504 and 2^16) overflow to Infinity, as IEEE prescribes.
 */

/** Largest finite binary16 value. */
export const FLOAT16_MAX = 65504;
/** Smallest positive normal binary16 value, 2^-14. */
export const FLOAT16_MIN_NORMAL = 2 ** -14;
/** Smallest positive (subnormal) binary16 value, 2^-24. */
export const FLOAT16_MIN_SUBNORMAL = 2 ** -24;
/** Spacing between 1 and the next binary16 value, 2^-10. Rounding error is at most half of it, relatively. */
export const FLOAT16_EPSILON = 2 ** -10;

// SCALE[e] is the weight of the integer significand for biased exponent e: subnormals
// (e = 0) share the scale of e = 1, which makes decoding a single multiply.
const SCALE = new Float64Array(32);
SCALE[0] = 2 ** -24;
for (let e = 1; e < 32; e++) SCALE[e] = 2 ** (e - 25);

/**
 * The binary16 bit pattern nearest to the binary32 value whose bit pattern is `bits` (read as
 * an unsigned 32-bit integer). Exact IEEE round-to-nearest-even; NaN becomes the quiet NaN
 * 0x7e00 with the sign kept.
 */
export function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs >= 0x47800000) {
    // |x| >= 2^16, Infinity or NaN
    return abs > 0x7f800000 ? sign | 0x7e00 : sign | 0x7c00;
  }
  if (abs >= 0x38800000) {
    // Normal binary16: rebias the exponent by 127 - 15 = 112 and drop 13 fraction bits. A
    // carry out of the fraction moves into the exponent, which is the correct result, up to
    // and including Infinity (0x7c00).
    const h = (abs >>> 13) - (112 << 10);
    const rest = abs & 0x1fff;
    return sign | (h + (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1) ? 1 : 0));
  }
  const e = abs >>> 23;
  // Below 2^-25 (and binary32 subnormals) everything rounds to zero; exactly 2^-25 is a tie
  // between 0 and 2^-24 that goes to the even 0, which the general path below also does.
  if (e < 102) return sign;
  // Subnormal binary16: the value is m * 2^(e - 150); in units of 2^-24 that is m >> (126 - e).
  const m = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - e; // 14..24
  const h = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  // Rounding 0x3ff up gives 0x400, the smallest normal: again the correct bit pattern.
  return sign | (h + (rest > half || (rest === half && (h & 1) === 1) ? 1 : 0));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The binary16 bit pattern nearest to `x`. `x` is first rounded to binary32 (as storing it in
 * a Float32Array does); for binary32 inputs the result is the correctly rounded one. For other
 * doubles the two roundings can differ from a direct one only when `x` lies within 2^-24
 * (relative) of a midpoint between two binary16 values.
 */
export function toFloat16Bits(x: number): number {
  f32[0] = x;
  return float32BitsToFloat16Bits(u32[0]!);
}

/** The value of the binary16 bit pattern `h` (its low 16 bits). Every binary16 value is exact in binary32. */
export function fromFloat16Bits(h: number): number {
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  const v =
    e === 31 ? (m === 0 ? Number.POSITIVE_INFINITY : Number.NaN) : (e === 0 ? m : m | 0x400) * SCALE[e]!;
  return (h & 0x8000) === 0 ? v : -v;
}

/** `x` rounded to the nearest binary16 value (see toFloat16Bits), as a number. */
export function roundToFloat16(x: number): number {
  return fromFloat16Bits(toFloat16Bits(x));
}
