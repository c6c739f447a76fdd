import { join, sqltag as sql } from '@prisma/client/runtime/client';
import type { DbContext, PrismaDb } from './context.ts';
import { DbError, prismaCode } from './errors.ts';
import type { Participant } from './generated/sqlite/client.ts';

export type ParticipantKind = 'node' | 'browser' | 'other';

export interface ParticipantRow {
  id: string;
  federationId: string;
  joinTokenId: string | null;
  name: string;
  kind: ParticipantKind;
  modelArch: string;
  /** SHA-256 (hex) of the resume token; the token itself is never stored. */
  resumeTokenHash: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** Stored as BIGINT; numbers are exact up to 2^53 bytes (8 PiB). */
  bytesIn: number;
  bytesOut: number;
  removedAt: Date | null;
}

export interface CreateParticipantInput {
  federationId: string;
  name: string;
  kind: ParticipantKind;
  modelArch?: string;
  resumeTokenHash: string;
  joinTokenId?: string | null;
  seenAt?: Date;
}

/** Rows per UPDATE (4 parameters each). */
const TRAFFIC_BATCH = 1000;

function toRow(p: Participant): ParticipantRow {
  return { ...p, bytesIn: Number(p.bytesIn), bytesOut: Number(p.bytesOut) };
}

function byteCount(n: number, what: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new DbError('MUTUA_ERR_DB_INVALID', `${what} must be a byte count, not ${n}`);
  return BigInt(n);
}

function checkResumeHash(hash: string): void {
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw new DbError(
      'MUTUA_ERR_DB_INVALID',
      'resumeTokenHash must be a lowercase hex SHA-256 (use hashToken())',
    );
  }
}

async function insertParticipant(db: PrismaDb, input: CreateParticipantInput): Promise<ParticipantRow> {
  const seenAt = input.seenAt ?? new Date();
  try {
    const p = await db.participant.create({
      data: {
        federationId: input.federationId,
        name: input.name,
        kind: input.kind,
        modelArch: input.modelArch ?? '',
        resumeTokenHash: input.resumeTokenHash,
        joinTokenId: input.joinTokenId ?? null,
        firstSeenAt: seenAt,
        lastSeenAt: seenAt,
      },
    });
    return toRow(p);
  } catch (e) {
    if (prismaCode(e) === 'P2003') {
      throw new DbError('MUTUA_ERR_DB_NOT_FOUND', 'that federation or join token does not exist');
    }
    if (prismaCode(e) === 'P2002')
      throw new DbError('MUTUA_ERR_DB_CONFLICT', 'a participant with that resume token exists');
    throw e;
  }
}

export class ParticipantsRepository {
  constructor(private readonly ctx: DbContext) {}

  create(input: CreateParticipantInput): Promise<ParticipantRow> {
    checkResumeHash(input.resumeTokenHash);
    return this.ctx.unit((db) => insertParticipant(db, input));
  }

  /**
   * Creates the participants of several joins of ONE federation in one transaction (a
   * burst of Hellos is admitted in batches), each refused when the federation already has
   * `limit` participants (not removed) or its join token was used its limit of times
   * (`tokenMaxUses`: join token id → participants it may ever register, removed ones
   * included); which one is said. The limits are applied in order, so the result is what
   * the same joins one after another would give, at the cost of one transaction (and one
   * fsync) instead of one each. Count and insert are one transaction, and on PostgreSQL
   * the federation row is locked first, so concurrent batches cannot overshoot the limit
   * (checked-then-inserted, 30 concurrent Hellos once admitted 12 of 5). On SQLite every
   * unit runs alone, which serializes them already.
   */
  createManyWithinLimit(
    inputs: readonly CreateParticipantInput[],
    limit: number,
    tokenMaxUses: ReadonlyMap<string, number | null>,
  ): Promise<(ParticipantRow | 'full' | 'used-up')[]> {
    for (const input of inputs) checkResumeHash(input.resumeTokenHash);
    const federationId = inputs[0]?.federationId;
    if (federationId === undefined) return Promise.resolve([]);
    if (inputs.some((i) => i.federationId !== federationId))
      throw new DbError('MUTUA_ERR_DB_INVALID', 'createManyWithinLimit takes joins of one federation');
    return this.ctx.unit((db) =>
      db.$transaction(
        async (tx) => {
          if (this.ctx.provider === 'postgres')
            await tx.$queryRaw(sql`SELECT id FROM "Federation" WHERE id = ${federationId} FOR UPDATE`);
          const tokenIds = [...new Set(inputs.map((i) => i.joinTokenId).filter((t): t is string => !!t))];
          const uses = new Map<string, number>();
          for (const g of await tx.participant.groupBy({
            by: ['joinTokenId'],
            where: { joinTokenId: { in: tokenIds } },
            _count: { _all: true },
          }))
            if (g.joinTokenId) uses.set(g.joinTokenId, g._count._all);
          let n = await tx.participant.count({ where: { federationId, removedAt: null } });
          const accepted: CreateParticipantInput[] = [];
          const verdicts = inputs.map((input): 'ok' | 'full' | 'used-up' => {
            const token = input.joinTokenId ?? null;
            const max = token === null ? null : (tokenMaxUses.get(token) ?? null);
            if (token !== null && max !== null && (uses.get(token) ?? 0) >= max) return 'used-up';
            if (n >= limit) return 'full';
            n++;
            if (token !== null) uses.set(token, (uses.get(token) ?? 0) + 1);
            accepted.push(input);
            return 'ok';
          });
          const seenAt = new Date();
          const rows = accepted.length
            ? await tx.participant.createManyAndReturn({
                data: accepted.map((i) => ({
                  federationId,
                  name: i.name,
                  kind: i.kind,
                  modelArch: i.modelArch ?? '',
                  resumeTokenHash: i.resumeTokenHash,
                  joinTokenId: i.joinTokenId ?? null,
                  firstSeenAt: i.seenAt ?? seenAt,
                  lastSeenAt: i.seenAt ?? seenAt,
                })),
              })
            : [];
          const byHash = new Map(rows.map((r) => [r.resumeTokenHash, toRow(r)]));
          return inputs.map((input, k) => {
            const v = verdicts[k]!;
            return v === 'ok' ? byHash.get(input.resumeTokenHash)! : v;
          });
        },
        { maxWait: 15_000, timeout: 15_000 },
      ),
    );
  }

  /**
   * Participants by resume-token hash, in one query; unknown hashes are absent. Whatever
   * their state: a removed participant is returned with removedAt set.
   */
  findManyByResumeTokenHashes(hashes: readonly string[]): Promise<ParticipantRow[]> {
    if (hashes.length === 0) return Promise.resolve([]);
    return this.ctx.unit(async (db) => {
      const rows = await db.participant.findMany({ where: { resumeTokenHash: { in: [...hashes] } } });
      return rows.map(toRow);
    });
  }

  /** Sets lastSeenAt of many participants in one statement; returns how many exist. */
  touchMany(ids: readonly string[], at: Date = new Date()): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0);
    return this.ctx.unit(async (db) => {
      const { count } = await db.participant.updateMany({
        where: { id: { in: [...ids] } },
        data: { lastSeenAt: at },
      });
      return count;
    });
  }

  get(id: string): Promise<ParticipantRow | null> {
    return this.ctx.unit(async (db) => {
      const p = await db.participant.findUnique({ where: { id } });
      return p ? toRow(p) : null;
    });
  }

  /** Oldest first. */
  listForFederation(
    federationId: string,
    options: { includeRemoved?: boolean } = {},
  ): Promise<ParticipantRow[]> {
    return this.ctx.unit(async (db) => {
      const rows = await db.participant.findMany({
        where: { federationId, ...(options.includeRemoved ? {} : { removedAt: null }) },
        orderBy: [{ firstSeenAt: 'asc' }, { id: 'asc' }],
      });
      return rows.map(toRow);
    });
  }

  /** Ids of the participants (not removed) seen at or after `since`: recovery's "who was in the open round". */
  listSeenSince(federationId: string, since: Date): Promise<string[]> {
    return this.ctx.unit(async (db) => {
      const rows = await db.participant.findMany({
        where: { federationId, removedAt: null, lastSeenAt: { gte: since } },
        select: { id: true },
      });
      return rows.map((r) => r.id);
    });
  }

  /**
   * Adds to the byte counters (and sets lastSeenAt when given) of many participants in ONE
   * statement (a periodic flush of the counters the connections keep in memory): per-row
   * Prisma updates would cost milliseconds each, and concurrent flushes never lose an
   * increment (SET x = x + n). Entries for the same id are summed. Returns how many
   * participants were updated (an unknown id counts for none).
   */
  addTrafficMany(
    entries: readonly { id: string; bytesIn: number; bytesOut: number; seenAt?: Date }[],
  ): Promise<number> {
    const merged = new Map<string, { bytesIn: bigint; bytesOut: bigint; seenAt: Date | null }>();
    for (const e of entries) {
      const m = merged.get(e.id) ?? { bytesIn: 0n, bytesOut: 0n, seenAt: null };
      m.bytesIn += byteCount(e.bytesIn, 'bytesIn');
      m.bytesOut += byteCount(e.bytesOut, 'bytesOut');
      if (e.seenAt && (!m.seenAt || e.seenAt > m.seenAt)) m.seenAt = e.seenAt;
      merged.set(e.id, m);
    }
    const all = [...merged];
    return this.ctx.unit(async (db) => {
      let updated = 0;
      for (let i = 0; i < all.length; i += TRAFFIC_BATCH) {
        const chunk = all.slice(i, i + TRAFFIC_BATCH);
        // Same shape on both providers; PostgreSQL cannot infer VALUES column types, SQLite
        // has no column aliases for VALUES (column1..4), hence the two spellings.
        const statement =
          this.ctx.provider === 'postgres'
            ? sql`UPDATE "Participant" AS p SET
                "bytesIn" = p."bytesIn" + v.column2, "bytesOut" = p."bytesOut" + v.column3,
                "lastSeenAt" = COALESCE(v.column4, p."lastSeenAt")
              FROM (VALUES ${join(chunk.map(([id, m]) => sql`(${id}::text, ${m.bytesIn}::bigint, ${m.bytesOut}::bigint, ${m.seenAt}::timestamp(3))`))})
                AS v(column1, column2, column3, column4)
              WHERE p."id" = v.column1`
            : sql`UPDATE "Participant" SET
                "bytesIn" = "bytesIn" + v.column2, "bytesOut" = "bytesOut" + v.column3,
                "lastSeenAt" = COALESCE(v.column4, "lastSeenAt")
              FROM (VALUES ${join(chunk.map(([id, m]) => sql`(${id}, ${m.bytesIn}, ${m.bytesOut}, ${m.seenAt})`))}) AS v
              WHERE "Participant"."id" = v.column1`;
        updated += await db.$executeRaw(statement);
      }
      return updated;
    });
  }

  /** Its resume token stops working; its history stays. Idempotent. Null when there is no such participant. */
  remove(id: string, at: Date = new Date()): Promise<ParticipantRow | null> {
    return this.ctx.unit(async (db) => {
      await db.participant.updateMany({ where: { id, removedAt: null }, data: { removedAt: at } });
      const p = await db.participant.findUnique({ where: { id } });
      return p ? toRow(p) : null;
    });
  }

  /** Bytes in and out over all participants of a federation, removed ones included. */
  trafficTotals(federationId: string): Promise<{ bytesIn: number; bytesOut: number; participants: number }> {
    return this.ctx.unit(async (db) => {
      const agg = await db.participant.aggregate({
        where: { federationId },
        _sum: { bytesIn: true, bytesOut: true },
        _count: { _all: true },
      });
      return {
        bytesIn: Number(agg._sum.bytesIn ?? 0n),
        bytesOut: Number(agg._sum.bytesOut ?? 0n),
        participants: agg._count._all,
      };
    });
  }
}
