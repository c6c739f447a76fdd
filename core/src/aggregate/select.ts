/**
 * Weighted order statistics by quickselect, the inner loop of the robust aggregators: for
 * thousands of participants a full sort per coordinate (512×10 of them) costs O(m log m)
 * each; selection is O(m) expected.
 */

// xorshift32 for pivot choice: random pivots keep selection O(m) expected whatever order
// (possibly adversarial) the values arrive in. The result never depends on the pivots.
let pivotState = 0x9e3779b9;
function randomIndex(lo: number, hi: number): number {
  pivotState ^= pivotState << 13;
  pivotState ^= pivotState >>> 17;
  pivotState ^= pivotState << 5;
  return lo + ((pivotState >>> 0) % (hi - lo));
}

/**
 * Over `values[lo, hi)` with parallel `weights` (all > 0; null means every weight is 1),
 * finds the element at which the weight accumulated in ascending value order first reaches
 * `target` (> 0): the smallest sorted position k with w_1 + … + w_k >= target, or the
 * largest element if rounding leaves `target` above the total. Both arrays are permuted
 * together in place so that every element in [lo, k) is <= values[k] and every element in
 * (k, hi) is >= values[k]; k is returned.
 *
 * Hoare partitioning (equal values may go either way) keeps long runs of equal values,
 * common when many participants say 0, balanced. O(hi − lo) expected.
 */
export function selectByWeight(
  values: Float64Array,
  weights: Float64Array | null,
  lo: number,
  hi: number,
  target: number,
): number {
  let t = target;
  let l = lo;
  let h = hi - 1;
  while (l < h) {
    // With the pivot moved to the front, Hoare's scheme always leaves both sides non-empty.
    swap(values, weights, l, randomIndex(l, h + 1));
    const pivot = values[l];
    let i = l - 1;
    let j = h + 1;
    for (;;) {
      do i++;
      while (values[i] < pivot);
      do j--;
      while (values[j] > pivot);
      if (i >= j) break;
      swap(values, weights, i, j);
    }
    // Now [l, j] <= pivot <= [j + 1, h].
    let left = j - l + 1;
    if (weights !== null) {
      left = 0;
      for (let k = l; k <= j; k++) left += weights[k];
    }
    if (t <= left) {
      h = j;
    } else {
      t -= left;
      l = j + 1;
    }
  }
  return l;
}

function swap(values: Float64Array, weights: Float64Array | null, a: number, b: number): void {
  const v = values[a];
  values[a] = values[b];
  values[b] = v;
  if (weights !== null) {
    const w = weights[a];
    weights[a] = weights[b];
    weights[b] = w;
  }
}
