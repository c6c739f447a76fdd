/**
 * The public-set file, format "mutua-public-v1": the shared unlabeled samples that every
 * participant downloads once (GET /v1/public-sets/{sha256}), verifies against
 * PublicSetDescriptor.sha256 (over the whole file) and caches. Rounds then send only indices.
 *
 * Layout (all integers little-endian):
 *
 *   offset  size  content
 *   0       8     magic "MUTPUB1\0" = 4d 55 54 50 55 42 31 00
 *   8       4     H, uint32: byte length of the header
 *   12      H     header: a UTF-8 JSON object, optionally followed by spaces (writers pad it so
 *                 that the samples start at a multiple of 8)
 *   12+H    D     samples: sampleCount * prod(shape) values, sample after sample, each sample
 *                 row-major (last axis fastest); nothing follows them
 *
 * Header keys (others are ignored, so later versions can add some):
 *   sampleCount  positive integer
 *   shape        per-sample shape, non-empty array of positive integers, e.g. [28, 28, 1]
 *   dtype        "uint8": 1 byte per value, value = byte * scale
 *                "float32": 4 bytes per value, IEEE 754 binary32; every value finite
 *   scale        uint8 only, positive finite number, default 1/255 (bytes are pixels in [0, 1])
 *
 * D = sampleCount * prod(shape) * (1 for uint8, 4 for float32), and the file is exactly
 * 12 + H + D bytes. uint8 keeps image sets small: MNIST's 10,000 public images take 7.8 MB.
 */

export const PUBLIC_SET_FORMAT = 'mutua-public-v1';
/** "MUTPUB1\0" */
export const PUBLIC_SET_MAGIC: Uint8Array = Uint8Array.of(0x4d, 0x55, 0x54, 0x50, 0x55, 0x42, 0x31, 0x00);
export const MAX_PUBLIC_SET_HEADER_BYTES = 65536;
const PREFIX = 12;

export type PublicSetDtype = 'uint8' | 'float32';

export type PublicSetErrorCode =
  /** Not a mutua-public-v1 file (magic bytes differ, or shorter than the prefix). */
  | 'PUBLIC_SET_MAGIC'
  /** Header length, UTF-8, JSON or a key's value is invalid. */
  | 'PUBLIC_SET_HEADER'
  /** The file length disagrees with the header (truncated or trailing bytes). */
  | 'PUBLIC_SET_LENGTH'
  /** A sample value is invalid (float32 not finite; encoder: uint8 source value outside the range). */
  | 'PUBLIC_SET_VALUE';

export class PublicSetError extends Error {
  override readonly name = 'PublicSetError';
  readonly code: PublicSetErrorCode;

  constructor(code: PublicSetErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

export interface PublicSetHeader {
  sampleCount: number;
  shape: number[];
  dtype: PublicSetDtype;
  /** uint8 only: value = byte * scale. 1 for float32. */
  scale: number;
}

export interface PublicSetInput {
  /** sampleCount * prod(shape) values. A Uint8Array is stored as is (dtype uint8 only). */
  x: Float32Array | Uint8Array;
  sampleCount: number;
  shape: readonly number[];
  dtype: PublicSetDtype;
  /** uint8 only (default 1/255): a Float32Array x is stored as round(x / scale), which must fit a byte. */
  scale?: number;
}

export interface PublicSet<X extends Float32Array | Uint8Array = Float32Array> extends PublicSetHeader {
  /** sampleCount * prod(shape) values, sample-major. */
  x: X;
}

function elementCount(sampleCount: number, shape: readonly number[]): number {
  const ok =
    Number.isSafeInteger(sampleCount) &&
    sampleCount >= 1 &&
    shape.length >= 1 &&
    shape.every((d) => Number.isSafeInteger(d) && d >= 1);
  const n = ok ? shape.reduce((a, b) => a * b, sampleCount) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > 2 ** 32) {
    throw new PublicSetError(
      'PUBLIC_SET_HEADER',
      `sampleCount ${sampleCount} and shape [${shape.join(', ')}] must be positive integers with at most 2^32 values in all`,
    );
  }
  return n;
}

/** Writes a mutua-public-v1 file. Throws PublicSetError for inconsistent input. */
export function encodePublicSet(input: PublicSetInput): Uint8Array {
  const { x, sampleCount, shape, dtype } = input;
  const n = elementCount(sampleCount, shape);
  if (x.length !== n) {
    throw new PublicSetError(
      'PUBLIC_SET_LENGTH',
      `x has ${x.length} values, sampleCount * prod(shape) is ${n}`,
    );
  }
  if (dtype !== 'uint8' && dtype !== 'float32') {
    throw new PublicSetError(
      'PUBLIC_SET_HEADER',
      `dtype must be "uint8" or "float32", got ${JSON.stringify(dtype)}`,
    );
  }
  const scale = dtype === 'uint8' ? (input.scale ?? 1 / 255) : 1;
  if (!(scale > 0 && Number.isFinite(scale))) {
    throw new PublicSetError('PUBLIC_SET_HEADER', `scale must be a positive finite number, got ${scale}`);
  }
  const header: Record<string, unknown> = { sampleCount, shape: [...shape], dtype };
  if (dtype === 'uint8') header.scale = scale;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((PREFIX + json.length) / 8) * 8 - PREFIX;
  const bytesPer = dtype === 'uint8' ? 1 : 4;
  const out = new Uint8Array(PREFIX + padded + n * bytesPer);
  out.set(PUBLIC_SET_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, padded, true);
  out.set(json, PREFIX);
  out.fill(0x20, PREFIX + json.length, PREFIX + padded);
  const start = PREFIX + padded;
  if (dtype === 'uint8') {
    if (x instanceof Uint8Array) {
      out.set(x, start);
    } else {
      for (let i = 0; i < n; i++) {
        const q = Math.round(x[i]! / scale);
        if (!(q >= 0 && q <= 255)) {
          throw new PublicSetError(
            'PUBLIC_SET_VALUE',
            `value ${i} is ${x[i]}; uint8 with scale ${scale} holds [0, ${255 * scale}]`,
          );
        }
        out[start + i] = q;
      }
    }
  } else {
    if (!(x instanceof Float32Array)) {
      throw new PublicSetError('PUBLIC_SET_VALUE', 'a float32 public set needs a Float32Array x');
    }
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      if (!Number.isFinite(v)) throw new PublicSetError('PUBLIC_SET_VALUE', `value ${i} is ${v}`);
      view.setFloat32(start + 4 * i, v, true);
    }
  }
  return out;
}

/** Reads and checks the prefix and header; returns it with the offset of the first sample byte. */
export function readPublicSetHeader(bytes: Uint8Array): PublicSetHeader & { dataOffset: number } {
  if (bytes.length < PREFIX || PUBLIC_SET_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new PublicSetError(
      'PUBLIC_SET_MAGIC',
      `not a ${PUBLIC_SET_FORMAT} file (it must start with "MUTPUB1\\0")`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view.getUint32(8, true);
  if (h > MAX_PUBLIC_SET_HEADER_BYTES || PREFIX + h > bytes.length) {
    throw new PublicSetError(
      'PUBLIC_SET_HEADER',
      `header length ${h} is over the limit or past the end of the file`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX, PREFIX + h)));
  } catch (e) {
    throw new PublicSetError('PUBLIC_SET_HEADER', `the header is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PublicSetError('PUBLIC_SET_HEADER', 'the header must be a JSON object');
  }
  const { sampleCount, shape, dtype, scale } = raw as Record<string, unknown>;
  if (dtype !== 'uint8' && dtype !== 'float32') {
    throw new PublicSetError(
      'PUBLIC_SET_HEADER',
      `dtype must be "uint8" or "float32", got ${JSON.stringify(dtype)}`,
    );
  }
  if (typeof sampleCount !== 'number' || !Array.isArray(shape) || shape.some((d) => typeof d !== 'number')) {
    throw new PublicSetError(
      'PUBLIC_SET_HEADER',
      'sampleCount must be a number and shape an array of numbers',
    );
  }
  const n = elementCount(sampleCount, shape as number[]);
  let s = 1;
  if (dtype === 'uint8' && scale !== undefined) {
    if (typeof scale !== 'number' || !(scale > 0 && Number.isFinite(scale))) {
      throw new PublicSetError(
        'PUBLIC_SET_HEADER',
        `scale must be a positive finite number, got ${JSON.stringify(scale)}`,
      );
    }
    s = scale;
  } else if (dtype === 'uint8') {
    s = 1 / 255;
  }
  const dataOffset = PREFIX + h;
  const expected = dataOffset + n * (dtype === 'uint8' ? 1 : 4);
  if (bytes.length !== expected) {
    throw new PublicSetError(
      'PUBLIC_SET_LENGTH',
      `the header describes a ${expected}-byte file, got ${bytes.length} bytes (${bytes.length < expected ? 'truncated' : 'trailing data'})`,
    );
  }
  return { sampleCount, shape: [...(shape as number[])], dtype, scale: s, dataOffset };
}

/**
 * Reads a mutua-public-v1 file. By default x is a Float32Array (uint8 values times scale, so
 * [0, 1] for pixels); with { raw: true } a uint8 set's bytes are returned as they are (a view,
 * not a copy). Throws PublicSetError.
 */
export function decodePublicSet(bytes: Uint8Array): PublicSet<Float32Array>;
export function decodePublicSet(bytes: Uint8Array, opts: { raw: true }): PublicSet<Float32Array | Uint8Array>;
export function decodePublicSet(
  bytes: Uint8Array,
  opts: { raw?: boolean } = {},
): PublicSet<Float32Array | Uint8Array> {
  const { dataOffset, ...header } = readPublicSetHeader(bytes);
  const n = elementCount(header.sampleCount, header.shape);
  if (header.dtype === 'uint8') {
    const data = bytes.subarray(dataOffset, dataOffset + n);
    if (opts.raw) return { ...header, x: data };
    const lut = new Float32Array(256).map((_, b) => b * header.scale);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = lut[data[i]!]!;
    return { ...header, x };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, 4 * n);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = view.getFloat32(4 * i, true);
    if (!Number.isFinite(v)) throw new PublicSetError('PUBLIC_SET_VALUE', `value ${i} is ${v}`);
    x[i] = v;
  }
  return { ...header, x };
}
