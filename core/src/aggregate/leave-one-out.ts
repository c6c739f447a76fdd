/**
 * Leave-one-out from an already aggregated weighted mean. A coordinator that has computed
 * a batch's consensus `mean = Σ_j w_j·p_j / W` once can give every contributor i its
 * target q_{-i} = (W·mean − w_i·p_i) / (W − w_i) in O(n·C), without keeping running sums
 * (ConsensusAccumulator) or re-aggregating the others (aggregateLeaveOneOut, O(m·n·C)).
 * Only valid for the plain weighted mean: the other rules have no such closed form.
 */
import { AggregationError } from './errors.ts';
import { checkNumClasses, checkWeight } from './validate.ts';

/**
 * The weighted mean of everyone but one contributor, rows renormalised (negative round-off
 * clamped to 0, a row with no mass left uniform). `mean` is the weighted mean of all
 * contributions with total weight `totalWeight`; `own` is the left-out contribution with
 * weight `ownWeight`. Null when nobody else carries weight (totalWeight − ownWeight ≤ 0).
 *
 * @throws AggregationError on mismatched lengths or bad weights.
 */
export function leaveOneOutFromMean(
  mean: Float32Array,
  totalWeight: number,
  own: Float32Array,
  ownWeight: number,
  numClasses: number,
): Float32Array | null {
  checkNumClasses(numClasses);
  checkWeight(totalWeight, 'total');
  checkWeight(ownWeight, 'left-out contribution');
  if (mean.length !== own.length || mean.length % numClasses !== 0) {
    throw new AggregationError(
      'ERR_AGG_SHAPE',
      `mean has ${mean.length} values and the left-out contribution ${own.length}; both must be n×${numClasses}`,
    );
  }
  const rest = totalWeight - ownWeight;
  if (!(rest > 0)) return null;
  const C = numClasses;
  const n = mean.length / C;
  const out = new Float32Array(n * C);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let k = r * C; k < r * C + C; k++) {
      const v = Math.max(0, (mean[k]! * totalWeight - ownWeight * own[k]!) / rest);
      out[k] = v;
      sum += v;
    }
    for (let k = r * C; k < r * C + C; k++) out[k] = sum > 0 ? out[k]! / sum : 1 / C;
  }
  return out;
}
