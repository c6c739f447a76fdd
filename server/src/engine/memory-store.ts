/**
 * An in-memory RuntimeStore (db/store.ts) for unit tests of the runtime: the database
 * implementation is db/live-store.ts.
 */
import type {
  ConsensusRecord,
  RecoveredState,
  RuntimeStore,
  StoredRound,
  StoredSubmission,
} from '../db/store.ts';
import type { UploadHistoryRow } from '../db/submissions-repository.ts';

export type { RecoveredState } from '../db/store.ts';

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
    for (const s of this.submissions.get(fid) ?? [])
      if (
        s.consensusVersion == null &&
        c.included.some((i) => i.participantId === s.participantId && i.version === s.version)
      )
        s.consensusVersion = c.version;
  }
  async saveMetrics(
    federationId: string,
    participantId: string,
    version: number,
    metrics: Record<string, number>,
  ) {
    this.metrics.push({ federationId, participantId, version, metrics });
  }
  /** Same rule as the database store: keeps the latest consensus' sources. */
  async prunePayloads(fid: string, beforeVersion: number): Promise<number> {
    const needed = new Set((this.consensus.get(fid) ?? []).at(-1)?.sourceVersions ?? []);
    const list = this.submissions.get(fid) ?? [];
    const kept = list.filter((s) => s.version >= beforeVersion || needed.has(s.version));
    this.submissions.set(fid, kept);
    return list.length - kept.length;
  }
  async participantsSeenSince(fid: string, since: Date): Promise<string[]> {
    return [...(this.lastSeen.get(fid) ?? [])].filter(([, at]) => at >= since).map(([id]) => id);
  }
  async uploadHistory(fid: string, participantId: string, limit: number): Promise<UploadHistoryRow[]> {
    const rounds = this.rounds.get(fid) ?? [];
    return (this.submissions.get(fid) ?? [])
      .filter((s) => s.participantId === participantId && s.rows > 0)
      .sort((a, b) => b.version - a.version)
      .slice(0, limit)
      .map((s) => ({
        version: s.version,
        indices: rounds.find((r) => r.version === s.version)?.indices ?? new Uint32Array(0),
        encoding: s.encoding,
        rows: s.rows,
        classes: s.classes,
        k: s.k,
        payload: s.payload,
      }));
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
