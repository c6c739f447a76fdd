/**
 * The ParticipantSession's public surface: its options and the events it emits. Kept apart
 * from the orchestrator so that the units it delegates to can name these types without
 * importing the session itself. participant-session.ts re-exports all of them.
 */
import type { CompressionName, ModeName, PredictionEncoding } from '@mutua/proto';
import type { BackoffOptions } from './backoff.ts';
import type { Learner, LearnerFactory, LearnerMetrics, TrainProgress } from './learner.ts';
import type { SessionError } from './session-error.ts';
import type { Transport } from './transport.ts';
import type { PublicSetInfo, SessionWelcome } from './welcome.ts';

export type SessionState =
  | 'disconnected'
  | 'connecting'
  | 'awaiting-welcome'
  | 'ready'
  | 'training'
  | 'uploading'
  | 'closing'
  | 'closed';

/** Where resume tokens are kept between runs (a file, localStorage, IndexedDB). */
export interface TokenStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/**
 * Fetches the public-set file. `url` is absolute (resolved against the session URL, ws -> http),
 * `sha256` the lowercase hex digest the bytes must have: implementations cache by it and
 * verify it, rejecting on a mismatch.
 */
export type FetchPublicSet = (url: string, sha256: string, info: PublicSetInfo) => Promise<Uint8Array>;

/** What Hello says about the participant's model. */
export interface ModelDescriptor {
  arch: string;
  inputShape: readonly number[];
  numClasses: number;
  /** fedavg: hash of the parameter shapes (tf-learner.ts `modelSignature`). */
  signature?: string;
}

export interface ReconnectOptions extends Partial<BackoffOptions> {
  /** Reconnect attempts in a row before the session gives up; default Infinity. */
  maxAttempts?: number;
}

export interface ParticipantSessionOptions {
  /** The coordinator's WebSocket endpoint, e.g. wss://host/v1/ws. */
  url: string;
  transport: Transport;
  joinToken?: string;
  /** Resume as this participant (takes precedence over a stored token). */
  resumeToken?: string;
  /** Keeps resume tokens across runs; default: in memory only. */
  storage?: TokenStorage;
  /** Storage key; default derived from url and join token (a hash, never the raw token). */
  storageKey?: string;
  name?: string;
  kind?: 'node' | 'browser' | 'other';
  clientVersion?: string;
  model: ModelDescriptor;
  /** The learner, or a factory called once the federation settings and public set are known. */
  learner: Learner | LearnerFactory;
  /** Required by federations with a public set (mutual distillation). */
  fetchPublicSet?: FetchPublicSet;
  /** Prediction encodings this client offers; default every one this build knows (PREDICTION_ENCODINGS). */
  encodings?: readonly PredictionEncoding[];
  /**
   * Payload compressions this client offers besides none; default ['deflate-raw'] where the
   * Compression Streams API exists (browsers, Node >= 18), else none. [] offers none.
   */
  compressions?: readonly CompressionName[];
  /** Offer delta payloads (PROTOCOL.md, "Delta payloads"); default true. */
  delta?: boolean;
  /**
   * Offer derived indices (PROTOCOL.md, "Derived indices": batches rebuilt from their
   * version instead of received as index lists); default true.
   */
  derivedIndices?: boolean;
  /** Local epochs per task; default the Task's, else the federation's, else 1. */
  localEpochs?: number;
  reconnect?: ReconnectOptions;
  /** Close and reconnect when no Welcome arrives within this time; default 30 s. */
  welcomeTimeoutMs?: number;
  /** How long stop() waits for an Ack already due; default 5 s. */
  stopTimeoutMs?: number;
  /**
   * Send Heartbeat messages every Welcome.heartbeat_interval_ms and reconnect after three
   * silent intervals; default true. (Browsers cannot see WebSocket pings, so this is how a
   * half-open connection is noticed.)
   */
  heartbeat?: boolean;
  /** Largest frame accepted from the coordinator; default 256 MiB. */
  maxIncomingFrameBytes?: number;
  /** Random source for the backoff jitter (tests pass a constant). */
  random?: () => number;
}

export interface StateEvent {
  from: SessionState;
  to: SessionState;
}

export interface TaskEvent {
  round: number;
  mode: ModeName;
  /** Public samples to predict (0 for fedavg). */
  predictCount: number;
  /** Version of the targets this training distills toward; null without a consensus. */
  targetsVersion: number | null;
  localEpochs: number;
  /** Sync rounds: when the round closes (0 = no deadline). */
  deadlineUnixMs: number;
}

export interface ProgressEvent extends TrainProgress {
  round: number;
}

export interface AckInfo {
  round: number;
  duplicate: boolean;
  staleness: number;
  weight: number;
}

export interface UploadedEvent {
  round: number;
  ack: AckInfo;
  /** Size of the upload frame. */
  frameBytes: number;
  /** Prediction rows the upload carried: fewer than the task's with delta payloads; undefined for weights. */
  rowsSent?: number;
  /** Totals over the session (every frame, all connections). */
  bytesUp: number;
  bytesDown: number;
  metrics: LearnerMetrics & { trainMs: number };
}

export interface RoundClosedEvent {
  round: number;
  submissions: number;
  reason: string;
}

export interface ReconnectingEvent {
  /** 1-based attempt since the last Welcome. */
  attempt: number;
  delayMs: number;
  /** Why the previous connection ended or failed. */
  error: SessionError;
}

export interface ClosedEvent {
  /** The fatal error that ended the session; absent after stop(). */
  error?: SessionError;
}

export interface SessionEvents {
  state: StateEvent;
  welcome: SessionWelcome;
  task: TaskEvent;
  progress: ProgressEvent;
  uploaded: UploadedEvent;
  error: SessionError;
  'round-closed': RoundClosedEvent;
  reconnecting: ReconnectingEvent;
  closed: ClosedEvent;
}
