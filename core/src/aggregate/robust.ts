/**
 * Coordinate-wise robust aggregation against poisoned predictions (Yin et al., "Byzantine-
 * robust distributed learning: towards optimal statistical rates", ICML 2018): each
 * probability of the consensus is the (weighted) median or trimmed mean of the
 * participants' values for that sample and class, then each row is renormalised.
 *
 * Weights are honoured as probability mass, so staleness weights still apply under a robust
 * rule: with equal weights both functions are the textbook ones (median averages the two
 * middle values of an even count; trimming β·m values per side when β·m is whole), and a
 * participant of weight 2 counts as two of weight 1. Trimming removes β of the total weight
 * from each tail, cutting through a boundary participant's weight when β·m is fractional,
 * which makes the result continuous in β and independent of the order of participants.
 * A robust rule only protects while the adversaries hold less than half (median) or less
 * than β (trimmed mean) of the weight, so weights must not be self-reported.
 *
 * Cost O(m·n·C) expected (quickselect per coordinate, see select.ts) plus O(m) scratch.
 */
import { AggregationError } from './errors.ts';
import { mean } from './mean.ts';
import { normalizeRows } from './rows.ts';
import { selectByWeight } from './select.ts';
import { type CheckedInput, checkInput } from './validate.ts';

/**
 * Two masses closer than this fraction of the total weight count as equal, so that float
 * round-off in summing weights cannot turn "exactly half" (even count) into "just below".
 */
const MASS_TOLERANCE = 1e-9;

/**
 * Coordinate-wise weighted median, rows renormalised. For each coordinate, the value at
 * which the cumulative weight (values ascending) reaches half the total; when it reaches
 * exactly half at a boundary between two participants, the mean of their two values (so
 * an even count of equal weights gives the usual midpoint). A row where no class has a
 * majority value above 0 (e.g. three participants each one-hot on a different class) comes
 * out uniform. Weights of 0 drop a prediction.
 *
 * @throws AggregationError on empty input, mismatched shapes, bad probabilities or weights.
 */
export function median(
  preds: readonly Float32Array[],
  numClasses: number,
  weights?: readonly number[],
): Float32Array {
  const input = checkInput(preds, numClasses, weights);
  const { columns, mass } = positiveColumns(preds, input);
  const half = mass / 2;
  const tolerance = MASS_TOLERANCE * mass;
  const out = coordinatewise(columns, input.n * numClasses, (values, w, m) => {
    const k = selectByWeight(values, w, 0, m, half - tolerance);
    let through = 0;
    for (let i = 0; i <= k; i++) through += w[i];
    if (through > half + tolerance || k + 1 === m) return values[k];
    // Exactly half the weight lies at or below values[k]: average with the next value up.
    let next = values[k + 1];
    for (let i = k + 2; i < m; i++) if (values[i] < next) next = values[i];
    return (values[k] + next) / 2;
  });
  return normalizeRows(out, numClasses);
}

/**
 * Coordinate-wise weighted trimmed mean, rows renormalised: for each coordinate, drop the
 * lowest and the highest `trim`·W of the weight W and average what remains (weighted).
 * `trim` = 0 is exactly mean(); as `trim` approaches 0.5 the result approaches median().
 * Weights of 0 drop a prediction.
 *
 * @param trim β in [0, 0.5): the fraction of weight cut from each side.
 * @throws AggregationError on empty input, mismatched shapes, bad probabilities or weights,
 *   or `trim` outside [0, 0.5).
 */
export function trimmedMean(
  preds: readonly Float32Array[],
  numClasses: number,
  trim: number,
  weights?: readonly number[],
): Float32Array {
  if (!(Number.isFinite(trim) && trim >= 0 && trim < 0.5)) {
    throw new AggregationError('ERR_AGG_OPTION', `trim must be in [0, 0.5), got ${trim}`);
  }
  if (trim === 0) return mean(preds, numClasses, weights);
  const input = checkInput(preds, numClasses, weights);
  const { columns, mass } = positiveColumns(preds, input);
  const from = trim * mass;
  const to = mass - from;
  const out = coordinatewise(columns, input.n * numClasses, (values, w, m) => {
    // The integral of the weighted quantile function over the mass interval [from, to].
    const a = selectByWeight(values, w, 0, m, from);
    let endA = 0;
    for (let i = 0; i <= a; i++) endA += w[i];
    if (endA >= to || a + 1 === m) return values[a];
    let sum = values[a] * (endA - from);
    const b = selectByWeight(values, w, a + 1, m, to - endA);
    let startB = endA;
    for (let i = a + 1; i < b; i++) {
      sum += values[i] * w[i];
      startB += w[i];
    }
    sum += values[b] * (to - startB);
    return sum / (to - from);
  });
  return normalizeRows(out, numClasses);
}

interface Columns {
  /** The predictions with weight > 0. */
  readonly preds: readonly Float32Array[];
  /** Their weights, replaced by 1 when all are equal so that mass sums are exact. */
  readonly weights: Float64Array;
}

function positiveColumns(
  preds: readonly Float32Array[],
  input: CheckedInput,
): { columns: Columns; mass: number } {
  const kept: Float32Array[] = [];
  const w: number[] = [];
  for (let j = 0; j < preds.length; j++) {
    if (input.weights[j] > 0) {
      kept.push(preds[j]);
      w.push(input.weights[j]);
    }
  }
  const allEqual = w.every((x) => x === w[0]);
  const weights = allEqual ? new Float64Array(w.length).fill(1) : Float64Array.from(w);
  let mass = 0;
  for (const x of weights) mass += x;
  return { columns: { preds: kept, weights }, mass };
}

/**
 * Applies `reduce` to each coordinate's column of values (one per participant), handing it
 * scratch copies it may permute.
 */
function coordinatewise(
  columns: Columns,
  size: number,
  reduce: (values: Float64Array, weights: Float64Array, m: number) => number,
): Float64Array {
  const m = columns.preds.length;
  const values = new Float64Array(m);
  const weights = new Float64Array(m);
  const out = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    for (let j = 0; j < m; j++) values[j] = columns.preds[j][k];
    weights.set(columns.weights);
    out[k] = reduce(values, weights, m);
  }
  return out;
}
