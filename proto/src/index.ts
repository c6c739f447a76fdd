/**
 * @mutua/proto: the Mutua wire protocol for application code. Import from here, never from
 * ./gen/ (generated, may change shape between protobufjs versions).
 *
 * - Messages and enums of mutua.v1 under their own names (`Error` is `ErrorMessage`, to keep
 *   the global Error usable); for each message `X` there is the class/value `X`, the decoded
 *   type `X` and the plain-object type `XInit` that encoders take.
 * - Frames: encodeEnvelope / decodeFrame (codec.ts); errors and their close codes (errors.ts);
 *   semantic validators (validate.ts); enum <-> name helpers (enums.ts).
 * - Payloads: prediction and weight codecs (prediction-codec.ts), the public-set file format
 *   (public-set.ts), the join page's demo-shard format (demo-shard.ts).
 */
import { mutua } from './gen/mutua.js';

export { mutua };

// ---------------------------------------------------------------- generated messages and enums

export const {
  Envelope,
  TaskSpec,
  PublicSetDescriptor,
  SyncSettings,
  AsyncSettings,
  FederationSettings,
  LocalMetrics,
  Hello,
  PredictionUpload,
  WeightsUpload,
  MetricsReport,
  TaskRequest,
  Leave,
  Welcome,
  Task,
  Targets,
  GlobalWeights,
  Ack,
  RoundClosed,
  Heartbeat,
  ProtocolVersion,
  ParticipantKind,
  Encoding,
  Strategy,
  Mode,
  Aggregation,
  ErrorCode,
  Compression,
} = mutua.v1;
export const ErrorMessage = mutua.v1.Error;

export type Envelope = mutua.v1.Envelope;
export type TaskSpec = mutua.v1.TaskSpec;
export type PublicSetDescriptor = mutua.v1.PublicSetDescriptor;
export type SyncSettings = mutua.v1.SyncSettings;
export type AsyncSettings = mutua.v1.AsyncSettings;
export type FederationSettings = mutua.v1.FederationSettings;
export type LocalMetrics = mutua.v1.LocalMetrics;
export type Hello = mutua.v1.Hello;
export type PredictionUpload = mutua.v1.PredictionUpload;
export type WeightsUpload = mutua.v1.WeightsUpload;
export type MetricsReport = mutua.v1.MetricsReport;
export type TaskRequest = mutua.v1.TaskRequest;
export type Leave = mutua.v1.Leave;
export type Welcome = mutua.v1.Welcome;
export type Task = mutua.v1.Task;
export type Targets = mutua.v1.Targets;
export type GlobalWeights = mutua.v1.GlobalWeights;
export type Ack = mutua.v1.Ack;
export type RoundClosed = mutua.v1.RoundClosed;
export type ErrorMessage = mutua.v1.Error;
export type Heartbeat = mutua.v1.Heartbeat;

export type ProtocolVersion = mutua.v1.ProtocolVersion;
export type ParticipantKind = mutua.v1.ParticipantKind;
export type Encoding = mutua.v1.Encoding;
export type Strategy = mutua.v1.Strategy;
export type Mode = mutua.v1.Mode;
export type Aggregation = mutua.v1.Aggregation;
export type ErrorCode = mutua.v1.ErrorCode;
export type Compression = mutua.v1.Compression;

export type TaskSpecInit = mutua.v1.TaskSpec.$Properties;
export type PublicSetDescriptorInit = mutua.v1.PublicSetDescriptor.$Properties;
export type SyncSettingsInit = mutua.v1.SyncSettings.$Properties;
export type AsyncSettingsInit = mutua.v1.AsyncSettings.$Properties;
export type FederationSettingsInit = mutua.v1.FederationSettings.$Properties;
export type LocalMetricsInit = mutua.v1.LocalMetrics.$Properties;
export type HelloInit = mutua.v1.Hello.$Properties;
export type PredictionUploadInit = mutua.v1.PredictionUpload.$Properties;
export type WeightsUploadInit = mutua.v1.WeightsUpload.$Properties;
export type MetricsReportInit = mutua.v1.MetricsReport.$Properties;
export type TaskRequestInit = mutua.v1.TaskRequest.$Properties;
export type LeaveInit = mutua.v1.Leave.$Properties;
export type WelcomeInit = mutua.v1.Welcome.$Properties;
export type TaskInit = mutua.v1.Task.$Properties;
export type TargetsInit = mutua.v1.Targets.$Properties;
export type GlobalWeightsInit = mutua.v1.GlobalWeights.$Properties;
export type AckInit = mutua.v1.Ack.$Properties;
export type RoundClosedInit = mutua.v1.RoundClosed.$Properties;
export type ErrorMessageInit = mutua.v1.Error.$Properties;
export type HeartbeatInit = mutua.v1.Heartbeat.$Properties;

// ---------------------------------------------------------------- codec, errors, validation

export * from './batch-rule.ts';
export {
  BODY_NAMES,
  type BodyName,
  COORDINATOR_BODIES,
  type DecodedEnvelope,
  type DecodedFrame,
  type DecodeFrameOptions,
  type DecodeFrameResult,
  decodeFrame,
  type EnvelopeInit,
  type EnvelopeWith,
  encodeEnvelope,
  type FrameData,
  PARTICIPANT_BODIES,
} from './codec.ts';
export * from './demo-shard.ts';
export {
  AGGREGATION_NAMES,
  type AggregationName,
  aggregationName,
  aggregationValue,
  compressionName,
  compressionValue,
  ENCODING_NAMES,
  encodingName,
  encodingValue,
  isAggregationName,
  isCompressionName,
  isEncodingName,
  isModeName,
  isStrategyName,
  MODE_NAMES,
  type ModeName,
  modeName,
  modeValue,
  negotiateEncoding,
  negotiateTargetEncoding,
  negotiateWeightEncoding,
  STRATEGY_NAMES,
  type StrategyName,
  strategyName,
  strategyValue,
  supportedWeightEncodings,
  weightEncodingName,
  weightEncodingValue,
} from './enums.ts';
export {
  ERROR_POLICY,
  type ErrorCodeName,
  type ErrorPolicy,
  errorBody,
  errorCodeName,
  errorEnvelope,
  ProtocolError,
  type ProtocolErrorOptions,
  protocolErrorFromBody,
} from './errors.ts';
export { float32BitsToFloat16Bits, fromFloat16Bits } from './float16.ts';
export * from './prediction-codec.ts';
export * from './public-set.ts';
export {
  checkCompression,
  expandTargetsIndices,
  expandTaskIndices,
  type HelloInfo,
  isPrintableText,
  MAX_TOKEN_LENGTH,
  type PredictionTaskShape,
  type TargetsExpectation,
  type TaskExpectation,
  type Validated,
  type ValidPredictions,
  type ValidTargets,
  type ValidTask,
  validateGlobalWeights,
  validateHello,
  validateMetrics,
  validatePredictionPayload,
  validatePredictionUpload,
  validateTargets,
  validateTask,
  validateWeightsUpload,
  type WeightsExpectation,
} from './validate.ts';
export { checkWire, WIRE_FAULTS, type WireCheckResult, type WireFault } from './wire-check.ts';
export {
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_MAX_STRING_BYTES,
  type FieldLimit,
  MAX_NAME_BYTES,
  WIRE_LIMITS,
} from './wire-limits.ts';
