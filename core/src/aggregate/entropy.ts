/**
 * Confidence (entropy) weighting: each participant's vote on a sample counts in proportion
 * to how sure it is about that sample.
 *
 * Why: under non-IID data a participant that never saw a class answers samples of that
 * class with a flat, high-entropy distribution, while a participant that trained on it is
 * sharp. Averaging them equally blurs the expert's answer, the effect DS-FL (Itahara et al.,
 * IEEE TMC 2021, arXiv:2008.06180) measures on non-IID data and counters with entropy
 * reduction. Weighting per sample lets the expert dominate where it is the expert without
 * choosing one participant for the whole batch, as FedMD's plain mean (arXiv:1910.03581)
 * cannot.
 *
 * The weight is the normalised information content c(p) = 1 − H(p)/log C ∈ [0, 1]: 1 for a
 * one-hot row, 0 for a uniform row. We prefer it to exp(−H), whose floor of 1/C still gives
 * a uniform (know-nothing, or poisoned-with-noise) row a say, and whose scale depends on C.
 */
import { normalizeRows } from './rows.ts';
import { checkInput, checkNumClasses, checkPrediction } from './validate.ts';

/**
 * Confidence 1 − H(q)/log C of the row starting at `start`, where q is that row normalised
 * to sum to 1. An all-zero row has confidence 0; with one class every row has confidence 1.
 * The caller guarantees the row is in range and non-negative.
 */
export function rowConfidence(pred: Float32Array, start: number, numClasses: number): number {
  if (numClasses === 1) return 1;
  let sum = 0;
  let sumPLogP = 0;
  for (let k = start; k < start + numClasses; k++) {
    const p = pred[k];
    if (p > 0) {
      sum += p;
      sumPLogP += p * Math.log(p);
    }
  }
  if (sum <= 0) return 0;
  // H(p/s) = log s − Σ p log p / s, which avoids dividing every entry.
  const entropy = Math.log(sum) - sumPLogP / sum;
  const c = 1 - entropy / Math.log(numClasses);
  return Math.min(Math.max(c, 0), 1);
}

/** Per-row confidences (length n) of one n×C prediction matrix; see rowConfidence. */
export function confidenceWeights(pred: Float32Array, numClasses: number): Float64Array {
  checkNumClasses(numClasses);
  const n = checkPrediction(pred, numClasses, 'prediction');
  return rowConfidences(pred, n, numClasses);
}

/** confidenceWeights without the checks, for callers that have already validated. */
export function rowConfidences(pred: Float32Array, n: number, numClasses: number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) out[r] = rowConfidence(pred, r * numClasses, numClasses);
  return out;
}

/**
 * Per-sample confidence-weighted mean: row u of the result is
 * Σ_j w_j c(p_j(u)) p_j(u) / Σ_j w_j c(p_j(u)), renormalised. `weights` (default all 1)
 * are per-participant (e.g. staleness) and multiply the per-row confidences. A row where
 * every participant is exactly uniform has no confident vote and comes out uniform, which
 * is also their plain mean.
 *
 * Cost O(m·n·C) with one log per probability.
 *
 * @throws AggregationError on empty input, mismatched shapes, bad probabilities or weights.
 */
export function entropyWeightedMean(
  preds: readonly Float32Array[],
  numClasses: number,
  weights?: readonly number[],
): Float32Array {
  const { n, weights: w } = checkInput(preds, numClasses, weights);
  const mass = new Float64Array(n * numClasses);
  for (let j = 0; j < preds.length; j++) {
    const wj = w[j];
    if (wj === 0) continue;
    const p = preds[j];
    for (let r = 0, start = 0; r < n; r++, start += numClasses) {
      const rw = wj * rowConfidence(p, start, numClasses);
      if (rw === 0) continue;
      for (let k = start; k < start + numClasses; k++) mass[k] += rw * p[k];
    }
  }
  return normalizeRows(mass, numClasses);
}
