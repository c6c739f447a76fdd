/**
 * Every rejected aggregation input is an AggregationError with a stable `code`, so the
 * coordinator can map it to a protocol error (and a participant can be told which of its
 * numbers was wrong) instead of matching message text.
 */
export type AggregationErrorCode =
  /** No contributions, or a zero-length prediction. */
  | 'ERR_AGG_EMPTY'
  /** Prediction lengths differ, or are not a multiple of the class count. */
  | 'ERR_AGG_SHAPE'
  /** A probability is NaN, infinite, negative or above 1. */
  | 'ERR_AGG_VALUE'
  /** A weight is NaN, infinite or negative, there are more or fewer weights than predictions, or all are 0. */
  | 'ERR_AGG_WEIGHT'
  /** An option (class count, trim fraction, temperature, staleness parameter, kind) is out of range. */
  | 'ERR_AGG_OPTION';

/** A rejected aggregation argument; `code` is stable, the message says what to change. */
export class AggregationError extends Error {
  override readonly name = 'AggregationError';
  constructor(
    readonly code: AggregationErrorCode,
    message: string,
  ) {
    super(message);
  }
}
