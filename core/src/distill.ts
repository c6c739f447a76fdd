/**
 * The mutual-distillation learning rule and the local training loop around it, pure
 * @tensorflow/tfjs (any backend, Node or browser). One job per file under distill/:
 * loss.ts (the maths), trainer.ts (steps and epochs), digest.ts (the distillation-only pass), inference.ts (public predictions,
 * evaluation), checks.ts (argument checks), rows.ts (gathers, shuffles, yields).
 *
 * Everything disposes what it creates: the maths functions return one new tensor (call
 * them inside tf.tidy or dispose the result), the loops return plain numbers and typed arrays.
 */
export { type DigestOptions, type DigestResult, digestEpoch } from './distill/digest.ts';
export { type EvaluateOptions, type Evaluation, evaluate, predictPublic } from './distill/inference.ts';
export {
  combinedLoss,
  crossEntropyLoss,
  type DistillSettings,
  type LossParts,
  logSoftmaxT,
  mutualKlLoss,
  softmaxT,
} from './distill/loss.ts';
export {
  type BatchProgress,
  type EpochOptions,
  type EpochResult,
  type PrivateBatch,
  type PublicBatch,
  type StepResult,
  Trainer,
  type TrainerOptions,
} from './distill/trainer.ts';
