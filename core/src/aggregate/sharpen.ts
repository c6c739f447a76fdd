/**
 * Entropy reduction (DS-FL's ERA, Itahara et al., IEEE TMC 2021, arXiv:2008.06180).
 *
 * Averaging many non-IID participants yields a flat consensus, and distilling toward a flat
 * target teaches little; ERA lowers its entropy before it is sent back. DS-FL applies a
 * softmax with temperature to the averaged probabilities themselves; we apply it to their
 * logarithm, softmax(log(q)/T) = q^(1/T) / Σ q^(1/T), so that T = 1 is the identity, T < 1
 * sharpens, T > 1 flattens, the ranking of classes never changes, and zero stays zero.
 */
import { checkNumClasses, checkPrediction, checkRange } from './validate.ts';

/**
 * Row-wise softmax(log(q)/T) of an n×C probability matrix; each row of the result sums to 1.
 * Computed in log space with the row maximum subtracted, so small T neither overflows nor
 * underflows to an all-zero row. An all-zero input row comes out uniform.
 *
 * @throws AggregationError if `temperature` is not a finite number > 0, or `pred` is invalid.
 */
export function sharpen(pred: Float32Array, numClasses: number, temperature: number): Float32Array {
  checkNumClasses(numClasses);
  checkRange('temperature', temperature, 0, Number.POSITIVE_INFINITY, { minOpen: true, maxOpen: true });
  checkPrediction(pred, numClasses, 'prediction');
  const out = new Float32Array(pred.length);
  const logs = new Float64Array(numClasses);
  const invT = 1 / temperature;
  for (let start = 0; start < pred.length; start += numClasses) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < numClasses; c++) {
      const q = pred[start + c];
      // log(0) = -Infinity, whose exp is exactly 0: an impossible class stays impossible.
      const l = q > 0 ? Math.log(q) * invT : Number.NEGATIVE_INFINITY;
      logs[c] = l;
      if (l > max) max = l;
    }
    if (max === Number.NEGATIVE_INFINITY) {
      out.fill(1 / numClasses, start, start + numClasses);
      continue;
    }
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      const e = Math.exp(logs[c] - max);
      logs[c] = e;
      sum += e;
    }
    for (let c = 0; c < numClasses; c++) out[start + c] = logs[c] / sum;
  }
  return out;
}
