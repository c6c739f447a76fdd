/**
 * The coordinator's running consensus: Σ_j w_j·p_j and Σ_j w_j per row, kept up to date as
 * participants submit, so that each participant's leave-one-out target
 * q_{-i} = (S − w_i·p_i) / (W − w_i) costs O(n·C) instead of O(m·n·C).
 */

import { rowConfidences } from './entropy.ts';
import { AggregationError } from './errors.ts';
import { normalizeRows } from './rows.ts';
import { checkNumClasses, checkPrediction, checkWeight } from './validate.ts';

/**
 * How a contribution's rows are weighted:
 * - 'uniform': every row by the participant's weight; consensus() equals mean().
 * - 'entropy': each row by weight × confidence 1 − H/log C; consensus() equals
 *   entropyWeightedMean(). ERA is sharpen() applied to either.
 */
export type AccumulatorWeighting = 'uniform' | 'entropy';

export interface ConsensusAccumulatorOptions {
  /** Default 'uniform'. */
  readonly weighting?: AccumulatorWeighting;
  /**
   * Rebuild the sums from the stored contributions after this many set()/remove() calls,
   * discarding accumulated round-off. Default: max(1024, 4 × participants), which keeps
   * the amortised rebuild cost at most a quarter of a set(). Infinity disables it.
   */
  readonly recomputeEvery?: number;
}

interface Entry {
  /** Our own copy: the caller may reuse its buffer. */
  readonly pred: Float32Array;
  readonly weight: number;
  /** Per-row weights for 'entropy' weighting; null means every row has `weight`. */
  readonly rowWeights: Float64Array | null;
}

/**
 * Remaining weight at or below this fraction of the largest total weight since the last
 * rebuild is indistinguishable from round-off, and the row is treated as having no vote.
 * Each add or subtract errs by about 1.1e-16 of that total; even 10^5 operations between
 * rebuilds stay far below 1e-10.
 */
const DRIFT_TOLERANCE = 1e-10;

/**
 * Running weighted sums of prediction matrices keyed by participant id.
 *
 * Drift: subtracting a replaced contribution from a float64 sum leaves round-off of order
 * 1e-16 × the sum's magnitude; it grows at most linearly with the number of updates. The
 * accumulator therefore rebuilds its sums exactly from the stored contributions every
 * `recomputeEvery` updates, zeroes them whenever the last contributor leaves, clamps
 * negative round-off to 0, and treats a row whose remaining weight is round-off-sized as
 * having no vote (uniform). Tested against recomputation after 10,000 random replacements.
 *
 * Memory is O(m·n·C): contributions are kept, because replacing one needs the old values.
 */
export class ConsensusAccumulator {
  readonly n: number;
  readonly numClasses: number;
  readonly weighting: AccumulatorWeighting;
  readonly #recomputeEvery: number | undefined;
  readonly #entries = new Map<string, Entry>();
  /** Σ_j w_j(u)·p_j(u), row-major n×C. */
  readonly #sum: Float64Array;
  /** Σ_j w_j(u), one per row. */
  readonly #rowWeight: Float64Array;
  /** Entries whose weight is > 0. */
  #contributors = 0;
  #totalWeight = 0;
  /** Largest #totalWeight since the last rebuild: the scale of the round-off. */
  #peakWeight = 0;
  #updatesSinceRebuild = 0;

  /**
   * @param n rows (public-batch samples) of every prediction.
   * @param numClasses columns of every prediction.
   * @throws AggregationError for a non-integer or non-positive size or a bad option.
   */
  constructor(n: number, numClasses: number, options: ConsensusAccumulatorOptions = {}) {
    if (!Number.isInteger(n) || n < 1) {
      throw new AggregationError('ERR_AGG_OPTION', `n must be an integer >= 1, got ${n}`);
    }
    checkNumClasses(numClasses);
    const weighting = options.weighting ?? 'uniform';
    if (weighting !== 'uniform' && weighting !== 'entropy') {
      throw new AggregationError(
        'ERR_AGG_OPTION',
        `weighting must be 'uniform' or 'entropy', got ${weighting}`,
      );
    }
    const every = options.recomputeEvery;
    if (every !== undefined && !(every >= 1)) {
      throw new AggregationError('ERR_AGG_OPTION', `recomputeEvery must be >= 1 (or Infinity), got ${every}`);
    }
    this.n = n;
    this.numClasses = numClasses;
    this.weighting = weighting;
    this.#recomputeEvery = every;
    this.#sum = new Float64Array(n * numClasses);
    this.#rowWeight = new Float64Array(n);
  }

  /** Number of participants stored, including those with weight 0. */
  get size(): number {
    return this.#entries.size;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /**
   * Adds participant `id`'s prediction with `weight` (default 1), replacing its previous
   * one if any: the old contribution is subtracted, the new one added. The prediction is
   * copied. O(n·C).
   *
   * @throws AggregationError if `pred` is not n×C valid probabilities or `weight` is
   *   negative or not finite; the accumulator is then unchanged.
   */
  set(id: string, pred: Float32Array, weight = 1): void {
    const label = `participant ${JSON.stringify(id)}`;
    if (pred.length !== this.#sum.length) {
      throw new AggregationError(
        'ERR_AGG_SHAPE',
        `${label} sent ${pred.length} values; expected n×C = ${this.n}×${this.numClasses} = ${this.#sum.length}`,
      );
    }
    checkPrediction(pred, this.numClasses, label);
    checkWeight(weight, label);
    const copy = pred.slice();
    let rowWeights: Float64Array | null = null;
    if (this.weighting === 'entropy') {
      rowWeights = rowConfidences(copy, this.n, this.numClasses);
      for (let r = 0; r < this.n; r++) rowWeights[r] *= weight;
    }
    const old = this.#entries.get(id);
    if (old !== undefined) this.#apply(old, -1);
    const entry: Entry = { pred: copy, weight, rowWeights };
    this.#entries.set(id, entry);
    this.#apply(entry, 1);
    this.#afterUpdate();
  }

  /** Drops participant `id`'s contribution; false if it had none. O(n·C). */
  remove(id: string): boolean {
    const old = this.#entries.get(id);
    if (old === undefined) return false;
    this.#entries.delete(id);
    this.#apply(old, -1);
    this.#afterUpdate();
    return true;
  }

  /**
   * The consensus of every contribution (rows sum to 1), or null when no participant
   * with weight > 0 has contributed. O(n·C).
   */
  consensus(): Float32Array | null {
    if (this.#contributors === 0) return null;
    return this.#normalized(null);
  }

  /**
   * The consensus of everyone except `id`: (S − w_i·p_i) / (W − w_i) per row, rows
   * summing to 1, in O(n·C). Null when no other participant with weight > 0 has
   * contributed (the first rounds: no distillation target yet). For an id that has not
   * contributed, this is the whole consensus.
   */
  leaveOneOut(id: string): Float32Array | null {
    const entry = this.#entries.get(id);
    if (entry === undefined) return this.consensus();
    const others = this.#contributors - (entry.weight > 0 ? 1 : 0);
    if (others === 0) return null;
    return this.#normalized(entry);
  }

  /** Rebuilds the sums exactly from the stored contributions. O(m·n·C). */
  recompute(): void {
    this.#sum.fill(0);
    this.#rowWeight.fill(0);
    this.#contributors = 0;
    this.#totalWeight = 0;
    this.#peakWeight = 0;
    for (const entry of this.#entries.values()) this.#apply(entry, 1);
    this.#updatesSinceRebuild = 0;
  }

  /** Adds (sign 1) or subtracts (sign −1) one contribution. */
  #apply(entry: Entry, sign: 1 | -1): void {
    const C = this.numClasses;
    const { pred, weight, rowWeights } = entry;
    if (weight > 0) {
      this.#contributors += sign;
      this.#totalWeight += sign * weight;
      if (this.#totalWeight > this.#peakWeight) this.#peakWeight = this.#totalWeight;
    }
    for (let r = 0, start = 0; r < this.n; r++, start += C) {
      const w = sign * (rowWeights === null ? weight : rowWeights[r]);
      if (w === 0) continue;
      this.#rowWeight[r] += w;
      for (let k = start; k < start + C; k++) this.#sum[k] += w * pred[k];
    }
  }

  #afterUpdate(): void {
    if (this.#contributors === 0) {
      // Nobody left: the exact sums are 0, so forget the round-off for free.
      this.recompute();
      return;
    }
    this.#updatesSinceRebuild++;
    const every = this.#recomputeEvery ?? Math.max(1024, 4 * this.#entries.size);
    if (this.#updatesSinceRebuild >= every) this.recompute();
  }

  /** Sums minus `excluded` (if any), rows normalised; rows with no remaining vote uniform. */
  #normalized(excluded: Entry | null): Float32Array {
    const C = this.numClasses;
    const mass = new Float64Array(this.#sum.length);
    const noVote = DRIFT_TOLERANCE * this.#peakWeight;
    for (let r = 0, start = 0; r < this.n; r++, start += C) {
      let w = this.#rowWeight[r];
      let ew = 0;
      if (excluded !== null) {
        ew = excluded.rowWeights === null ? excluded.weight : excluded.rowWeights[r];
        w -= ew;
      }
      // Left at 0, the row comes out uniform (normalizeRows).
      if (w <= noVote) continue;
      if (ew === 0) {
        for (let k = start; k < start + C; k++) mass[k] = this.#sum[k];
      } else {
        const p = (excluded as Entry).pred;
        for (let k = start; k < start + C; k++) mass[k] = this.#sum[k] - ew * p[k];
      }
    }
    // Dividing by the remaining weight is folded into the row normalisation.
    return normalizeRows(mass, C);
  }
}
