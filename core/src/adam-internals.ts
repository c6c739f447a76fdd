/**
 * The one place Mutua reads a library's private fields in core: tfjs' AdamOptimizer keeps
 * its bias-correction powers and moment variables private (tfjs-core 4.x,
 * src/optimizers/adam_optimizer.ts: accBeta1, accBeta2, accumulatedFirstMoment,
 * accumulatedSecondMoment). fused-adam.ts must update them in place so that its optimizer
 * stays a tf.AdamOptimizer (same getWeights/setWeights layout, serialised as 'Adam').
 *
 * Kept because it measurably pays: with Mutua's wasm kernels, fused Adam took a training
 * step from 10.0 to 9.2 ms of CPU time on mlp and from 38.0 to 35.6 ms on cnn-small
 * (batch 64, medians of 8 alternating rounds in one process on the shared 2-core machine,
 * load ~16; see fused-adam.ts for the per-variable figures). adam-internals.test.ts checks these fields and their meaning on a
 * stock tf.train.adam, so a tfjs upgrade that renames or changes them fails there; at run
 * time a missing field is ERR_ADAM_INTERNALS, never a silently wrong update.
 */
import type * as tf from '@tensorflow/tfjs';

/** One moment variable, as tfjs names it: `${variable}/m` or `${variable}/v`. */
export interface AdamMoment {
  originalName: string;
  variable: tf.Variable;
}

/**
 * A live view of an AdamOptimizer's private state. The arrays are the optimizer's own
 * (setWeights replaces them, so take a fresh view for every step); entries are created
 * lazily, in applyGradients' variable order.
 */
export interface AdamState {
  /** beta1^(t+1) after t steps, a float32 scalar. */
  readonly accBeta1: tf.Variable;
  readonly accBeta2: tf.Variable;
  readonly firstMoments: (AdamMoment | undefined)[];
  readonly secondMoments: (AdamMoment | undefined)[];
}

export class AdamInternalsError extends Error {
  override readonly name = 'AdamInternalsError';
  readonly code = 'ERR_ADAM_INTERNALS';
}

function isVariable(x: unknown): x is tf.Variable {
  return typeof x === 'object' && x !== null && typeof (x as tf.Variable).assign === 'function';
}

export function adamState(optimizer: tf.AdamOptimizer): AdamState {
  const o = optimizer as unknown as Record<string, unknown>;
  const { accBeta1, accBeta2, accumulatedFirstMoment, accumulatedSecondMoment } = o;
  if (
    !isVariable(accBeta1) ||
    !isVariable(accBeta2) ||
    !Array.isArray(accumulatedFirstMoment) ||
    !Array.isArray(accumulatedSecondMoment)
  ) {
    throw new AdamInternalsError(
      'tf.AdamOptimizer no longer has the private fields fused Adam updates (accBeta1, accBeta2, ' +
        'accumulatedFirstMoment, accumulatedSecondMoment); use tf.train.adam or update core/src/adam-internals.ts',
    );
  }
  return {
    accBeta1,
    accBeta2,
    firstMoments: accumulatedFirstMoment as (AdamMoment | undefined)[],
    secondMoments: accumulatedSecondMoment as (AdamMoment | undefined)[],
  };
}
