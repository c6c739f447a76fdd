/**
 * Adam whose update of a small variable is one kernel on the wasm backend.
 *
 * tf.train.adam runs ~13 small kernels per variable per step. For a small variable
 * (biases, small filters) that is mostly per-kernel overhead: the fused
 * 'MutuaAdamUpdate' kernel takes 22 us instead of 97 us for 1k elements (CPU, min of
 * 35). For a large one the work is memory-bound and wasm's elementwise kernels beat a
 * JavaScript pass (200k elements: 0.9 ms stock vs 1.65 ms fused; crossover ~15k), so
 * large variables keep tfjs' formula. On an mlp or cnn-small step this saves ~0.5 ms.
 *
 * FusedAdamOptimizer is a tf.AdamOptimizer (same config, same getWeights/setWeights
 * layout, serialised as 'Adam'); on any backend other than wasm it is tfjs' Adam. It
 * updates AdamOptimizer's private state (moments, beta powers) through the one adapter
 * adam-internals.ts, whose test fails if tfjs renames or changes those fields; the tests
 * here compare it step by step with tf.train.adam.
 *
 * The trainer (distill/trainer.ts) builds it, so every participant's training uses it;
 * core/bench/profile-step.ts compares it with stock Adam.
 */
import * as tf from '@tensorflow/tfjs';
import { adamState } from './adam-internals.ts';
import { ADAM_UPDATE, adamUpdateConfig } from './kernels/adam-update.ts';

/** Largest variable (elements) updated by the fused kernel; see the measurements above. */
export const FUSED_ADAM_MAX_SIZE = 16384;

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
    const s = adamState(this);
    // Protected, not private, in tfjs: a subclass reads them as they are.
    const { learningRate, beta1, beta2, epsilon } = this;
    const entries: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    // beta^t as the stock optimizer holds it (float32), read synchronously: on wasm that
    // is a heap read, not a device sync.
    const oneMinusAccBeta1 = 1 - s.accBeta1.dataSync()[0]!;
    const oneMinusAccBeta2 = 1 - s.accBeta2.dataSync()[0]!;
    tf.tidy(() => {
      // As tfjs computes them, for the variables that keep its formula.
      const oneMinusAccBeta1T = tf.sub(1, s.accBeta1);
      const oneMinusAccBeta2T = tf.sub(1, s.accBeta2);
      entries.forEach(([name, gradient], i) => {
        const value = tf.engine().registeredVariables[name]!;
        // Moments are created lazily, named and ordered exactly as tfjs does it.
        s.firstMoments[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        s.secondMoments[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        if (gradient == null) return;
        const m = s.firstMoments[i]!.variable;
        const v = s.secondMoments[i]!.variable;
        if (value.size > FUSED_ADAM_MAX_SIZE || value.dtype !== 'float32') {
          // tfjs' AdamOptimizer.applyGradients, verbatim.
          const newM = tf.add(tf.mul(m, beta1), tf.mul(gradient, 1 - beta1));
          const newV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
          const mHat = tf.div(newM, oneMinusAccBeta1T);
          const vHat = tf.div(newV, oneMinusAccBeta2T);
          m.assign(newM);
          v.assign(newV);
          value.assign(tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon)), -learningRate), value));
          return;
        }
        const [newValue, newM, newV] = tf.engine().runKernel(
          ADAM_UPDATE,
          { value, m, v, grad: gradient },
          {
            learningRate,
            beta1,
            beta2,
            epsilon,
            oneMinusAccBeta1,
            oneMinusAccBeta2,
          },
        ) as tf.Tensor[];
        m.assign(newM!);
        v.assign(newV!);
        value.assign(newValue!);
      });
      s.accBeta1.assign(tf.mul(s.accBeta1, beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, beta2));
    });
    this.incrementIterations();
  }
}

/** Like tf.train.adam(), with the fused update for small variables on wasm. */
export function fusedAdam(
  learningRate = 0.001,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
