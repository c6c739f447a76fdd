/**
 * Helpers for the aggregation tests: a seeded generator, random prediction matrices, and
 * slow, obviously-correct reference implementations (sorting, no running sums) that the
 * fast code is checked against.
 */
import assert from 'node:assert/strict';

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An n×C matrix of random distributions. `sharpness` > 1 makes rows peakier; `ties`
 * rounds probabilities to tenths (before normalising) so that many values coincide.
 */
export function randomPred(
  rand: () => number,
  n: number,
  numClasses: number,
  { sharpness = 1, ties = false }: { sharpness?: number; ties?: boolean } = {},
): Float32Array {
  const out = new Float32Array(n * numClasses);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    const row = new Float64Array(numClasses);
    for (let c = 0; c < numClasses; c++) {
      let v = rand() ** sharpness;
      if (ties) v = Math.round(v * 10) / 10;
      row[c] = v;
      sum += v;
    }
    for (let c = 0; c < numClasses; c++) {
      out[r * numClasses + c] = sum > 0 ? row[c] / sum : 1 / numClasses;
    }
  }
  return out;
}

/** Asserts |a − b| <= tol element-wise, naming the first offending index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(actual.length, expected.length, 'lengths differ');
  for (let k = 0; k < actual.length; k++) {
    const d = Math.abs(actual[k] - expected[k]);
    assert.ok(d <= tol, `index ${k}: ${actual[k]} vs ${expected[k]} (|diff| ${d} > ${tol})`);
  }
}

/** Asserts every row sums to 1 within `tol`. */
export function assertRowsSumToOne(pred: Float32Array, numClasses: number, tol = 1e-6): void {
  for (let start = 0; start < pred.length; start += numClasses) {
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += pred[start + c];
    assert.ok(Math.abs(sum - 1) <= tol, `row ${start / numClasses} sums to ${sum}`);
  }
}

/** Largest |a − b| over all entries. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs(a[k] - b[k]));
  return d;
}

function normalize(mass: Float64Array, numClasses: number): Float64Array {
  const out = new Float64Array(mass.length);
  for (let s = 0; s < mass.length; s += numClasses) {
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += mass[s + c];
    for (let c = 0; c < numClasses; c++) out[s + c] = sum > 0 ? mass[s + c] / sum : 1 / numClasses;
  }
  return out;
}

/** Sorted (value, weight) pairs of one coordinate, positive weights only. */
function column(preds: readonly Float32Array[], weights: readonly number[], k: number): [number, number][] {
  return preds
    .map((p, j): [number, number] => [p[k], weights[j]])
    .filter(([, w]) => w > 0)
    .sort((x, y) => x[0] - y[0]);
}

/** Reference weighted median by sorting (midpoint when the half-weight falls on a boundary). */
export function referenceMedian(
  preds: readonly Float32Array[],
  numClasses: number,
  weights: readonly number[] = preds.map(() => 1),
): Float64Array {
  const out = new Float64Array(preds[0].length);
  for (let k = 0; k < out.length; k++) {
    const col = column(preds, weights, k);
    const half = col.reduce((s, [, w]) => s + w, 0) / 2;
    let cum = 0;
    for (let i = 0; i < col.length; i++) {
      cum += col[i][1];
      if (Math.abs(cum - half) <= 1e-9 * half && i + 1 < col.length) {
        out[k] = (col[i][0] + col[i + 1][0]) / 2;
        break;
      }
      if (cum > half) {
        out[k] = col[i][0];
        break;
      }
    }
  }
  return normalize(out, numClasses);
}

/** Reference weighted trimmed mean by sorting: the mean of the weight interval [βW, (1−β)W]. */
export function referenceTrimmedMean(
  preds: readonly Float32Array[],
  numClasses: number,
  trim: number,
  weights: readonly number[] = preds.map(() => 1),
): Float64Array {
  const out = new Float64Array(preds[0].length);
  for (let k = 0; k < out.length; k++) {
    const col = column(preds, weights, k);
    const total = col.reduce((s, [, w]) => s + w, 0);
    const from = trim * total;
    const to = total - from;
    let start = 0;
    let sum = 0;
    for (const [v, w] of col) {
      const overlap = Math.min(start + w, to) - Math.max(start, from);
      if (overlap > 0) sum += v * overlap;
      start += w;
    }
    out[k] = sum / (to - from);
  }
  return normalize(out, numClasses);
}
