/**
 * @mutua/core/session: the participant side of a federation, shared by the Node CLI and the
 * browser worker. ParticipantSession speaks the protocol over an abstract Transport and
 * drives a Learner; createTfLearner is the TensorFlow.js learner.
 */

// What a client may offer in Hello (its command line or UI chooses among them).
export {
  COMPRESSION_NAMES,
  type CompressionName,
  PREDICTION_ENCODINGS,
  type PredictionEncoding,
} from '@mutua/proto';
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
export { type Listener, TypedEmitter } from './emitter.ts';
export type {
  Learner,
  LearnerContext,
  LearnerFactory,
  LearnerMetrics,
  LearnerTargets,
  TrainArgs,
  TrainProgress,
} from './learner.ts';
export {
  type AckInfo,
  type ClosedEvent,
  defaultStorageKey,
  type FetchPublicSet,
  type ModelDescriptor,
  ParticipantSession,
  type ParticipantSessionOptions,
  type ProgressEvent,
  type ReconnectingEvent,
  type ReconnectOptions,
  type RoundClosedEvent,
  resolvePublicSetUrl,
  type SessionEvents,
  type SessionState,
  type StateEvent,
  type TaskEvent,
  type TokenStorage,
  type UploadedEvent,
} from './participant-session.ts';
export {
  type LocalErrorCode,
  SessionError,
  type SessionErrorCode,
  type SessionErrorOptions,
} from './session-error.ts';
export {
  createTfLearner,
  type GlobalEvaluation,
  modelSignature,
  type TfLearner,
  type TfLearnerOptions,
  type TfLearnerSettings,
} from './tf-learner.ts';
export {
  ABNORMAL_CLOSURE,
  type CloseHandler,
  type Connection,
  createConnectionPair,
  createMemoryTransport,
  type MemoryConnection,
  type MessageHandler,
  type Transport,
} from './transport.ts';
export {
  createWebSocketTransport,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketTransportOptions,
} from './websocket-transport.ts';
export { type FederationInfo, type PublicSetInfo, parseWelcome, type SessionWelcome } from './welcome.ts';
