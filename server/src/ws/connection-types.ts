/** What a participant connection is given: its admission (once admitted) and its dependencies. */
import type { BatchRule, DeltaRows, HelloInit, ProtocolError, WeightEncoding } from '@mutua/proto';
import type { FastifyBaseLogger } from 'fastify';
import type { FederationRecord } from '../db/store.ts';
import type { FederationRuntime } from '../engine/federation-runtime.ts';
import type { CompressionName, EncodingName, FederationSettings } from '../engine/settings.ts';
import type { CoordinatorMetrics } from '../metrics-registry.ts';
import type { ConnectionTicket } from './connection-caps.ts';
import type { ParticipantConnection } from './participant-connection.ts';

/** An admitted participant (coordinator/admission.ts decides; the Welcome is built from it). */
export interface Admission {
  participantId: string;
  resumeToken: string;
  resumed: boolean;
  federation: FederationRecord;
  runtime: FederationRuntime;
  settings: FederationSettings;
  uploadEncoding: EncodingName;
  downloadEncoding: EncodingName;
  /** How prediction payloads are wrapped, both ways ('none' for participants that did not offer any). */
  compression: CompressionName;
  /** fedavg: how weights travel to and from this participant (default float32). */
  weightEncoding?: WeightEncoding;
  /** The runtime's current version when it was admitted. */
  currentRound: number;
  /** Active rows it is given (the federation's, when its Hello supports them); 0 = full batches. */
  activeRows: number;
  /**
   * Delta payloads (null: always full): the federation's threshold, and the Targets rows sent to
   * this participant (continued from an earlier connection when its Hello holds the same version).
   */
  delta: { threshold: number; targets: DeltaRows } | null;
  /**
   * Derived indices (PROTOCOL.md, "Derived indices"): the batch rule by which this
   * participant rebuilds index lists left out of its Tasks and Targets; null: lists travel.
   */
  batchRule: BatchRule | null;
}

export interface ConnectionDeps {
  maxFrameBytes: number;
  maxMessagesPerSecond: number;
  heartbeatIntervalMs: number;
  /** The socket is closed when no Hello was admitted within this time (pre-auth-guard.ts). */
  helloTimeoutMs?: number;
  /** This socket's slot under the connection caps (connection-caps.ts), released at close. */
  ticket?: ConnectionTicket;
  metrics: CoordinatorMetrics;
  log: FastifyBaseLogger;
  admit(hello: HelloInit): Promise<Admission | ProtocolError>;
  /** Adds traffic to the participant's persisted counters (batched by the caller). */
  countTraffic(participantId: string, bytesIn: number, bytesOut: number): void;
  /** Registers the live connection; returns the connection it replaces, if any. */
  register(
    participantId: string,
    conn: ParticipantConnection,
    federationId: string,
  ): ParticipantConnection | undefined;
  unregister(participantId: string, conn: ParticipantConnection, federationId: string): void;
}
