/**
 * Compression by mutual distillation: local mutual learning of a cohort (compress/cohort.ts),
 * magnitude pruning on a polynomial-decay schedule (compress/prune.ts), and quantized
 * TF.js layers-format export (compress/quantize.ts, compress/export.ts).
 */
export {
  type CohortEpochOptions,
  type CohortEpochResult,
  type CohortMode,
  leaveOneOutMeans,
  teacherTargets,
  trainCohortEpoch,
} from './compress/cohort.ts';
export { kernelSparsity, quantizedArtifacts, readWeights } from './compress/export.ts';
export {
  checkSchedule,
  isMaskUpdateStep,
  isPrunable,
  MagnitudePruner,
  magnitudeMask,
  PruneError,
  type PruneSchedule,
  sparsityAt,
} from './compress/prune.ts';
export {
  encodeQuantizedWeights,
  type NamedWeight,
  quantizationTolerance,
  quantizeFloat16,
  quantizeUint8,
  uint8Range,
  WEIGHT_ENCODINGS,
  type WeightEncoding,
  type WeightSpec,
} from './compress/quantize.ts';
