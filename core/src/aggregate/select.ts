/**
 * Weighted order statistics by quickselect, the inner loop of the robust aggregators: for
 * thousands of participants a full sort per coordinate (512×10 of them) costs O(m log m)
 * each; selection is O(m) expected.
 */

// xorshift32 for pivot choice: random pivots keep selection O(m) expected whatever order
// (possibly adversarial) the values arrive in. The result never depends on the pivots.
let pivotState = 0x9e3779b9;
function nextPivot(lo: number, hi: number): number {
  pivotState ^= pivotState << 13;
  pivotState ^= pivotState >>> 17;
  pivotState ^= pivotState << 5;
  return lo + ((pivotState >>> 0) % (hi - lo));
}

/**
 * Over the parallel arrays `values` and `weights` (all weights > 0) restricted to [lo, hi),
 * finds the element at which the weight accumulated in ascending value order first reaches
 * `target` (> 0), i.e. the smallest sorted position k with w_1 + … + w_k >= target; if
 * rounding leaves `target` above the total, the largest element. Both arrays are permuted
 * together in place so that every element in [lo, k) is <= values[k] and every element in
 * (k, hi) is >= values[k]; k is returned.
 *
 * Three-way partitioning keeps runs of equal values (common: many participants say 0)
 * linear. O(hi − lo) expected.
 */
export function selectByWeight(
  values: Float64Array,
  weights: Float64Array,
  lo: number,
  hi: number,
  target: number,
): number {
  let t = target;
  while (hi - lo > 1) {
    const pivot = values[nextPivot(lo, hi)];
    // Dijkstra's partition: [lo, lt) < pivot, [lt, i) == pivot, [gt, hi) > pivot.
    let lt = lo;
    let i = lo;
    let gt = hi;
    let massLess = 0;
    let massEqual = 0;
    while (i < gt) {
      const v = values[i];
      if (v < pivot) {
        massLess += weights[i];
        swap(values, weights, i, lt);
        lt++;
        i++;
      } else if (v > pivot) {
        gt--;
        swap(values, weights, i, gt);
      } else {
        massEqual += weights[i];
        i++;
      }
    }
    if (t <= massLess) {
      hi = lt;
    } else if (t <= massLess + massEqual || gt === hi) {
      // The crossing is inside the run of values equal to the pivot (any order among them
      // is a valid sorted order); walk it to find the exact element.
      let cum = massLess;
      for (let k = lt; k < gt; k++) {
        cum += weights[k];
        if (cum >= t) return k;
      }
      return gt - 1;
    } else {
      t -= massLess + massEqual;
      lo = gt;
    }
  }
  return lo;
}

function swap(values: Float64Array, weights: Float64Array, a: number, b: number): void {
  const v = values[a];
  values[a] = values[b];
  values[b] = v;
  const w = weights[a];
  weights[a] = weights[b];
  weights[b] = w;
}
