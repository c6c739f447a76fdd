/**
 * Semantic checks of decoded messages, shared by the coordinator (uploads, Hello) and the
 * clients (Task, Targets, GlobalWeights). Each returns the decoded numbers or a ProtocolError;
 * none throws on anything a peer sends.
 *
 * Order of checks, so that the error names the first thing to fix: encoding, then shape,
 * then metrics, then the payload bytes (length, values).
 */

export type { Validated } from './validate/common.ts';
export {
  type HelloInfo,
  isPrintableText,
  MAX_TOKEN_LENGTH,
  validateHello,
} from './validate/hello.ts';
export { validateMetrics } from './validate/metrics.ts';
export {
  checkCompression,
  type PredictionTaskShape,
  type ValidPredictions,
  validatePredictionPayload,
  validatePredictionUpload,
} from './validate/predictions.ts';
export {
  expandTargetsIndices,
  expandTaskIndices,
  type TargetsExpectation,
  type TaskExpectation,
  type ValidTargets,
  type ValidTask,
  validateTargets,
  validateTask,
} from './validate/targets.ts';
export {
  validateGlobalWeights,
  validateWeightsUpload,
  type WeightsExpectation,
} from './validate/weights.ts';
