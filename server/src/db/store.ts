/**
 * THE persistence interface of the coordinator (issue 11, item 6). Everything outside
 * `db/` reaches the database through a `Db` (openDatabase(), `app.db`):
 *
 * - `db.live`: what the live side needs — admission (Hello → participant), the traffic
 *   meter, and the federation runtimes (rounds, accepted submissions, consensus,
 *   recovery, payload retention). The engine sees only the `RuntimeStore` slice of it,
 *   so its unit tests run over an in-memory store (engine/memory-store.ts).
 * - `db.federations`, `db.participants`, …: one repository per aggregate, for the
 *   services behind the admin REST API.
 *
 * One implementation serves SQLite and PostgreSQL: both Prisma clients come from the same
 * models (prisma/models.prisma); the provider is chosen once, in open-database.ts, by the
 * driver adapter. Raw SQL (the hot paths) goes through the same client and adapter.
 */
import type { EncodingName, FederationSettings } from '../engine/settings.ts';
import type { Consensus } from '../engine/strategy.ts';
import type { ConsensusRepository } from './consensus-repository.ts';
import type { DbProvider } from './context.ts';
import type { FederationsRepository } from './federations-repository.ts';
import type { JoinTokensRepository } from './join-tokens-repository.ts';
import type { MetricsRepository } from './metrics-repository.ts';
import type { MigrationResult } from './migrate.ts';
import type { ParticipantsRepository } from './participants-repository.ts';
import type { PublicSetsRepository } from './public-sets-repository.ts';
import type { RoundsRepository } from './rounds-repository.ts';
import type { SubmissionsRepository, UploadHistoryRow } from './submissions-repository.ts';

export interface FederationRecord {
  id: string;
  name: string;
  status: 'active' | 'paused' | 'deleted';
  settings: FederationSettings;
  publicSet: { id: string; sha256: string; sampleCount: number; shape: number[]; byteLength: number };
}

export interface ParticipantRecord {
  id: string;
  federationId: string;
  joinTokenId: string | null;
  name: string;
  revoked: boolean;
}

export interface StoredSubmission {
  participantId: string;
  version: number;
  staleness: number;
  weight: number;
  encoding: EncodingName;
  /** Exactly the payload bytes the participant sent (decoded again on recovery). */
  payload: Uint8Array;
  rows: number;
  classes: number;
  k: number;
  /** fedavg */
  numSamples: number;
  bytes: number;
  metrics: Record<string, number>;
  receivedAt: Date;
  /** The consensus version that first aggregated it (null: none yet; absent when new). */
  consensusVersion?: number | null;
}

export interface StoredRound {
  version: number;
  indices: Uint32Array;
  status: 'open' | 'closed';
  openedAt: Date;
}

export interface RecoveredState {
  currentVersion: number;
  rounds: StoredRound[];
  /** Submissions for the versions still needed: open ones and those behind the latest consensus. */
  submissions: StoredSubmission[];
  latestConsensus: { version: number; sourceVersions: number[] } | null;
}

export interface ConsensusRecord {
  version: number;
  sourceVersions: number[];
  consensus: Consensus;
  createdAt: Date;
  /** The contributions it aggregated: marked with its version as it is saved. */
  included: { participantId: string; version: number }[];
}

export interface JoinTokenRecord {
  id: string;
  federationId: string;
  revoked: boolean;
  maxUses: number | null;
}

export interface NewParticipant {
  federationId: string;
  joinTokenId: string;
  name: string;
  kind: string;
  modelArch: string;
  resumeTokenHash: string;
}

/**
 * The lookups and writes of admission, for many Hellos at once (coordinator/admission-batcher.ts):
 * a reconnect storm costs a few statements per batch instead of a few per Hello.
 */
export interface AdmissionDb {
  /** Participants by resume-token hash; unknown hashes are absent from the map. */
  findParticipantsByResumeHashes(hashes: readonly string[]): Promise<Map<string, ParticipantRecord>>;
  /** Join tokens by hash; unknown hashes are absent from the map. */
  findJoinTokens(hashes: readonly string[]): Promise<Map<string, JoinTokenRecord>>;
  /**
   * Registers joins of ONE federation in order, each refused when the federation already
   * holds `limit` participants or its token was used `tokenMaxUses` times (one transaction).
   */
  createParticipants(
    joins: readonly NewParticipant[],
    limit: number,
    tokenMaxUses: ReadonlyMap<string, number | null>,
  ): Promise<(ParticipantRecord | 'full' | 'used-up')[]>;
  touchParticipants(ids: readonly string[], at: Date): Promise<void>;
}

/**
 * What the live coordinator needs. Every method that records an accepted contribution
 * resolves only once it is durable, because the participant is acknowledged right after.
 */
export interface LiveStore extends AdmissionDb {
  // ------------------------------------------------------------------ admission
  getFederation(id: string): Promise<FederationRecord | null>;
  /** Traffic counters (and last seen) of many participants at once, one statement per chunk. */
  addTrafficMany(entries: readonly { id: string; bytesIn: number; bytesOut: number }[]): Promise<void>;

  // ------------------------------------------------------------------ runtime
  openRound(federationId: string, round: StoredRound): Promise<void>;
  closeRound(
    federationId: string,
    version: number,
    info: { closedAt: Date; submissions: number; aggregationMs: number; reason: string },
  ): Promise<void>;
  /** Returns duplicate=true (and stores nothing) when (participant, version) exists. */
  saveSubmission(federationId: string, s: StoredSubmission): Promise<{ duplicate: boolean }>;
  /** Stores the consensus (the store owns its serialized form) with the versions it covers. */
  saveConsensus(federationId: string, c: ConsensusRecord): Promise<void>;
  saveMetrics(
    federationId: string,
    participantId: string,
    version: number,
    metrics: Record<string, number>,
  ): Promise<void>;
  /** Rounds >= versionsFrom and those the latest consensus covers, with their submissions' payloads. */
  loadState(federationId: string, versionsFrom: number): Promise<RecoveredState>;
  /**
   * Participants (not removed) the coordinator exchanged messages with at or after
   * `since` (last seen is written with the batched traffic counters, about once a second).
   */
  participantsSeenSince(federationId: string, since: Date): Promise<string[]>;
  /**
   * Retention: drops the payload bytes of submissions to versions < beforeVersion that the
   * latest consensus does not cover (their metadata stays, for the rounds API). Stored
   * consensus versions are kept (the global student reads the newest ones). Returns the
   * submission payloads dropped.
   */
  prunePayloads(federationId: string, beforeVersion: number): Promise<number>;
  /** A participant's newest `limit` prediction uploads, newest first (payload null once pruned). */
  uploadHistory(federationId: string, participantId: string, limit: number): Promise<UploadHistoryRow[]>;
}

/** The slice of the live store a federation runtime (engine/) uses. */
export type RuntimeStore = Pick<
  LiveStore,
  | 'openRound'
  | 'closeRound'
  | 'saveSubmission'
  | 'saveConsensus'
  | 'saveMetrics'
  | 'loadState'
  | 'participantsSeenSince'
  | 'prunePayloads'
  | 'uploadHistory'
>;

export interface Db {
  readonly provider: DbProvider;
  /** The SQLite file, or the PostgreSQL URL without its password: safe to log. */
  readonly location: string;
  /** What openDatabase() migrated. */
  readonly migrations: MigrationResult;
  readonly federations: FederationsRepository;
  readonly publicSets: PublicSetsRepository;
  readonly joinTokens: JoinTokensRepository;
  readonly participants: ParticipantsRepository;
  readonly rounds: RoundsRepository;
  readonly submissions: SubmissionsRepository;
  readonly consensus: ConsensusRepository;
  readonly metrics: MetricsRepository;
  /** What the live coordinator (admission, traffic meter, federation runtimes) uses. */
  readonly live: LiveStore;
  /** Resolves when the database answers a trivial query; rejects otherwise (health checks). */
  ping(): Promise<void>;
  /** Waits for work in flight, then closes connections. Idempotent. */
  close(): Promise<void>;
}
