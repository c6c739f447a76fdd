import type { Dataset } from './dataset.ts';
import { sampleSize } from './dataset.ts';
import { checkInt } from './errors.ts';

/**
 * The first `n` samples (all of them when n is undefined or larger) as views on `ds`'s
 * arrays: no copy, so writing to the result writes to `ds`. Use subset() for a copy.
 */
export function take(ds: Dataset, n: number | undefined): Dataset {
  if (n === undefined || n >= ds.n) return ds;
  checkInt('limit', n, 0);
  return { ...ds, x: ds.x.subarray(0, n * sampleSize(ds.shape)), y: ds.y.subarray(0, n), n };
}
