/**
 * IDX, the format MNIST ships in (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * `0x00 0x00 <dtype> <ndims>`, ndims big-endian uint32 dimension sizes, then the values,
 * big-endian, row-major. Pure functions over bytes, so the browser can parse a fetched
 * file; reading (and gunzipping) files is in node/idx-file.ts.
 */
import type { Dataset } from './dataset.ts';
import { checkInt, DataError } from './errors.ts';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  readonly dtype: IdxDtype;
  readonly dims: readonly number[];
  /** prod(dims) values, row-major. For uint8 and int8 this is a view on the input bytes. */
  readonly data: IdxData;
}

const DTYPE_BY_CODE: Record<number, { dtype: IdxDtype; bytes: number }> = {
  8: { dtype: 'uint8', bytes: 1 },
  9: { dtype: 'int8', bytes: 1 },
  11: { dtype: 'int16', bytes: 2 },
  12: { dtype: 'int32', bytes: 4 },
  13: { dtype: 'float32', bytes: 4 },
  14: { dtype: 'float64', bytes: 8 },
};
const CODE_BY_DTYPE: Record<IdxDtype, number> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};
const BYTES_BY_DTYPE: Record<IdxDtype, number> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

export interface IdxParseOptions {
  /** Shown in error messages, e.g. the file name. Default 'IDX data'. */
  readonly name?: string;
}

/** Parses any IDX file (all six element types). Strict: a short or over-long body is an error. */
export function parseIdx(bytes: Uint8Array, options: IdxParseOptions = {}): IdxArray {
  const file = options.name ?? 'IDX data';
  if (bytes.length < 4) {
    throw new DataError('DATA_IDX_TRUNCATED', `${bytes.length} bytes, shorter than the 4-byte magic`, {
      file,
    });
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hint =
      bytes[0] === 0x1f && bytes[1] === 0x8b
        ? ' (this is gzip data: decompress it first, e.g. name it .gz)'
        : '';
    const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataError('DATA_IDX_BAD_MAGIC', `magic ${magic} does not start with 00 00${hint}`, { file });
  }
  const type = DTYPE_BY_CODE[bytes[2]!];
  if (type === undefined) {
    throw new DataError(
      'DATA_IDX_BAD_DTYPE',
      `unknown element type 0x${bytes[2]!.toString(16).padStart(2, '0')} (expected 08, 09, 0b, 0c, 0d or 0e)`,
      { file },
    );
  }
  const ndims = bytes[3]!;
  if (ndims === 0) throw new DataError('DATA_IDX_BAD_RANK', 'the header declares 0 dimensions', { file });
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) {
    throw new DataError(
      'DATA_IDX_TRUNCATED',
      `${bytes.length} bytes, shorter than the ${headerSize}-byte header for ${ndims} dimensions`,
      { file },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    count *= size;
  }
  const expected = headerSize + count * type.bytes;
  if (bytes.length < expected) {
    throw new DataError(
      'DATA_IDX_TRUNCATED',
      `dims [${dims.join(', ')}] of ${type.dtype} need ${expected} bytes, the data has ${bytes.length}`,
      { file },
    );
  }
  if (bytes.length > expected) {
    throw new DataError(
      'DATA_IDX_TRAILING_BYTES',
      `${bytes.length - expected} bytes after the ${expected} that dims [${dims.join(', ')}] of ${type.dtype} describe`,
      { file },
    );
  }
  const start = bytes.byteOffset + headerSize;
  let data: IdxData;
  switch (type.dtype) {
    case 'uint8':
      data = new Uint8Array(bytes.buffer, start, count);
      break;
    case 'int8':
      data = new Int8Array(bytes.buffer, start, count);
      break;
    case 'int16':
      data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(headerSize + 2 * i, false);
      break;
    case 'int32':
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(headerSize + 4 * i, false);
      break;
    case 'float32':
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(headerSize + 4 * i, false);
      break;
    case 'float64':
      data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(headerSize + 8 * i, false);
      break;
  }
  return { dtype: type.dtype, dims, data };
}

/** Writes an IDX file; values are converted to `dtype` (the inverse of parseIdx). */
export function encodeIdx(array: {
  readonly dtype: IdxDtype;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number>;
}): Uint8Array {
  const { dtype, dims, data } = array;
  if (dims.length < 1 || dims.length > 255) {
    throw new DataError('DATA_INVALID_OPTION', `IDX needs 1 to 255 dimensions, got ${dims.length}`);
  }
  let count = 1;
  for (const d of dims) {
    checkInt('IDX dimension', d, 0, 0xffffffff);
    count *= d;
  }
  if (data.length !== count) {
    throw new DataError(
      'DATA_INVALID_OPTION',
      `dims [${dims.join(', ')}] need ${count} values, got ${data.length}`,
    );
  }
  const headerSize = 4 + 4 * dims.length;
  const out = new Uint8Array(headerSize + count * BYTES_BY_DTYPE[dtype]);
  const view = new DataView(out.buffer);
  out[2] = CODE_BY_DTYPE[dtype];
  out[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  for (let i = 0; i < count; i++) {
    const v = data[i]!;
    switch (dtype) {
      case 'uint8':
        view.setUint8(headerSize + i, v);
        break;
      case 'int8':
        view.setInt8(headerSize + i, v);
        break;
      case 'int16':
        view.setInt16(headerSize + 2 * i, v, false);
        break;
      case 'int32':
        view.setInt32(headerSize + 4 * i, v, false);
        break;
      case 'float32':
        view.setFloat32(headerSize + 4 * i, v, false);
        break;
      case 'float64':
        view.setFloat64(headerSize + 8 * i, v, false);
        break;
    }
  }
  return out;
}

export interface IdxImages {
  /** n * prod(shape) values, scaled. */
  readonly x: Float32Array;
  readonly n: number;
  /** [d] for 2-D files, [rows, cols, 1] for 3-D (MNIST), [rows, cols, c] for 4-D. */
  readonly shape: readonly number[];
}

export interface IdxImagesOptions extends IdxParseOptions {
  /**
   * Multiplier applied to every value. Default 1/255 for uint8 files (pixels to [0, 1]) and 1
   * for every other type, whose values are assumed already scaled.
   */
  readonly scale?: number;
  /** Convert only the first `limit` samples (the header is still checked in full). */
  readonly limit?: number;
}

/** An images file (first dimension = sample) as float features. */
export function parseIdxImages(bytes: Uint8Array, options: IdxImagesOptions = {}): IdxImages {
  return imagesFromIdx(parseIdx(bytes, options), options);
}

function imagesFromIdx(idx: IdxArray, options: IdxImagesOptions): IdxImages {
  const file = options.name ?? 'IDX data';
  if (idx.dims.length < 2) {
    throw new DataError(
      'DATA_IDX_BAD_RANK',
      `an images file needs at least 2 dimensions (samples, features...), this one has dims [${idx.dims.join(', ')}]; is it a labels file?`,
      { file },
    );
  }
  const rest = idx.dims.slice(1);
  const shape = rest.length === 2 ? [rest[0]!, rest[1]!, 1] : rest;
  const size = rest.reduce((a, b) => a * b, 1);
  const total = idx.dims[0]!;
  if (options.limit !== undefined) checkInt('limit', options.limit, 0);
  const n = Math.min(total, options.limit ?? total);
  const x = new Float32Array(n * size);
  const src = idx.data;
  if (idx.dtype === 'uint8' && options.scale === undefined) {
    // A 256-entry table gives exactly v / 255 in float32 with no division per pixel.
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = v / 255;
    for (let i = 0; i < x.length; i++) x[i] = table[src[i]!]!;
  } else {
    const scale = options.scale ?? 1;
    if (!Number.isFinite(scale))
      throw new DataError('DATA_INVALID_OPTION', `scale must be finite, got ${scale}`);
    for (let i = 0; i < x.length; i++) x[i] = src[i]! * scale;
  }
  return { x, n, shape };
}

export interface IdxLabelsOptions extends IdxParseOptions {
  /** Labels must be < numClasses. Without it, any label >= 0 is accepted. */
  readonly numClasses?: number;
  readonly limit?: number;
}

/** A 1-D labels file as class indices; every label must be a non-negative integer. */
export function parseIdxLabels(bytes: Uint8Array, options: IdxLabelsOptions = {}): Int32Array {
  return labelsFromIdx(parseIdx(bytes, options), options);
}

function labelsFromIdx(idx: IdxArray, options: IdxLabelsOptions): Int32Array {
  const file = options.name ?? 'IDX data';
  if (idx.dims.length !== 1) {
    throw new DataError(
      'DATA_IDX_BAD_RANK',
      `a labels file has 1 dimension, this one has dims [${idx.dims.join(', ')}]; is it an images file?`,
      { file },
    );
  }
  if (options.numClasses !== undefined) checkInt('numClasses', options.numClasses, 1);
  if (options.limit !== undefined) checkInt('limit', options.limit, 0);
  const numClasses = options.numClasses ?? Number.POSITIVE_INFINITY;
  const n = Math.min(idx.dims[0]!, options.limit ?? idx.dims[0]!);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = idx.data[i]!;
    if (!Number.isInteger(v)) {
      throw new DataError('DATA_LABEL_NOT_INTEGER', `label ${v} at index ${i} is not an integer`, { file });
    }
    if (v < 0 || v >= numClasses) {
      throw new DataError(
        'DATA_LABEL_OUT_OF_RANGE',
        `label ${v} at index ${i} is outside [0, ${numClasses === Number.POSITIVE_INFINITY ? '∞' : numClasses})`,
        { file },
      );
    }
    y[i] = v;
  }
  return y;
}

export interface IdxDatasetOptions {
  readonly imagesName?: string;
  readonly labelsName?: string;
  /** Default: labelNames.length if given, else max label + 1. */
  readonly numClasses?: number;
  readonly labelNames?: readonly string[];
  /** Image scaling, see IdxImagesOptions.scale. */
  readonly scale?: number;
  /** Keep only the first `limit` samples. */
  readonly limit?: number;
}

/** An images file and its labels file as one Dataset; the two must hold the same number of samples. */
export function parseIdxDataset(
  images: Uint8Array,
  labels: Uint8Array,
  options: IdxDatasetOptions = {},
): Dataset {
  const imagesName = options.imagesName ?? 'images';
  const labelsName = options.labelsName ?? 'labels';
  const imgIdx = parseIdx(images, { name: imagesName });
  const lblIdx = parseIdx(labels, { name: labelsName });
  if (imgIdx.dims.length >= 2 && lblIdx.dims.length === 1 && imgIdx.dims[0] !== lblIdx.dims[0]) {
    throw new DataError(
      'DATA_LABEL_COUNT_MISMATCH',
      `${imagesName} holds ${imgIdx.dims[0]} samples but ${labelsName} holds ${lblIdx.dims[0]} labels`,
      { file: labelsName },
    );
  }
  const { labelNames } = options;
  if (
    labelNames !== undefined &&
    options.numClasses !== undefined &&
    labelNames.length !== options.numClasses
  ) {
    throw new DataError(
      'DATA_INVALID_OPTION',
      `labelNames has ${labelNames.length} names but numClasses is ${options.numClasses}`,
    );
  }
  const declared = options.numClasses ?? labelNames?.length;
  const imgs = imagesFromIdx(imgIdx, { name: imagesName, scale: options.scale, limit: options.limit });
  // Validate every label, not only the first `limit`, so numClasses does not depend on limit.
  const all = labelsFromIdx(lblIdx, { name: labelsName, numClasses: declared });
  let numClasses = declared ?? 0;
  if (declared === undefined) for (const v of all) if (v >= numClasses) numClasses = v + 1;
  const y = all.length === imgs.n ? all : all.slice(0, imgs.n);
  return {
    x: imgs.x,
    y,
    n: imgs.n,
    shape: imgs.shape,
    numClasses,
    ...(labelNames === undefined ? {} : { labelNames }),
  };
}
