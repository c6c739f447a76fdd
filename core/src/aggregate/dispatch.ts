/**
 * One entry point for a server strategy: pick an aggregation rule by name and hand over
 * the contributions. The rules themselves live one per file beside this one.
 */
import { entropyWeightedMean } from './entropy.ts';
import { AggregationError } from './errors.ts';
import { mean } from './mean.ts';
import { median, trimmedMean } from './robust.ts';
import { sharpen } from './sharpen.ts';
import { agreementWeightedMean } from './trust.ts';
import { checkWeight } from './validate.ts';

export const AGGREGATION_KINDS = ['mean', 'entropy', 'era', 'median', 'trimmed-mean', 'agreement'] as const;

/**
 * - mean: weighted mean (FedMD).
 * - entropy: per-sample confidence-weighted mean (entropy.ts).
 * - era: mean, then sharpened with temperature `eraTemperature` (DS-FL's ERA).
 * - median: coordinate-wise weighted median (robust to < 1/2 poisoned weight).
 * - trimmed-mean: coordinate-wise weighted trimmed mean (robust to < `trimFraction` poisoned weight).
 * - agreement: weighted mean, each weight times a trust factor from the participant's distance
 *   to the median, with a data-driven threshold (trust.ts); the mean when nobody is an outlier.
 */
export type AggregationKind = (typeof AGGREGATION_KINDS)[number];

export function isAggregationKind(value: unknown): value is AggregationKind {
  return typeof value === 'string' && (AGGREGATION_KINDS as readonly string[]).includes(value);
}

/** One participant's predictions on the public batch, n×C row-major probabilities. */
export interface Contribution {
  readonly pred: Float32Array;
  /** Relative weight >= 0 (e.g. data size × staleness weight); default 1; 0 ignores it. */
  readonly weight?: number;
}

export interface AggregateOptions {
  readonly numClasses: number;
  /** trimmed-mean only: fraction β in [0, 0.5) of weight cut from each side. Default 0.1. */
  readonly trimFraction?: number;
  /** era only: T_era > 0; below 1 sharpens. Default 0.5 (squares then renormalises). */
  readonly eraTemperature?: number;
}

export const DEFAULT_TRIM_FRACTION = 0.1;
export const DEFAULT_ERA_TEMPERATURE = 0.5;

/**
 * Aggregates the contributions with rule `kind` into one n×C consensus whose rows sum to 1.
 * Cost O(m·n·C) for every kind (robust kinds: expected, with a larger constant).
 *
 * @throws AggregationError (code ERR_AGG_*) on an unknown kind, empty input, mismatched
 *   shapes, invalid probabilities, negative/non-finite weights, all weights 0, or options
 *   out of range.
 */
export function aggregate(
  kind: AggregationKind,
  contributions: readonly Contribution[],
  options: AggregateOptions,
): Float32Array {
  const preds = contributions.map((c) => c.pred);
  const weights = contributions.map((c) => c.weight ?? 1);
  const { numClasses } = options;
  switch (kind) {
    case 'mean':
      return mean(preds, numClasses, weights);
    case 'entropy':
      return entropyWeightedMean(preds, numClasses, weights);
    case 'era':
      return sharpen(
        mean(preds, numClasses, weights),
        numClasses,
        options.eraTemperature ?? DEFAULT_ERA_TEMPERATURE,
      );
    case 'median':
      return median(preds, numClasses, weights);
    case 'trimmed-mean':
      return trimmedMean(preds, numClasses, options.trimFraction ?? DEFAULT_TRIM_FRACTION, weights);
    case 'agreement':
      return agreementWeightedMean(preds, numClasses, weights);
    default:
      throw new AggregationError(
        'ERR_AGG_OPTION',
        `unknown aggregation kind ${JSON.stringify(kind)}; use one of ${AGGREGATION_KINDS.join(', ')}`,
      );
  }
}

/**
 * The target for participant `index`: aggregate() over every other contribution, or null
 * when no other contribution has weight > 0 (no consensus to distil toward yet).
 *
 * It recomputes from scratch: O(m·n·C) per participant, O(m²·n·C) for all of them. For
 * 'mean', 'entropy' and 'era' prefer ConsensusAccumulator (O(n·C) per participant; apply
 * sharpen() to its result for era); the robust rules have no running-sum form.
 *
 * @throws AggregationError as aggregate(), or if `index` is not a valid position.
 */
export function aggregateLeaveOneOut(
  kind: AggregationKind,
  contributions: readonly Contribution[],
  index: number,
  options: AggregateOptions,
): Float32Array | null {
  if (!Number.isInteger(index) || index < 0 || index >= contributions.length) {
    throw new AggregationError(
      'ERR_AGG_OPTION',
      `index ${index} is not a contribution position in [0, ${contributions.length})`,
    );
  }
  // Weight 0 drops a contribution in every rule; keeping it in place keeps positions in
  // error messages the caller's.
  let anyWeight = false;
  const others = contributions.map((c, j) => {
    const w = j === index ? 0 : (c.weight ?? 1);
    checkWeight(w, `contribution ${j}`);
    if (w > 0) anyWeight = true;
    return { pred: c.pred, weight: w };
  });
  return anyWeight ? aggregate(kind, others, options) : null;
}
