/**
 * The coordinator's aggregation maths: pure functions over plain typed arrays (no tfjs), so
 * the server can aggregate thousands of participants' predictions without a tensor backend.
 *
 * A prediction is an n×C row-major Float32Array of probabilities (n public-batch samples,
 * C classes, rows summing to 1). Every aggregator returns a new Float32Array of the same
 * shape whose rows sum to 1, and rejects bad input with an AggregationError carrying a
 * stable `code`. Weights are relative and >= 0; a weight of 0 ignores a prediction.
 *
 * - aggregate(kind, contributions, options): the dispatcher a strategy calls.
 * - aggregateLeaveOneOut(...): the same without one participant (recomputed).
 * - leaveOneOutFromMean(...): the same for 'mean' from the batch's mean, O(n·C).
 * - ConsensusAccumulator: running sums for O(n·C) leave-one-out targets (mean, entropy).
 * - mean, entropyWeightedMean, sharpen (ERA), median, trimmedMean, agreementWeightedMean:
 *   the rules themselves (trustScores: the per-participant factors behind the last).
 * - copyDistance, copyFactors: free-rider detection (uploads compared with the targets sent).
 * - stalenessWeight: FedAsync's decay of asynchronous contributions.
 */

export type { AccumulatorWeighting, ConsensusAccumulatorOptions } from './aggregate/consensus-accumulator.ts';
export { ConsensusAccumulator } from './aggregate/consensus-accumulator.ts';
export type { AggregateOptions, AggregationKind, Contribution } from './aggregate/dispatch.ts';
export {
  AGGREGATION_KINDS,
  aggregate,
  aggregateLeaveOneOut,
  DEFAULT_ERA_TEMPERATURE,
  DEFAULT_TRIM_FRACTION,
  isAggregationKind,
} from './aggregate/dispatch.ts';
export { confidenceWeights, entropyWeightedMean } from './aggregate/entropy.ts';
export type { AggregationErrorCode } from './aggregate/errors.ts';
export { AggregationError } from './aggregate/errors.ts';
export type { CopyDistance, CopyOptions, SampleRows } from './aggregate/free-rider.ts';
export {
  copyDistance,
  copyFactors,
  DEFAULT_COPY_MIN_REFERENCE,
  DEFAULT_COPY_MIN_SCORED,
  DEFAULT_COPY_MIN_SHARED,
  DEFAULT_COPY_RATIO,
} from './aggregate/free-rider.ts';
export { leaveOneOutFromMean } from './aggregate/leave-one-out.ts';
export { mean } from './aggregate/mean.ts';
export { median, trimmedMean } from './aggregate/robust.ts';
export { sharpen } from './aggregate/sharpen.ts';
export type { StalenessFunction, StalenessPolicy } from './aggregate/staleness.ts';
export { isTooStale, stalenessWeight } from './aggregate/staleness.ts';
export type { TrustOptions, TrustScores } from './aggregate/trust.ts';
export {
  agreementWeightedMean,
  DEFAULT_TRUST_MIN_SCALE,
  DEFAULT_TRUST_RELATIVE_SCALE,
  DEFAULT_TRUST_THRESHOLD,
  trustScores,
} from './aggregate/trust.ts';
