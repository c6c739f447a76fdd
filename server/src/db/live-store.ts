/**
 * The live store (store.ts LiveStore) over the repositories: what admission and the
 * federation runtimes need, mapped onto rows. One implementation for SQLite and
 * PostgreSQL (the repositories are provider-neutral). Settings are re-resolved on read so
 * a federation created by an older version gets today's defaults for fields it lacks.
 */
import { type EncodingName, resolveSettings, type SettingsInput } from '../engine/settings.ts';
import { encodeConsensus } from './consensus-layout.ts';
import type {
  ConsensusRecord,
  Db,
  FederationRecord,
  JoinTokenRecord,
  LiveStore,
  NewParticipant,
  ParticipantRecord,
  RecoveredState,
  StoredRound,
  StoredSubmission,
} from './store.ts';

type Repositories = Pick<
  Db,
  | 'federations'
  | 'publicSets'
  | 'joinTokens'
  | 'participants'
  | 'rounds'
  | 'submissions'
  | 'consensus'
  | 'metrics'
>;

export class PrismaLiveStore implements LiveStore {
  constructor(private readonly db: Repositories) {}

  async getFederation(id: string): Promise<FederationRecord | null> {
    const f = await this.db.federations.get(id);
    if (!f?.publicSetId) return null;
    const ps = await this.db.publicSets.get(f.publicSetId);
    if (!ps) return null;
    return {
      id: f.id,
      name: f.name,
      status: f.status,
      settings: resolveSettings(f.settings as SettingsInput),
      publicSet: {
        id: ps.id,
        sha256: ps.id,
        sampleCount: ps.sampleCount,
        shape: ps.shape,
        byteLength: ps.byteLength,
      },
    };
  }

  async findParticipantsByResumeHashes(hashes: readonly string[]): Promise<Map<string, ParticipantRecord>> {
    const rows = await this.db.participants.findManyByResumeTokenHashes(hashes);
    const tokenIds = [...new Set(rows.map((p) => p.joinTokenId).filter((t): t is string => t !== null))];
    const revokedTokens = new Set(
      (await this.db.joinTokens.getMany(tokenIds)).filter((t) => t.revokedAt !== null).map((t) => t.id),
    );
    return new Map(
      rows.map((p) => [
        p.resumeTokenHash,
        {
          id: p.id,
          federationId: p.federationId,
          joinTokenId: p.joinTokenId,
          name: p.name,
          revoked: p.removedAt !== null || (p.joinTokenId !== null && revokedTokens.has(p.joinTokenId)),
        },
      ]),
    );
  }

  async findJoinTokens(hashes: readonly string[]): Promise<Map<string, JoinTokenRecord>> {
    const now = Date.now();
    return new Map(
      (await this.db.joinTokens.findManyByHashes(hashes)).map((t) => [
        t.tokenHash,
        {
          id: t.id,
          federationId: t.federationId,
          revoked: t.revokedAt !== null || (t.expiresAt !== null && t.expiresAt.getTime() <= now),
          maxUses: t.maxUses,
        },
      ]),
    );
  }

  async createParticipants(
    joins: readonly NewParticipant[],
    limit: number,
    tokenMaxUses: ReadonlyMap<string, number | null>,
  ): Promise<(ParticipantRecord | 'full' | 'used-up')[]> {
    const rows = await this.db.participants.createManyWithinLimit(
      joins.map((j) => ({ ...j, kind: j.kind as 'node' | 'browser' | 'other' })),
      limit,
      tokenMaxUses,
    );
    const used = [
      ...new Set(rows.flatMap((r) => (typeof r === 'string' || !r.joinTokenId ? [] : [r.joinTokenId]))),
    ];
    if (used.length) await this.db.joinTokens.markUsed(used);
    return rows.map((r) =>
      typeof r === 'string'
        ? r
        : {
            id: r.id,
            federationId: r.federationId,
            joinTokenId: r.joinTokenId,
            name: r.name,
            revoked: false,
          },
    );
  }

  async touchParticipants(ids: readonly string[], at: Date): Promise<void> {
    await this.db.participants.touchMany(ids, at);
  }

  async addTrafficMany(entries: readonly { id: string; bytesIn: number; bytesOut: number }[]): Promise<void> {
    const seenAt = new Date();
    await this.db.participants.addTrafficMany(entries.map((e) => ({ ...e, seenAt })));
  }

  // ---------------------------------------------------------------- runtime

  async openRound(federationId: string, round: StoredRound): Promise<void> {
    await this.db.rounds.open({
      federationId,
      number: round.version,
      batchIndices: round.indices,
      openedAt: round.openedAt,
    });
  }

  async closeRound(
    federationId: string,
    version: number,
    info: { closedAt: Date; submissions: number; aggregationMs: number; reason: string },
  ): Promise<void> {
    await this.db.rounds.close(federationId, version, {
      reason: info.reason,
      closedAt: info.closedAt,
      aggregationMs: info.aggregationMs,
      submissionCount: info.submissions,
    });
  }

  async saveSubmission(federationId: string, s: StoredSubmission): Promise<{ duplicate: boolean }> {
    const { duplicate } = await this.db.submissions.record({
      federationId,
      roundNumber: s.version,
      participantId: s.participantId,
      kind: s.rows === 0 ? 'weights' : 'predictions',
      encoding: s.encoding,
      rows: s.rows,
      classes: s.classes,
      k: s.k,
      numSamples: s.numSamples,
      staleness: s.staleness,
      weight: s.weight,
      bytes: s.bytes,
      payload: s.payload,
      metrics: s.metrics,
      receivedAt: s.receivedAt,
    });
    return { duplicate };
  }

  async saveConsensus(federationId: string, c: ConsensusRecord): Promise<void> {
    await this.db.consensus.save({
      federationId,
      version: c.version,
      sourceVersions: c.sourceVersions,
      ...encodeConsensus(c.consensus),
      createdAt: c.createdAt,
      included: c.included,
    });
  }

  async saveMetrics(
    federationId: string,
    participantId: string,
    version: number,
    metrics: Record<string, number>,
  ) {
    await this.db.metrics.report({ federationId, participantId, roundNumber: version, metrics });
  }

  participantsSeenSince(federationId: string, since: Date): Promise<string[]> {
    return this.db.participants.listSeenSince(federationId, since);
  }

  async prunePayloads(federationId: string, beforeVersion: number): Promise<number> {
    // The latest consensus' sources are re-aggregated on recovery (loadState): kept.
    const latest = await this.db.consensus.latestMeta(federationId);
    return this.db.submissions.prunePayloads(federationId, beforeVersion, latest?.sourceVersions ?? []);
  }

  uploadHistory(federationId: string, participantId: string, limit: number) {
    return this.db.submissions.uploadHistory(federationId, participantId, limit);
  }

  async loadState(federationId: string, versionsFrom: number): Promise<RecoveredState> {
    const latest = await this.db.consensus.latestMeta(federationId);
    const sourceVersions = latest?.sourceVersions ?? [];
    const from = Math.min(versionsFrom, ...sourceVersions);
    const needed = new Set(sourceVersions);
    const kept = (await this.db.rounds.list(federationId, { fromNumber: from })).filter(
      (r) => r.number >= versionsFrom || needed.has(r.number),
    );
    const newest = await this.db.rounds.latest(federationId);
    const submissions = await this.db.submissions.listForRecovery(
      federationId,
      { fromRound: versionsFrom, rounds: sourceVersions },
      { withPayload: true },
    );
    return {
      currentVersion: newest?.number ?? 0,
      rounds: kept.map((r) => ({
        version: r.number,
        indices: r.batchIndices,
        status: r.status === 'open' ? 'open' : 'closed',
        openedAt: r.openedAt,
      })),
      submissions: submissions
        .filter((s) => s.payload !== null)
        .map((s) => ({
          participantId: s.participantId,
          version: s.roundNumber,
          staleness: s.staleness,
          weight: s.weight,
          encoding: s.encoding as EncodingName,
          payload: s.payload!,
          rows: s.rows,
          classes: s.classes,
          k: s.k,
          numSamples: s.numSamples,
          bytes: s.bytes,
          metrics: s.metrics ?? {},
          receivedAt: s.receivedAt,
          consensusVersion: s.consensusVersion,
        })),
      latestConsensus: latest ? { version: latest.version, sourceVersions } : null,
    };
  }
}
