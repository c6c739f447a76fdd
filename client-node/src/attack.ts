/**
 * --attack: a participant that poisons what it uploads, for reproducing attacks on the
 * aggregation (issue 10, item 13) with the real client and coordinator. It trains and
 * reports metrics as an honest participant would; only the predictions it uploads change:
 *
 * - wrong: all mass on (argmax + 1) mod C of its honest prediction, row by row: confident
 *   and consistently wrong labels, the attack that hurts a plain mean most.
 * - noise: for every row a random distribution, softmax of Gaussian logits with standard
 *   deviation NOISE_LOGIT_STD (mostly confident, on a random class, unrelated to the input).
 * - copy: free-riding: the targets the coordinator last sent back, for the rows it has them;
 *   its own predictions for the others (the first rounds, new samples).
 *
 * The transforms are pure functions of their inputs (noise: of a seeded generator) so their
 * tests pin them down; withAttack wraps a Learner so the session uploads what they return.
 */
import { Rng } from '@mutua/core/data';
import type { Learner, LearnerMetrics, LearnerTargets, TrainArgs } from '@mutua/core/session';

export const ATTACKS = ['wrong', 'noise', 'copy'] as const;
export type AttackName = (typeof ATTACKS)[number];
export const isAttackName = (s: string): s is AttackName => (ATTACKS as readonly string[]).includes(s);

/** With 10 classes, the largest probability is above 0.5 in about 90% of rows. */
export const NOISE_LOGIT_STD = 4;

function checkShape(probs: Float32Array, numClasses: number): number {
  if (!Number.isInteger(numClasses) || numClasses < 2)
    throw new RangeError(`numClasses must be ≥ 2, got ${numClasses}`);
  if (probs.length % numClasses !== 0) {
    throw new RangeError(`${probs.length} probabilities are not rows of ${numClasses} classes`);
  }
  return probs.length / numClasses;
}

/** wrong: each row one-hot on (argmax + 1) mod C (the first maximum on ties). */
export function wrongLabels(probs: Float32Array, numClasses: number): Float32Array {
  const rows = checkShape(probs, numClasses);
  const out = new Float32Array(probs.length);
  for (let r = 0; r < rows; r++) {
    const base = r * numClasses;
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probs[base + c]! > probs[base + best]!) best = c;
    out[base + ((best + 1) % numClasses)] = 1;
  }
  return out;
}

/** noise: `rows` random distributions over `numClasses`, softmax of N(0, NOISE_LOGIT_STD²) logits. */
export function noisePredictions(rows: number, numClasses: number, rng: Rng): Float32Array {
  const out = new Float32Array(rows * numClasses);
  const logits = new Float64Array(numClasses);
  for (let r = 0; r < rows; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < numClasses; c++) {
      logits[c] = rng.normal(0, NOISE_LOGIT_STD);
      if (logits[c]! > max) max = logits[c]!;
    }
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      logits[c] = Math.exp(logits[c]! - max);
      sum += logits[c]!;
    }
    for (let c = 0; c < numClasses; c++) out[r * numClasses + c] = logits[c]! / sum;
  }
  return out;
}

/**
 * copy: for each of `indices` (public-set samples, one per row of `probs`) the row of
 * `targets` for the same sample when it has one, else the participant's own row.
 */
export function copyTargets(
  probs: Float32Array,
  indices: Uint32Array,
  targets: LearnerTargets | undefined,
  numClasses: number,
): Float32Array {
  const rows = checkShape(probs, numClasses);
  if (rows !== indices.length)
    throw new RangeError(`${rows} rows of predictions for ${indices.length} indices`);
  const out = Float32Array.from(probs);
  if (!targets) return out;
  const rowOf = new Map<number, number>();
  for (const [row, sample] of targets.indices.entries()) rowOf.set(sample, row);
  for (let r = 0; r < rows; r++) {
    const t = rowOf.get(indices[r]!);
    if (t === undefined) continue;
    out.set(targets.probs.subarray(t * numClasses, (t + 1) * numClasses), r * numClasses);
  }
  return out;
}

/**
 * The learner with its uploads replaced by the attack's. The targets the session hands to
 * train() are kept for 'copy'; `seed` makes 'noise' reproducible (undefined: random).
 */
export function withAttack<L extends Learner>(
  learner: L,
  attack: AttackName,
  numClasses: number,
  seed?: number,
): L {
  const rng = new Rng(seed ?? Math.floor(Math.random() * 2 ** 32));
  let targets: LearnerTargets | undefined;
  const train = learner.train.bind(learner);
  const predict = learner.predict.bind(learner);
  return {
    ...learner,
    train(args: TrainArgs): Promise<LearnerMetrics> {
      targets = args.targets ?? targets;
      return train(args);
    },
    async predict(indices: Uint32Array, temperature: number): Promise<Float32Array> {
      const honest = await predict(indices, temperature);
      switch (attack) {
        case 'wrong':
          return wrongLabels(honest, numClasses);
        case 'noise':
          return noisePredictions(indices.length, numClasses, rng);
        case 'copy':
          return copyTargets(honest, indices, targets, numClasses);
      }
    },
  };
}
