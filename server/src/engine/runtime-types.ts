/**
 * The federation runtime's public vocabulary: what it hands the WebSocket layer (TaskView,
 * AckView), what it takes from it (SessionPort, Submission), its errors and events, and
 * the per-version and per-session state the round policies read.
 */

import type { RuntimeStore, StoredSubmission } from '../db/store.ts';
import type { ClusterPort } from './cluster-port.ts';
import type { EncodingName, FederationSettings } from './settings.ts';
import type { Contribution } from './strategy.ts';
import type { TestHold } from './test-hold.ts';

/** One Task as the runtime hands it out; immutable (see task-view-cache.ts for sharing). */
export interface TaskView {
  readonly round: number;
  readonly mode: 'sync' | 'async';
  readonly predictIndices: Uint32Array;
  readonly targets: TargetsView | null;
  readonly globalWeights: GlobalWeightsView | null;
  readonly deadlineUnixMs: number;
  readonly localEpochs: number;
}

export interface TargetsView {
  readonly version: number;
  readonly indices: Uint32Array;
  readonly probs: Float32Array;
  readonly contributors: number;
  /**
   * The versions whose batches `indices` merge, newest first (PROTOCOL.md, "Derived
   * indices"); absent when they are not whole batches (active rows).
   */
  readonly versions?: readonly number[];
}

export interface GlobalWeightsView {
  readonly round: number;
  readonly params: Float32Array;
  readonly signature: string;
}

/** The runtime's view of a connected participant; implemented by the WebSocket layer. */
export interface SessionPort {
  readonly participantId: string;
  /** It is given only a batch's first `activeRows` rows (settings.activeRows, negotiated); 0 or absent: full batches. */
  readonly activeRows?: number;
  sendTask(task: TaskView): void;
  sendRoundClosed(info: { round: number; submissions: number; reason: string }): void;
}

export type RuntimeErrorCode =
  | 'STALE_ROUND'
  | 'TOO_STALE'
  | 'UNKNOWN_ROUND'
  | 'WRONG_STRATEGY'
  | 'FEDERATION_PAUSED'
  | 'BAD_SHAPE';

export class RuntimeError extends Error {
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Submission {
  version: number;
  probs?: Float32Array;
  params?: Float32Array;
  numSamples?: number;
  /** fedavg: the model signature the weights belong to. */
  signature?: string;
  encoding: EncodingName;
  payload: Uint8Array;
  rows: number;
  classes: number;
  k: number;
  bytes: number;
  metrics: Record<string, number>;
}

export interface AckView {
  round: number;
  duplicate: boolean;
  staleness: number;
  weight: number;
}

/** A round (sync) or consensus version (async): its batch and what was contributed to it. */
export interface VersionState {
  version: number;
  indices: Uint32Array;
  openedAt: number;
  /** Accepts submissions (sync: until its consensus is published; async: until too stale). */
  open: boolean;
  /** Received contributions since the last publish (async: these versions feed the next consensus). */
  dirty: boolean;
  contributions: Map<string, Contribution>;
}

export interface SessionState {
  port: SessionPort;
  lastTaskVersion: number;
  /**
   * Async: it holds a task it has not answered yet. A participant busy training is not
   * sent every newer version meanwhile (thousands of Tasks with targets per version, most
   * of them superseded unread); it gets the newest one when it submits, asks, or its
   * upload is rejected.
   */
  busy: boolean;
  /**
   * Versions it has an upload in flight for (from submit() until its Ack or rejection). It
   * is never offered one of these: the offer would mark it busy with work it has already
   * done, and the next publish would skip it (a reconnect offers the current task, and the
   * client re-sends its upload and asks for work at once).
   */
  uploading: Set<number>;
  lastTargetsVersion: number;
  lastWeightsVersion: number;
}

export interface RuntimeOptions {
  federationId: string;
  settings: FederationSettings;
  publicSetSize: number;
  store: RuntimeStore;
  /** Decodes a stored payload on recovery (the codec lives in the protocol layer). */
  decodeStored: (s: StoredSubmission) => { probs?: Float32Array; params?: Float32Array };
  now?: () => number;
  onEvent?: (event: RuntimeEvent) => void;
  /** The federation starts paused (recovery then re-evaluates nothing until it is resumed). */
  paused?: boolean;
  /** TEST-ONLY (see test-hold.ts): stops the runtime inside a named crash window. */
  testHold?: TestHold;
  /** Set when this coordinator is one replica of a cluster (cluster-port.ts). */
  cluster?: ClusterPort;
}

export type RuntimeEvent =
  | { type: 'round-opened'; federationId: string; version: number }
  | {
      type: 'round-closed';
      federationId: string;
      version: number;
      submissions: number;
      reason: string;
      aggregationMs: number;
    }
  | { type: 'submission'; federationId: string; participantId: string; version: number; staleness: number }
  /** Fewer than minParticipants are connected: no round or version opens until more join. */
  | { type: 'waiting'; federationId: string; online: number; minParticipants: number };
