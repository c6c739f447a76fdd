/**
 * The mutual-distillation learning rule (ARCHITECTURE.md, "The learning rule"):
 *
 *     L = CE(y, softmax(f(x)))  +  lambda * T^2 * KL( q || softmax(f(u) / T) )
 *
 * x, y: a private labeled minibatch; u: a minibatch of the public batch; q: the consensus
 * targets for u (the leave-one-out aggregate of the peers' tempered predictions). Without
 * targets (the first rounds) the KL term is absent and L is plain cross-entropy.
 * Each function returns new tensors: call it inside tf.tidy or dispose the result.
 */
import * as tf from '@tensorflow/tfjs';
import { checkLambda, checkSameShape2d, checkTemperature } from './checks.ts';

/** log softmax(logits / T) along the last axis, computed in log space (never log(softmax)). */
export function logSoftmaxT<R extends tf.Rank>(logits: tf.Tensor<R>, temperature: number): tf.Tensor<R> {
  checkTemperature(temperature);
  return tf.tidy(() => tf.logSoftmax(temperature === 1 ? logits : tf.div<tf.Tensor<R>>(logits, temperature)));
}

/** softmax(logits / T) along the last axis: the tempered probabilities participants share. */
export function softmaxT<R extends tf.Rank>(logits: tf.Tensor<R>, temperature: number): tf.Tensor<R> {
  checkTemperature(temperature);
  return tf.tidy(() => tf.softmax(temperature === 1 ? logits : tf.div<tf.Tensor<R>>(logits, temperature)));
}

/**
 * T^2 · mean over the batch of KL(q || p_T), p_T = softmax(studentLogits / T):
 *
 *     T^2 / B · Σ_b Σ_c q_bc · (log q_bc − logSoftmax(z_b / T)_c)
 *
 * Terms with q = 0 contribute exactly 0 (0·log 0 = 0), so sparse targets (top-k) give a
 * finite loss and gradient. Targets are constants: no gradient flows into them. With
 * rows of q summing to 1 the gradient w.r.t. the logits is T·(p_T − q)/B, whose scale
 * does not depend on T (Hinton et al.).
 *
 * @param studentLogits [B, C] raw logits of the model being trained.
 * @param targetProbs [B, C] target probabilities (rows should sum to 1).
 */
export function mutualKlLoss(
  studentLogits: tf.Tensor,
  targetProbs: tf.Tensor,
  temperature: number,
): tf.Scalar {
  checkTemperature(temperature);
  checkSameShape2d('mutualKlLoss', studentLogits, targetProbs, 'targetProbs');
  return tf.tidy(() => {
    const q = targetProbs.toFloat();
    const logP = logSoftmaxT(studentLogits, temperature);
    const positive = tf.greater(q, 0);
    // log(1) = 0 where q = 0, so neither branch of the `where` produces a NaN or an
    // infinite gradient; the `where` also drops 0 · (−∞) if a logit is ±∞.
    const logQ = tf.log(tf.where(positive, q, tf.onesLike(q)));
    const terms = tf.where(positive, tf.mul(q, tf.sub(logQ, logP)), tf.zerosLike(q));
    return tf.mul(tf.mean(tf.sum(terms, -1)), temperature * temperature) as tf.Scalar;
  });
}

/**
 * Mean cross-entropy CE(y, softmax(logits)) over the batch.
 * @param logits [B, C] raw logits.
 * @param labels [B] class indices (int32; other dtypes are cast).
 */
export function crossEntropyLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  if (logits.rank !== 2)
    throw new RangeError(`crossEntropyLoss: logits must be [batch, classes], got [${logits.shape}]`);
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new RangeError(
      `crossEntropyLoss: labels must be [${logits.shape[0]}] class indices, got [${labels.shape}]`,
    );
  }
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels.dtype === 'int32' ? labels : labels.toInt(), logits.shape[1]!);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  });
}

export interface DistillSettings {
  /** Softmax temperature T > 0, a federation setting. */
  temperature: number;
  /** Weight λ >= 0 of the distillation term, a federation setting. */
  lambda: number;
}

export interface LossParts {
  /** ce + λ·kl, or ce alone when there are no targets. */
  loss: tf.Scalar;
  ce: tf.Scalar;
  /** mutualKlLoss (already scaled by T²), or null when there are no targets. */
  kl: tf.Scalar | null;
}

/**
 * The participant's loss L = CE + λ·T²·KL. Pass `distill` = null/undefined when there
 * is no consensus yet: the KL term is then absent (not zero-weighted) and `loss` is `ce`.
 * The returned tensors are new; dispose them (or call inside tf.tidy). `loss` may be
 * the same tensor as `ce`.
 */
export function combinedLoss(
  privateBatch: { logits: tf.Tensor; labels: tf.Tensor },
  distill: { logits: tf.Tensor; targets: tf.Tensor } | null | undefined,
  settings?: DistillSettings,
): LossParts {
  const ce = crossEntropyLoss(privateBatch.logits, privateBatch.labels);
  if (!distill) return { loss: ce, ce, kl: null };
  if (!settings) {
    ce.dispose();
    throw new TypeError('combinedLoss: { temperature, lambda } are required with distillation targets');
  }
  try {
    checkLambda(settings.lambda);
  } catch (err) {
    ce.dispose();
    throw err;
  }
  let kl: tf.Scalar;
  try {
    kl = mutualKlLoss(distill.logits, distill.targets, settings.temperature);
  } catch (err) {
    ce.dispose();
    throw err;
  }
  const loss = tf.tidy(() => tf.add(ce, tf.mul(kl, settings.lambda)) as tf.Scalar);
  return { loss, ce, kl };
}
