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

export interface CoordinatorDb extends RuntimeStore {
  getFederation(id: string): Promise<FederationRecord | null>;
  findJoinToken(
    tokenHash: string,
  ): Promise<{ id: string; federationId: string; revoked: boolean; maxUses: number | null } | null>;
  findParticipantByResumeHash(hash: string): Promise<ParticipantRecord | null>;
  countParticipants(federationId: string): Promise<number>;
  createParticipant(p: {
    federationId: string;
    joinTokenId: string;
    name: string;
    kind: string;
    modelArch: string;
    resumeTokenHash: string;
    /** The federation's participantLimit, enforced atomically with the insert. */
    limit: number;
    /** The join token's use limit (null = none), enforced in the same transaction. */
    tokenMaxUses: number | null;
  }): Promise<ParticipantRecord | 'full' | 'used-up'>;
  touchParticipant(id: string, at: Date): Promise<void>;
  addTraffic(id: string, bytesIn: number, bytesOut: number): Promise<void>;
  /** addTraffic for many participants at once (one statement per chunk, not one per participant). */
  addTrafficMany(entries: readonly { id: string; bytesIn: number; bytesOut: number }[]): Promise<void>;
}
