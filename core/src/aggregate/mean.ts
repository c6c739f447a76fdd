/**
 * The plain weighted mean of predictions, FedMD's consensus (Li & Wang 2019,
 * arXiv:1910.03581) and the base of DS-FL's ERA.
 */
import { normalizeRows } from './rows.ts';
import { checkInput } from './validate.ts';

/**
 * Weighted mean of m n×C prediction matrices, rows renormalised to sum to 1.
 *
 * `weights` (default: all 1) are relative, need not sum to 1, and a weight of 0 drops that
 * prediction. Inputs are expected to be distributions already; they are not renormalised
 * one by one. Sums run in float64. Cost O(m·n·C), one pass, no allocation per participant.
 *
 * @throws AggregationError on empty input, mismatched shapes, bad probabilities or weights.
 */
export function mean(
  preds: readonly Float32Array[],
  numClasses: number,
  weights?: readonly number[],
): Float32Array {
  const { weights: w } = checkInput(preds, numClasses, weights);
  return normalizeRows(weightedSum(preds, w), numClasses);
}

/** Σ_j w_j·p_j in float64, skipping zero weights. Arguments must be checked already. */
export function weightedSum(preds: readonly Float32Array[], weights: Float64Array): Float64Array {
  const acc = new Float64Array(preds[0].length);
  for (let j = 0; j < preds.length; j++) {
    const wj = weights[j];
    if (wj === 0) continue;
    const p = preds[j];
    for (let k = 0; k < acc.length; k++) acc[k] += wj * p[k];
  }
  return acc;
}
