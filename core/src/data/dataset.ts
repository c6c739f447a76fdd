/**
 * An in-memory labeled data set. Samples are stored row-major in one Float32Array so that
 * slicing a batch is a subarray view, not a copy, and so a set moves cheaply between
 * workers. Pixel data is scaled to [0, 1].
 */
export interface Dataset {
  /** n * prod(shape) values, sample i at [i*sampleSize, (i+1)*sampleSize). */
  readonly x: Float32Array;
  /** n class indices in [0, numClasses). */
  readonly y: Int32Array;
  /** Number of samples. */
  readonly n: number;
  /** Shape of one sample, e.g. [28, 28, 1]. */
  readonly shape: readonly number[];
  readonly numClasses: number;
  readonly labelNames?: readonly string[];
}

export function sampleSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The samples at `indices`, copied into a new data set (order kept). */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const size = sampleSize(ds.shape);
  const x = new Float32Array(indices.length * size);
  const y = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) {
      throw new RangeError(`subset: index ${i} outside [0, ${ds.n})`);
    }
    x.set(ds.x.subarray(i * size, (i + 1) * size), k * size);
    y[k] = ds.y[i]!;
  }
  return { x, y, n: indices.length, shape: ds.shape, numClasses: ds.numClasses, labelNames: ds.labelNames };
}
