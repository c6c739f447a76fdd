/**
 * Magnitude pruning during training, as TensorFlow Model Optimization's `prune_low_magnitude`
 * with a `PolynomialDecay` schedule:
 *
 *     s(t) = s_f + (s_i − s_f) · (1 − (t − t_b)/(t_e − t_b))^p     for t_b <= t <= t_e
 *
 * (p = 3 by default), so the kept fraction 1 − s(t) decays from 1 − s_i to 1 − s_f, fast at
 * first and slowly near the end. Every `frequency` steps inside [t_b, t_e] the mask of each
 * pruned weight is recomputed: the s(t)·n smallest-magnitude entries are zeroed. After
 * EVERY optimizer step the masks are re-applied (w ← w ⊙ m), so a pruned weight stays zero
 * however Adam moves it; after t_e the masks are frozen and training (with the mutual KL
 * term) recovers what pruning cost.
 *
 * Pruned: the kernels (dense, conv, depthwise and pointwise), never biases, which are few
 * and which TFMOT leaves dense too.
 */
import * as tf from '@tensorflow/tfjs';

export interface PruneSchedule {
  /** Sparsity at beginStep, in [0, 1). TFMOT's default is 0. */
  initialSparsity: number;
  /** Target sparsity at endStep, in [0, 1). */
  finalSparsity: number;
  /** First step (0-based count of optimizer steps taken) at which masks are updated. */
  beginStep: number;
  /** Step at which the target sparsity is reached; masks are frozen afterwards. */
  endStep: number;
  /** Exponent of the decay; default 3 (TFMOT's). */
  power?: number;
  /** Steps between mask updates inside [beginStep, endStep]; default 100 (TFMOT's). */
  frequency?: number;
}

export class PruneError extends Error {
  override readonly name = 'PruneError';
  readonly code = 'ERR_PRUNE_BAD_SCHEDULE';
}

export function checkSchedule(s: PruneSchedule): Required<PruneSchedule> {
  const fraction = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v >= 0 && v < 1)) {
      throw new PruneError(`${name} must be a number in [0, 1), got ${String(v)}`);
    }
  };
  fraction('initialSparsity', s.initialSparsity);
  fraction('finalSparsity', s.finalSparsity);
  if (s.initialSparsity > s.finalSparsity) {
    throw new PruneError(
      `initialSparsity (${s.initialSparsity}) must not exceed finalSparsity (${s.finalSparsity})`,
    );
  }
  if (!Number.isInteger(s.beginStep) || s.beginStep < 0) {
    throw new PruneError(`beginStep must be an integer >= 0, got ${String(s.beginStep)}`);
  }
  if (!Number.isInteger(s.endStep) || s.endStep <= s.beginStep) {
    throw new PruneError(`endStep must be an integer > beginStep (${s.beginStep}), got ${String(s.endStep)}`);
  }
  const power = s.power ?? 3;
  const frequency = s.frequency ?? 100;
  if (!(Number.isFinite(power) && power > 0)) throw new PruneError(`power must be > 0, got ${power}`);
  if (!Number.isInteger(frequency) || frequency < 1) {
    throw new PruneError(`frequency must be an integer >= 1, got ${frequency}`);
  }
  return { ...s, power, frequency };
}

/** The target sparsity at `step` (clamped to the schedule's ends). */
export function sparsityAt(schedule: PruneSchedule, step: number): number {
  const s = checkSchedule(schedule);
  const t = Math.min(Math.max(step, s.beginStep), s.endStep);
  const progress = (t - s.beginStep) / (s.endStep - s.beginStep);
  return s.finalSparsity + (s.initialSparsity - s.finalSparsity) * (1 - progress) ** s.power;
}

/**
 * Whether TFMOT would update the masks at `step`: inside [beginStep, endStep], every
 * `frequency` steps from beginStep, and always at endStep so the target is reached.
 */
export function isMaskUpdateStep(schedule: PruneSchedule, step: number): boolean {
  const s = checkSchedule(schedule);
  if (step < s.beginStep || step > s.endStep) return false;
  return step === s.endStep || (step - s.beginStep) % s.frequency === 0;
}

/**
 * A 0/1 mask keeping the largest-magnitude entries: exactly round(sparsity·n) zeros
 * (ties broken by position, so the count is exact even when many weights are equal).
 */
export function magnitudeMask(values: Float32Array, sparsity: number): Float32Array {
  const n = values.length;
  const zeros = Math.min(n, Math.round(sparsity * n));
  const mask = new Float32Array(n).fill(1);
  if (zeros === 0) return mask;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const mags = new Float32Array(n);
  for (let i = 0; i < n; i++) mags[i] = Math.abs(values[i]!);
  order.sort((a, b) => mags[a]! - mags[b]! || a - b);
  for (let k = 0; k < zeros; k++) mask[order[k]!] = 0;
  return mask;
}

/** Whether a layer weight is a kernel that pruning applies to (biases are left dense). */
export function isPrunable(weight: tf.LayerVariable): boolean {
  return weight.trainable && weight.shape.length >= 2;
}

/**
 * Prunes a model's kernels on a schedule. Call `afterStep()` once after every optimizer
 * step (Trainer's `afterStep` option does): it advances the step count, updates the masks
 * when the schedule says so, and re-applies them. dispose() releases the masks.
 */
export class MagnitudePruner {
  readonly schedule: Required<PruneSchedule>;
  private readonly weights: tf.LayerVariable[];
  private masks: (tf.Tensor | null)[];
  private steps = 0;
  /** The sparsity the masks currently enforce (0 before the first update). */
  currentSparsity = 0;

  constructor(model: tf.LayersModel, schedule: PruneSchedule) {
    this.schedule = checkSchedule(schedule);
    this.weights = model.trainableWeights.filter(isPrunable);
    this.masks = this.weights.map(() => null);
  }

  /** Optimizer steps seen so far. */
  get step(): number {
    return this.steps;
  }

  afterStep(): void {
    const step = this.steps++;
    if (isMaskUpdateStep(this.schedule, step)) this.updateMasks(sparsityAt(this.schedule, step));
    this.applyMasks();
  }

  /** Recomputes every mask at `sparsity` from the weights' current magnitudes. */
  updateMasks(sparsity: number): void {
    this.weights.forEach((w, i) => {
      const values = w.read().dataSync() as Float32Array;
      this.masks[i]?.dispose();
      this.masks[i] = tf.keep(tf.tensor(magnitudeMask(values, sparsity), w.shape as number[]));
    });
    this.currentSparsity = sparsity;
  }

  /** w ← w ⊙ m for every weight with a mask. */
  applyMasks(): void {
    tf.tidy(() => {
      this.weights.forEach((w, i) => {
        const m = this.masks[i];
        if (m) w.write(tf.mul(w.read(), m));
      });
    });
  }

  /** Fraction of zeros over the pruned kernels (what the masks achieve, measured). */
  measuredSparsity(): number {
    let zeros = 0;
    let total = 0;
    for (const w of this.weights) {
      const v = w.read().dataSync();
      total += v.length;
      for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
    }
    return total === 0 ? 0 : zeros / total;
  }

  dispose(): void {
    for (const m of this.masks) m?.dispose();
    this.masks = this.weights.map(() => null);
  }
}
