/**
 * Row normalisation, the last step of every aggregator: whatever the per-coordinate
 * arithmetic did, each row of a consensus must be a probability distribution again.
 */

/**
 * Turns an n×C matrix of non-negative row masses into probabilities (Float32, rows sum to
 * 1). Negative entries (float64 round-off after subtracting a contribution) count as 0. A
 * row with no positive mass carries no information and becomes uniform 1/C, which is also
 * what averaging uninformative (uniform) predictions would give.
 */
export function normalizeRows(mass: Float64Array, numClasses: number): Float32Array {
  const out = new Float32Array(mass.length);
  const uniform = 1 / numClasses;
  for (let start = 0; start < mass.length; start += numClasses) {
    const end = start + numClasses;
    let sum = 0;
    for (let k = start; k < end; k++) {
      const v = mass[k];
      if (v > 0) sum += v;
    }
    if (sum > 0) {
      const inv = 1 / sum;
      for (let k = start; k < end; k++) {
        const v = mass[k];
        out[k] = v > 0 ? v * inv : 0;
      }
    } else {
      out.fill(uniform, start, end);
    }
  }
  return out;
}
