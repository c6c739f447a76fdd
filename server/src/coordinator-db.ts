/**
 * The persistence operations the coordinator's live side needs (admission, traffic
 * counters, rounds). Implemented over the Prisma repositories in ./db; kept as an
 * interface so the WebSocket layer does not depend on a database driver.
 */
import type { RuntimeStore } from './engine/runtime-store.ts';
import type { FederationSettings } from './engine/settings.ts';

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
 * The lookups and writes of admission, for many Hellos at once (admission-batcher.ts): a
 * reconnect storm costs a few statements per batch instead of a few per Hello.
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

export interface CoordinatorDb extends RuntimeStore, AdmissionDb {
  getFederation(id: string): Promise<FederationRecord | null>;
  countParticipants(federationId: string): Promise<number>;
  addTraffic(id: string, bytesIn: number, bytesOut: number): Promise<void>;
  /** addTraffic for many participants at once (one statement per chunk, not one per participant). */
  addTrafficMany(entries: readonly { id: string; bytesIn: number; bytesOut: number }[]): Promise<void>;
}
