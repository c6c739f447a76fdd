/** Maps a federation's aggregation setting onto core's pure aggregation maths. */
import { type AggregateOptions, aggregate } from '@mutua/core/aggregate';
import type { FederationSettings } from './settings.ts';

export function aggregateOptions(settings: FederationSettings): AggregateOptions {
  return {
    numClasses: settings.task.numClasses,
    trimFraction: settings.trimFraction,
    eraTemperature: settings.eraTemperature,
  };
}

export function aggregatePredictions(
  settings: FederationSettings,
  preds: Float32Array[],
  weights: number[],
): Float32Array {
  return aggregate(
    settings.aggregation,
    preds.map((pred, i) => ({ pred, weight: weights[i]! })),
    aggregateOptions(settings),
  );
}
