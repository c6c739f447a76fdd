/** Maps a federation's aggregation setting onto core's pure aggregation maths. */
import { aggregate, stalenessWeight as coreStalenessWeight } from '@mutua/core/aggregate';
import type { FederationSettings } from './settings.ts';

export function aggregatePredictions(
  settings: FederationSettings,
  preds: Float32Array[],
  weights: number[],
): Float32Array {
  return aggregate(
    settings.aggregation,
    preds.map((pred, i) => ({ pred, weight: weights[i]! })),
    {
      numClasses: settings.task.numClasses,
      trimFraction: settings.trimFraction,
      eraTemperature: settings.eraTemperature,
    },
  );
}

/** FedAsync's polynomial staleness weight (Xie et al. 2019): (1 + tau)^-a. */
export function stalenessWeight(tau: number, exponent: number): number {
  return coreStalenessWeight(tau, { kind: 'polynomial', a: exponent });
}
