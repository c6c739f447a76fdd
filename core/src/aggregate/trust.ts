/**
 * Agreement-weighted aggregation against poisoned predictions: each participant's weight is
 * multiplied by a trust factor in [0, 1] that measures how far its predictions lie from a
 * robust reference (the coordinate-wise median of everyone), relative to how far the
 * participants usually lie from it.
 *
 * Why not the median itself: the median throws away the honest participants' spread too,
 * which costs accuracy when nobody attacks (non-IID participants legitimately disagree).
 * Here the median only serves to *score* the participants; the consensus stays a weighted
 * mean, so in a clean federation every factor is 1 (or close) and the result is the mean.
 *
 *     r      = coordinate-wise median of all contributions (robust.ts)
 *     d_j    = mean over rows of the total-variation distance ½·Σ_c |p_j − r|   (in [0, 1])
 *     s      = max(1.4826 · MAD(d), relativeScale · median(d), minScale)
 *     z_j    = (d_j − median(d)) / s
 *     t_j    = 1 if z_j ≤ k, else exp(−(z_j − k))   (k = `threshold`, default 2.5)
 *
 * The spread s has two floors: with few participants the MAD alone is noisy (eight
 * honest non-IID participants often sit within a few hundredths of each other, and one
 * legitimately different participant would then be cut), so s is at least a quarter of the
 * typical distance; and at least `minScale` when everyone nearly agrees.
 *
 * The threshold is data-driven (median and MAD of this round's distances), so it adapts to
 * how heterogeneous the honest participants are; it protects while the attackers hold less
 * than half the contributions (the median's breakdown point). Confident wrong labels and
 * random noise lie far from the reference and get factors near 0. Copying the consensus
 * back (free-riding) is *close* to the reference and is not caught here: the coordinator,
 * which knows what targets it sent, compares each upload with them (free-rider.ts).
 *
 * Cost O(m·n·C) expected (one median, one distance pass).
 */

import { weightedSum } from './mean.ts';
import { median as medianConsensus } from './robust.ts';
import { normalizeRows } from './rows.ts';
import { checkInput, checkRange } from './validate.ts';

export interface TrustOptions {
  /** k: robust z-score up to which a participant keeps its full weight. Default 2.5. */
  readonly threshold?: number;
  /** The spread s is at least this fraction of the median distance. Default 0.25. */
  readonly relativeScale?: number;
  /** Lower bound of the spread s, so near-identical participants are not cut for tiny differences. Default 0.02. */
  readonly minScale?: number;
}

export const DEFAULT_TRUST_THRESHOLD = 2.5;
export const DEFAULT_TRUST_RELATIVE_SCALE = 0.25;
export const DEFAULT_TRUST_MIN_SCALE = 0.02;

export interface TrustScores {
  /** d_j: mean total-variation distance of contribution j from the median reference, in [0, 1]. */
  readonly distance: Float64Array;
  /** t_j in [0, 1]: the factor applied to contribution j's weight. */
  readonly trust: Float64Array;
}

/**
 * Trust factors of every contribution (weight-0 contributions are scored but do not shape
 * the reference or the spread).
 *
 * @throws AggregationError on bad input or options out of range.
 */
export function trustScores(
  preds: readonly Float32Array[],
  numClasses: number,
  weights?: readonly number[],
  options: TrustOptions = {},
): TrustScores {
  const threshold = options.threshold ?? DEFAULT_TRUST_THRESHOLD;
  const minScale = options.minScale ?? DEFAULT_TRUST_MIN_SCALE;
  const relativeScale = options.relativeScale ?? DEFAULT_TRUST_RELATIVE_SCALE;
  checkRange('threshold', threshold, 0, Number.MAX_VALUE, { minOpen: true });
  checkRange('relativeScale', relativeScale, 0, 1);
  checkRange('minScale', minScale, 0, 1, { minOpen: true });
  const input = checkInput(preds, numClasses, weights);
  const m = preds.length;
  // The reference ignores weights beyond dropping zeros: a participant must not buy
  // influence over its own score with a large (self-reported) sample count.
  const present = Array.from(input.weights, (w) => (w > 0 ? 1 : 0));
  const reference = medianConsensus(preds, numClasses, present);
  const distance = new Float64Array(m);
  for (let j = 0; j < m; j++) distance[j] = meanTotalVariation(preds[j], reference, numClasses, input.n);

  const scored = Array.from(distance).filter((_, j) => input.weights[j] > 0);
  const centre = medianOf(scored);
  const mad = medianOf(scored.map((d) => Math.abs(d - centre)));
  const scale = Math.max(1.4826 * mad, relativeScale * centre, minScale);
  const trust = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const z = (distance[j] - centre) / scale;
    trust[j] = z <= threshold ? 1 : Math.exp(-(z - threshold));
  }
  return { distance, trust };
}

/**
 * The weighted mean with each weight multiplied by its trust factor, rows renormalised.
 * When every factor is 1 this is exactly mean().
 */
export function agreementWeightedMean(
  preds: readonly Float32Array[],
  numClasses: number,
  weights?: readonly number[],
  options: TrustOptions = {},
): Float32Array {
  const { trust } = trustScores(preds, numClasses, weights, options);
  const w = new Float64Array(preds.length);
  for (let j = 0; j < preds.length; j++) w[j] = (weights?.[j] ?? 1) * trust[j];
  return normalizeRows(weightedSum(preds, w), numClasses);
}

function meanTotalVariation(p: Float32Array, r: Float32Array, C: number, n: number): number {
  let total = 0;
  for (let k = 0; k < n * C; k++) total += Math.abs(p[k] - r[k]);
  return total / (2 * n);
}

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function medianOf(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
