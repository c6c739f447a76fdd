/**
 * Per-coordinate weighted quantiles for the robust aggregators: the median, and the mean of
 * the quantile function over a band of weight (the trimmed mean).
 *
 * Speed: selection alone costs about one branch misprediction per value visited, which for
 * thousands of participants and 512×10 coordinates dominated the robust rules. So each
 * column is first histogrammed, branch-free, on the top bits of its float32 values
 * (non-negative floats order like their bit patterns): a scan of the bucket weights finds
 * the one or two buckets where the wanted quantiles fall, whole buckets in between are
 * summed from the histogram, and quickselect (select.ts) only runs on the few values of the
 * boundary buckets. When all values share a bucket it degrades to plain quickselect.
 */
import { selectByWeight } from './select.ts';

/**
 * Bucket = float32 bits >>> 20: sign, 8 exponent bits, 3 mantissa bits. Validated
 * probabilities (+0 to 1 + 1e-4) have keys up to 0x3f8, so 1024 buckets cover them.
 */
const BUCKET_SHIFT = 20;
const BUCKETS = 1024;
/**
 * Below this many participants clearing and scanning the histogram costs more than it
 * saves (measured crossover about 200 on 512×10).
 */
const MIN_FOR_HISTOGRAM = 256;

/**
 * Two masses closer than this fraction of the total weight count as equal, so that float
 * round-off in summing weights cannot turn "exactly half" (even count) into "just below".
 */
const MASS_TOLERANCE = 1e-9;

/**
 * Scratch space for one column of m participants' values at a time, reused across the n·C
 * coordinates. Columns are float32 values >= +0 (never -0) with their bit patterns.
 */
export class ColumnQuantiles {
  readonly #m: number;
  /** Weights of the m participants, all > 0; null means all equal (counted as 1). */
  readonly #weights: Float64Array | null;
  readonly #total: number;
  /** Candidate values and their weights, which quickselect permutes. */
  readonly #values: Float64Array;
  readonly #candidateWeights: Float64Array | null;
  readonly #bucketMass: Float64Array;
  readonly #bucketSum: Float64Array;

  constructor(m: number, weights: Float64Array | null) {
    this.#m = m;
    this.#weights = weights;
    let total = m;
    if (weights !== null) {
      total = 0;
      for (const w of weights) total += w;
    }
    this.#total = total;
    this.#values = new Float64Array(m);
    this.#candidateWeights = weights === null ? null : new Float64Array(m);
    const histogram = m >= MIN_FOR_HISTOGRAM ? BUCKETS : 0;
    this.#bucketMass = new Float64Array(histogram);
    this.#bucketSum = new Float64Array(histogram);
  }

  /** Total weight of the column (m when weights are equal). */
  get total(): number {
    return this.#total;
  }

  /**
   * The weighted median: the value at which the cumulative weight (values ascending)
   * reaches half the total, or the midpoint of the two values either side when it reaches
   * exactly half at a boundary (equal weights, even m: the textbook median).
   */
  median(column: Float32Array, bits: Uint32Array): number {
    const half = this.#total / 2;
    const tolerance = MASS_TOLERANCE * this.#total;
    const target = half - tolerance;
    let bucket = -1;
    let before = 0;
    let count: number;
    if (this.#bucketMass.length === 0) {
      count = this.#loadAll(column);
    } else {
      this.#histogram(column, bits, false);
      [bucket, before] = this.#findBucket(target);
      count = this.#loadBucket(column, bits, bucket);
    }
    const values = this.#values;
    const weights = this.#candidateWeights;
    const k = selectByWeight(values, weights, 0, count, target - before);
    let through = before;
    if (weights === null) through += k + 1;
    else for (let i = 0; i <= k; i++) through += weights[i];
    if (through > half + tolerance) return values[k];
    // Exactly half the weight is at or below values[k]: average with the next value up.
    let next = Number.POSITIVE_INFINITY;
    for (let i = k + 1; i < count; i++) if (values[i] < next) next = values[i];
    if (next === Number.POSITIVE_INFINITY && bucket >= 0) {
      // values[k] was its bucket's largest: the next value is the least of later buckets.
      for (let j = 0; j < this.#m; j++) {
        if (bits[j] >>> BUCKET_SHIFT > bucket && column[j] < next) next = column[j];
      }
    }
    return next === Number.POSITIVE_INFINITY ? values[k] : (values[k] + next) / 2;
  }

  /**
   * The mean of the weighted quantile function over the weight band [from, to]
   * (0 <= from < to <= total): the trimmed mean when from = β·total, to = (1 − β)·total.
   * A participant straddling a band edge counts with the part of its weight inside.
   */
  meanBetween(column: Float32Array, bits: Uint32Array, from: number, to: number): number {
    if (this.#bucketMass.length === 0) {
      const count = this.#loadAll(column);
      return this.#integral(count, from, to) / (to - from);
    }
    this.#histogram(column, bits, true);
    const [first, beforeFirst] = this.#findBucket(from);
    const [last, beforeLast] = this.#findBucket(to);
    if (first === last) {
      const count = this.#loadBucket(column, bits, first);
      return this.#integral(count, from - beforeFirst, to - beforeFirst) / (to - from);
    }
    let sum = this.#integral(
      this.#loadBucket(column, bits, first),
      from - beforeFirst,
      Number.POSITIVE_INFINITY,
    );
    for (let b = first + 1; b < last; b++) sum += this.#bucketSum[b];
    sum += this.#integral(this.#loadBucket(column, bits, last), 0, to - beforeLast);
    return sum / (to - from);
  }

  #histogram(column: Float32Array, bits: Uint32Array, withSums: boolean): void {
    const mass = this.#bucketMass;
    const sums = this.#bucketSum;
    const w = this.#weights;
    mass.fill(0);
    if (withSums) sums.fill(0);
    for (let j = 0; j < this.#m; j++) {
      const b = bits[j] >>> BUCKET_SHIFT;
      const wj = w === null ? 1 : w[j];
      mass[b] += wj;
      if (withSums) sums[b] += wj * column[j];
    }
  }

  /**
   * The first bucket whose cumulative weight reaches `target`, and the weight of the
   * buckets before it; the last non-empty bucket if rounding keeps `target` out of reach.
   */
  #findBucket(target: number): [number, number] {
    const mass = this.#bucketMass;
    let cum = 0;
    let last = 0;
    let beforeLast = 0;
    for (let b = 0; b < mass.length; b++) {
      const mb = mass[b];
      if (mb === 0) continue;
      if (cum + mb >= target) return [b, cum];
      last = b;
      beforeLast = cum;
      cum += mb;
    }
    return [last, beforeLast];
  }

  #loadAll(column: Float32Array): number {
    for (let j = 0; j < this.#m; j++) this.#values[j] = column[j];
    if (this.#weights !== null) this.#candidateWeights?.set(this.#weights);
    return this.#m;
  }

  #loadBucket(column: Float32Array, bits: Uint32Array, bucket: number): number {
    const w = this.#weights;
    const cw = this.#candidateWeights;
    let count = 0;
    for (let j = 0; j < this.#m; j++) {
      if (bits[j] >>> BUCKET_SHIFT === bucket) {
        this.#values[count] = column[j];
        if (w !== null && cw !== null) cw[count] = w[j];
        count++;
      }
    }
    return count;
  }

  /**
   * ∫ of the weighted quantile function of the first `count` candidates over the weight
   * band [a, b] (a <= 0 means from the start, b = Infinity to the end).
   */
  #integral(count: number, a: number, b: number): number {
    const values = this.#values;
    const weights = this.#candidateWeights;
    let sum = 0;
    let i = 0;
    let start = 0;
    if (a > 0) {
      const k = selectByWeight(values, weights, 0, count, a);
      let end = 0;
      if (weights === null) end = k + 1;
      else for (let j = 0; j <= k; j++) end += weights[j];
      if (end >= b) return values[k] * (b - a);
      sum = values[k] * (end - a);
      i = k + 1;
      start = end;
    }
    if (i >= count) return sum;
    const stop =
      b === Number.POSITIVE_INFINITY ? count : selectByWeight(values, weights, i, count, b - start);
    for (; i < stop; i++) {
      const w = weights === null ? 1 : weights[i];
      sum += values[i] * w;
      start += w;
    }
    return stop < count ? sum + values[stop] * (b - start) : sum;
  }
}
