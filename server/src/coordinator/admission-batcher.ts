/**
 * Admission's database work, batched: Hellos that arrive together are looked up, registered
 * and touched together, as uploads are group-committed (db/group-commit.ts). A reconnect
 * storm after a restart (thousands of resumes at once) then costs a few statements per
 * batch instead of five or more per Hello, each of which went through Prisma's query
 * compiler and, on SQLite, waited its turn on the one connection, with a commit (an fsync)
 * for every lastSeenAt (issue 10, item 12: resumes were admitted at about 80/s).
 *
 * A resume is one stage (participant, its federation, lastSeenAt); a join two (token and
 * federation; then, once the Hello passed its checks, the registration). Each Hello still
 * gets its own answer, decided in arrival order: joins of one federation are registered in
 * one transaction that applies the participant and token limits in order, exactly as the
 * same joins one after another would.
 */

import { GroupCommit } from '../db/group-commit.ts';
import type {
  AdmissionDb,
  FederationRecord,
  JoinTokenRecord,
  NewParticipant,
  ParticipantRecord,
} from '../db/store.ts';

/** Most Hellos per statement (SQLite binds at most 32,766 parameters). */
export const ADMISSION_BATCH = 1000;
/** How long a batch waits for more Hellos after its first (a lone Hello waits this much longer). */
export const ADMISSION_LINGER_MS = 10;

type Db = AdmissionDb & { getFederation(id: string): Promise<FederationRecord | null> };

export interface Resumed {
  participant: ParticipantRecord;
  federation: FederationRecord | null;
}

export interface TokenFound {
  token: JoinTokenRecord;
  federation: FederationRecord | null;
}

interface Join {
  participant: NewParticipant;
  limit: number;
  tokenMaxUses: number | null;
}

type Created = ParticipantRecord | 'full' | 'used-up';

export class AdmissionBatcher {
  readonly #resumes: GroupCommit<string, Resumed | null>;
  readonly #tokens: GroupCommit<string, TokenFound | null>;
  readonly #joins: GroupCommit<Join, Created>;

  constructor(db: Db, maxBatch = ADMISSION_BATCH, lingerMs = ADMISSION_LINGER_MS) {
    this.#resumes = new GroupCommit((hashes) => resumeMany(db, hashes), maxBatch, lingerMs);
    this.#tokens = new GroupCommit(
      async (hashes) => {
        const found = await db.findJoinTokens(hashes);
        const feds = await federations(
          db,
          [...found.values()].map((t) => t.federationId),
        );
        return hashes.map((h) => {
          const token = found.get(h);
          return token ? { token, federation: feds.get(token.federationId) ?? null } : null;
        });
      },
      maxBatch,
      lingerMs,
    );
    this.#joins = new GroupCommit((joins) => createInOrder(db, joins), maxBatch, lingerMs);
  }

  /**
   * The participant of a resume token and its federation (null: unknown token). A
   * participant that is not revoked is marked seen (lastSeenAt) in the same batch.
   */
  resume(resumeHash: string): Promise<Resumed | null> {
    return this.#resumes.submit(resumeHash);
  }

  /** A join token and its federation (null: unknown token). */
  joinToken(hash: string): Promise<TokenFound | null> {
    return this.#tokens.submit(hash);
  }

  /** Registers a join unless the federation is full or the token used up (see AdmissionDb). */
  createParticipant(
    participant: NewParticipant,
    limit: number,
    tokenMaxUses: number | null,
  ): Promise<Created> {
    return this.#joins.submit({ participant, limit, tokenMaxUses });
  }
}

async function federations(db: Db, ids: readonly string[]): Promise<Map<string, FederationRecord | null>> {
  const distinct = [...new Set(ids)];
  return new Map(await Promise.all(distinct.map(async (id) => [id, await db.getFederation(id)] as const)));
}

async function resumeMany(db: Db, hashes: string[]): Promise<(Resumed | null)[]> {
  const found = await db.findParticipantsByResumeHashes(hashes);
  const feds = await federations(
    db,
    [...found.values()].map((p) => p.federationId),
  );
  const seen = [...found.values()].filter((p) => !p.revoked).map((p) => p.id);
  if (seen.length) await db.touchParticipants([...new Set(seen)], new Date());
  return hashes.map((h) => {
    const participant = found.get(h);
    return participant ? { participant, federation: feds.get(participant.federationId) ?? null } : null;
  });
}

/** One transaction per federation in the batch; results in the joins' order. */
async function createInOrder(db: AdmissionDb, joins: Join[]): Promise<Created[]> {
  const byFederation = new Map<string, number[]>();
  joins.forEach((j, k) => {
    const list = byFederation.get(j.participant.federationId) ?? [];
    list.push(k);
    byFederation.set(j.participant.federationId, list);
  });
  const out: Created[] = new Array(joins.length);
  for (const indices of byFederation.values()) {
    const group = indices.map((k) => joins[k]!);
    const maxUses = new Map(group.map((j) => [j.participant.joinTokenId, j.tokenMaxUses]));
    // Every Hello of the batch read the same settings; the smallest limit is the safe one.
    const limit = Math.min(...group.map((j) => j.limit));
    const created = await db.createParticipants(
      group.map((j) => j.participant),
      limit,
      maxUses,
    );
    indices.forEach((k, i) => {
      out[k] = created[i]!;
    });
  }
  return out;
}
