/**
 * Argument checks shared by every aggregator. They run before any arithmetic so that a bad
 * contribution is reported with its position rather than silently poisoning a consensus.
 */
import { AggregationError } from './errors.ts';

/**
 * How far above 1 a probability may be: a float32 softmax can round to 1 + 1 ulp, and we
 * would rather accept that than reject an honest participant.
 */
const PROBABILITY_SLACK = 1e-4;

/** Throws ERR_AGG_OPTION unless `numClasses` is an integer >= 1. */
export function checkNumClasses(numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new AggregationError('ERR_AGG_OPTION', `numClasses must be an integer >= 1, got ${numClasses}`);
  }
}

/**
 * Checks one n×C prediction matrix and returns n. `label` names it in messages
 * (e.g. "contribution 3").
 */
export function checkPrediction(pred: Float32Array, numClasses: number, label: string): number {
  if (pred.length === 0) {
    throw new AggregationError('ERR_AGG_EMPTY', `${label} is empty (0 values)`);
  }
  if (pred.length % numClasses !== 0) {
    throw new AggregationError(
      'ERR_AGG_SHAPE',
      `${label} has ${pred.length} values, not a multiple of numClasses=${numClasses}`,
    );
  }
  for (let k = 0; k < pred.length; k++) {
    const v = pred[k];
    // Written so that NaN fails too.
    if (!(v >= 0 && v <= 1 + PROBABILITY_SLACK)) {
      const row = Math.floor(k / numClasses);
      const what = Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? `${v} (outside [0, 1])` : `${v}`;
      throw new AggregationError(
        'ERR_AGG_VALUE',
        `${label}: probability at row ${row}, class ${k % numClasses} is ${what}`,
      );
    }
  }
  return pred.length / numClasses;
}

/** Throws ERR_AGG_WEIGHT unless `weight` is finite and >= 0. */
export function checkWeight(weight: number, label: string): void {
  if (!(Number.isFinite(weight) && weight >= 0)) {
    throw new AggregationError(
      'ERR_AGG_WEIGHT',
      `${label}: weight must be a finite number >= 0, got ${weight}`,
    );
  }
}

/** What every multi-participant aggregator needs once its arguments are known to be sound. */
export interface CheckedInput {
  /** Rows (public-batch samples) per prediction. */
  readonly n: number;
  /** One weight per prediction; all 1 when none were given. */
  readonly weights: Float64Array;
  /** Sum of the weights; always > 0. */
  readonly totalWeight: number;
}

/**
 * Checks a set of predictions and their optional weights: non-empty, equal lengths that are
 * multiples of `numClasses`, probabilities in [0, 1], weights finite and >= 0, not all 0.
 * O(m·n·C): every value is looked at once.
 */
export function checkInput(
  preds: readonly Float32Array[],
  numClasses: number,
  weights?: readonly number[],
): CheckedInput {
  checkNumClasses(numClasses);
  if (preds.length === 0) {
    throw new AggregationError('ERR_AGG_EMPTY', 'no predictions to aggregate');
  }
  if (weights !== undefined && weights.length !== preds.length) {
    throw new AggregationError(
      'ERR_AGG_WEIGHT',
      `got ${weights.length} weights for ${preds.length} predictions; pass one weight per prediction`,
    );
  }
  const length = preds[0].length;
  const w = new Float64Array(preds.length);
  let totalWeight = 0;
  for (let j = 0; j < preds.length; j++) {
    const pred = preds[j];
    const label = `contribution ${j}`;
    if (pred.length !== length) {
      throw new AggregationError(
        'ERR_AGG_SHAPE',
        `${label} has ${pred.length} values but contribution 0 has ${length}; all must cover the same batch`,
      );
    }
    checkPrediction(pred, numClasses, label);
    const wj = weights === undefined ? 1 : weights[j];
    checkWeight(wj, label);
    w[j] = wj;
    totalWeight += wj;
  }
  if (!(totalWeight > 0)) {
    throw new AggregationError('ERR_AGG_WEIGHT', 'every weight is 0: nothing to aggregate');
  }
  return { n: length / numClasses, weights: w, totalWeight };
}

/** Throws ERR_AGG_OPTION unless `value` is finite and within (min, max) / [min, max] as flagged. */
export function checkRange(
  name: string,
  value: number,
  min: number,
  max: number,
  { minOpen = false, maxOpen = false }: { minOpen?: boolean; maxOpen?: boolean } = {},
): void {
  const aboveMin = minOpen ? value > min : value >= min;
  const belowMax = maxOpen ? value < max : value <= max;
  if (!(Number.isFinite(value) && aboveMin && belowMax)) {
    const range = `${minOpen ? '(' : '['}${min}, ${max}${maxOpen ? ')' : ']'}`;
    throw new AggregationError('ERR_AGG_OPTION', `${name} must be in ${range}, got ${value}`);
  }
}
