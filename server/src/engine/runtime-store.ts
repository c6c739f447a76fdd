/**
 * What a federation runtime needs from persistence. The Prisma-backed implementation
 * lives in ../db; tests may use the in-memory one below. Every method that records an
 * accepted contribution resolves only once it is durable, because the participant is
 * acknowledged right after.
 */
import type { EncodingName } from './settings.ts';
import type { Consensus } from './strategy.ts';

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
}

/**
 * The stored form of a consensus: float32 little-endian rows, batch after batch (mutual),
 * or the parameters (fedavg). Recovery does not read it back: it re-aggregates the
 * submissions of `sourceVersions`; it is kept for audit and export.
 */
export function encodeConsensus(c: Consensus): Uint8Array {
  if (c.kind === 'fedavg')
    return new Uint8Array(
      c.params.buffer.slice(c.params.byteOffset, c.params.byteOffset + c.params.byteLength),
    );
  const total = c.batches.reduce((a, b) => a + b.all.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const b of c.batches) {
    out.set(b.all, o);
    o += b.all.length;
  }
  return new Uint8Array(out.buffer);
}

export interface RuntimeStore {
  openRound(federationId: string, round: StoredRound): Promise<void>;
  closeRound(
    federationId: string,
    version: number,
    info: { closedAt: Date; submissions: number; aggregationMs: number; reason: string },
  ): Promise<void>;
  /** Returns duplicate=true (and stores nothing) when (participant, version) exists. */
  saveSubmission(federationId: string, s: StoredSubmission): Promise<{ duplicate: boolean }>;
  /** Stores the consensus in its stored form (encodeConsensus) with the versions it covers. */
  saveConsensus(federationId: string, c: ConsensusRecord): Promise<void>;
  saveMetrics(
    federationId: string,
    participantId: string,
    version: number,
    metrics: Record<string, number>,
  ): Promise<void>;
  loadState(federationId: string, versionsFrom: number): Promise<RecoveredState>;
  /**
   * Participants (not removed) the coordinator exchanged messages with at or after
   * `since` (last seen is written with the batched traffic counters, about once a second).
   */
  participantsSeenSince(federationId: string, since: Date): Promise<string[]>;
}

/** In-memory store for unit tests of the runtime. */
export class MemoryRuntimeStore implements RuntimeStore {
  readonly rounds = new Map<string, StoredRound[]>();
  readonly submissions = new Map<string, StoredSubmission[]>();
  readonly consensus = new Map<string, { version: number; sourceVersions: number[] }[]>();
  /** Last seen, by federation and participant (set by tests: the runtime does not write it). */
  readonly lastSeen = new Map<string, Map<string, Date>>();
  readonly metrics: {
    federationId: string;
    participantId: string;
    version: number;
    metrics: Record<string, number>;
  }[] = [];

  async openRound(fid: string, round: StoredRound): Promise<void> {
    const list = this.rounds.get(fid) ?? [];
    list.push({ ...round });
    this.rounds.set(fid, list);
  }
  async closeRound(fid: string, version: number): Promise<void> {
    const r = this.rounds.get(fid)?.find((x) => x.version === version);
    if (r) r.status = 'closed';
  }
  async saveSubmission(fid: string, s: StoredSubmission): Promise<{ duplicate: boolean }> {
    const list = this.submissions.get(fid) ?? [];
    if (list.some((x) => x.participantId === s.participantId && x.version === s.version))
      return { duplicate: true };
    list.push(s);
    this.submissions.set(fid, list);
    return { duplicate: false };
  }
  async saveConsensus(fid: string, c: ConsensusRecord): Promise<void> {
    const list = this.consensus.get(fid) ?? [];
    list.push({ version: c.version, sourceVersions: c.sourceVersions });
    this.consensus.set(fid, list);
  }
  async saveMetrics(
    federationId: string,
    participantId: string,
    version: number,
    metrics: Record<string, number>,
  ) {
    this.metrics.push({ federationId, participantId, version, metrics });
  }
  async participantsSeenSince(fid: string, since: Date): Promise<string[]> {
    return [...(this.lastSeen.get(fid) ?? [])].filter(([, at]) => at >= since).map(([id]) => id);
  }
  async loadState(fid: string, versionsFrom: number): Promise<RecoveredState> {
    const rounds = this.rounds.get(fid) ?? [];
    const latest = (this.consensus.get(fid) ?? []).at(-1) ?? null;
    const needed = new Set(latest?.sourceVersions ?? []);
    return {
      currentVersion: rounds.reduce((m, r) => Math.max(m, r.version), 0),
      rounds,
      submissions: (this.submissions.get(fid) ?? []).filter(
        (s) => s.version >= versionsFrom || needed.has(s.version),
      ),
      latestConsensus: latest,
    };
  }
}
