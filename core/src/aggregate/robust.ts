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
 * Cost O(m·n·C) expected: a histogram pass per coordinate, then quickselect on the values
 * near the wanted quantiles only (quantiles.ts); O(m) scratch.
 */
import { AggregationError } from './errors.ts';
import { mean } from './mean.ts';
import { ColumnQuantiles } from './quantiles.ts';
import { normalizeRows } from './rows.ts';
import { type CheckedInput, checkInput } from './validate.ts';

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
  const columns = positiveColumns(preds, input);
  const quantiles = new ColumnQuantiles(columns.preds.length, columns.weights);
  const out = coordinatewise(columns.preds, input.n * numClasses, (column, bits) =>
    quantiles.median(column, bits),
  );
  return normalizeRows(out, numClasses);
}

/**
 * Coordinate-wise weighted trimmed mean, rows renormalised: for each coordinate, drop the
 * lowest and the highest `trimFraction`·W of the weight W and average what remains (weighted).
 * `trimFraction` = 0 is exactly mean(); as `trimFraction` approaches 0.5 the result approaches median().
 * Weights of 0 drop a prediction.
 *
 * @param trimFraction β in [0, 0.5): the fraction of weight cut from each side.
 * @throws AggregationError on empty input, mismatched shapes, bad probabilities or weights,
 *   or `trimFraction` outside [0, 0.5).
 */
export function trimmedMean(
  preds: readonly Float32Array[],
  numClasses: number,
  trimFraction: number,
  weights?: readonly number[],
): Float32Array {
  if (!(Number.isFinite(trimFraction) && trimFraction >= 0 && trimFraction < 0.5)) {
    throw new AggregationError('ERR_AGG_OPTION', `trimFraction must be in [0, 0.5), got ${trimFraction}`);
  }
  if (trimFraction === 0) return mean(preds, numClasses, weights);
  const input = checkInput(preds, numClasses, weights);
  const columns = positiveColumns(preds, input);
  const quantiles = new ColumnQuantiles(columns.preds.length, columns.weights);
  const from = trimFraction * quantiles.total;
  const to = quantiles.total - from;
  const out = coordinatewise(columns.preds, input.n * numClasses, (column, bits) =>
    quantiles.meanBetween(column, bits, from, to),
  );
  return normalizeRows(out, numClasses);
}

interface Columns {
  /** The predictions with weight > 0. */
  readonly preds: readonly Float32Array[];
  /** Their weights, or null when all are equal (then counted as 1, so mass sums are exact). */
  readonly weights: Float64Array | null;
}

function positiveColumns(preds: readonly Float32Array[], input: CheckedInput): Columns {
  const kept: Float32Array[] = [];
  const w: number[] = [];
  for (let j = 0; j < preds.length; j++) {
    if (input.weights[j] > 0) {
      kept.push(preds[j]);
      w.push(input.weights[j]);
    }
  }
  return { preds: kept, weights: w.every((x) => x === w[0]) ? null : Float64Array.from(w) };
}

/** Coordinates gathered per pass: 16 float32s are one 64-byte cache line of each prediction. */
const BLOCK = 16;

/**
 * Computes `reduce` for every coordinate's column (one value per participant). Columns are
 * gathered BLOCK coordinates at a time, so each prediction is read a cache line at a time
 * rather than one float per line.
 */
function coordinatewise(
  preds: readonly Float32Array[],
  size: number,
  reduce: (column: Float32Array, bits: Uint32Array) => number,
): Float64Array {
  const m = preds.length;
  const block = new Float32Array(BLOCK * m);
  const blockBits = new Uint32Array(block.buffer);
  const out = new Float64Array(size);
  for (let k0 = 0; k0 < size; k0 += BLOCK) {
    const width = Math.min(BLOCK, size - k0);
    for (let j = 0; j < m; j++) {
      const p = preds[j];
      // + 0 turns -0 into +0, whose bit pattern orders correctly.
      for (let b = 0; b < width; b++) block[b * m + j] = p[k0 + b] + 0;
    }
    for (let b = 0; b < width; b++) {
      out[k0 + b] = reduce(block.subarray(b * m, (b + 1) * m), blockBits.subarray(b * m, (b + 1) * m));
    }
  }
  return out;
}
