/**
 * Adam whose per-variable update is one kernel on the wasm backend.
 *
 * tf.train.adam runs ~13 small kernels per variable per step; on wasm that measured
 * X ms of an mlp step (see core/bench/profile-step.ts --optimizer). FusedAdamOptimizer
 * is a tf.AdamOptimizer (same config, same getWeights/setWeights layout, serialised as
 * 'Adam') whose applyGradients runs the 'MutuaAdamUpdate' kernel per variable when the
 * active backend is wasm, and tfjs' own implementation on any other backend.
 *
 * It reads AdamOptimizer's private state (moments, beta powers) by name: the tests
 * compare it step by step with tf.train.adam, so a tfjs upgrade that renames those
 * fields fails loudly there rather than training wrongly.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE, adamUpdateConfig } from './kernels/adam-update.ts';

/** The private fields of tfjs' AdamOptimizer this class updates (tfjs 4.x). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

function fusedKernelReady(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  if (!tf.getKernel(ADAM_UPDATE, 'wasm')) tf.registerKernel(adamUpdateConfig);
  return true;
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!fusedKernelReady()) {
      super.applyGradients(variableGradients);
      return;
    }
    const s = this as unknown as AdamState;
    const entries: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    // beta^t as the stock optimizer holds it (float32), read synchronously: on wasm that
    // is a heap read, not a device sync.
    const oneMinusAccBeta1 = 1 - s.accBeta1.dataSync()[0]!;
    const oneMinusAccBeta2 = 1 - s.accBeta2.dataSync()[0]!;
    tf.tidy(() => {
      entries.forEach(([name, gradient], i) => {
        const value = tf.engine().registeredVariables[name]!;
        // Moments are created lazily, named and ordered exactly as tfjs does it.
        s.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        s.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        if (gradient == null) return;
        const m = s.accumulatedFirstMoment[i]!.variable;
        const v = s.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = tf.engine().runKernel(
          ADAM_UPDATE,
          { value, m, v, grad: gradient },
          {
            learningRate: s.learningRate,
            beta1: s.beta1,
            beta2: s.beta2,
            epsilon: s.epsilon,
            oneMinusAccBeta1,
            oneMinusAccBeta2,
          },
        ) as tf.Tensor[];
        m.assign(newM!);
        v.assign(newV!);
        value.assign(newValue!);
      });
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
    });
    this.incrementIterations();
  }
}

/** Like tf.train.adam(), with the fused update on wasm. */
export function fusedAdam(
  learningRate = 0.001,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
