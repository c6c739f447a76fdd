/**
 * Persistence for the coordinator: `openDatabase()` picks SQLite (embedded default, a file
 * under the data directory) or PostgreSQL (DATABASE_URL), applies pending migrations and
 * returns one repository per aggregate. Import from here, not from the files behind it.
 */

export { decodeIndices, encodeIndices } from './bytes.ts';
export type { ConsensusInput, ConsensusMeta, ConsensusRow } from './consensus-repository.ts';
export { ConsensusRepository } from './consensus-repository.ts';
export type { DbProvider } from './context.ts';
export { DbError, type DbErrorCode } from './errors.ts';
export type {
  CreateFederationInput,
  FederationRow,
  FederationStatus,
} from './federations-repository.ts';
export { FederationsRepository } from './federations-repository.ts';
export type { CreateJoinTokenInput, JoinTokenRow } from './join-tokens-repository.ts';
export { isUsable, JoinTokensRepository } from './join-tokens-repository.ts';
export type { ReportedMetrics, ReportMetricsInput } from './metrics-repository.ts';
export { MetricsRepository } from './metrics-repository.ts';
export type { MigrationResult } from './migrate.ts';
export type { DatabaseTarget, OpenDatabaseOptions } from './open-database.ts';
export { migrateDatabase, openDatabase, resolveDatabaseTarget } from './open-database.ts';
export type { CreateParticipantInput, ParticipantKind, ParticipantRow } from './participants-repository.ts';
export { ParticipantsRepository } from './participants-repository.ts';
export type { PublicSetRow, PutPublicSetInput } from './public-sets-repository.ts';
export { PublicSetsRepository } from './public-sets-repository.ts';
export type { CloseRoundInput, OpenRoundInput, RoundRow, RoundStatus } from './rounds-repository.ts';
export { RoundsRepository } from './rounds-repository.ts';
export type {
  ConsensusRecord,
  Db,
  FederationRecord,
  LiveStore,
  ParticipantRecord,
  RecoveredState,
  RuntimeStore,
  StoredRound,
  StoredSubmission,
} from './store.ts';
export type { PayloadKind, RecordResult, SubmissionInput, SubmissionRow } from './submissions-repository.ts';
export { SubmissionsRepository } from './submissions-repository.ts';
export { createToken, hashToken, sha256Hex } from './token-hash.ts';
