import { asUint8Array, decodeIndices, toBytesInput, uuidv7 } from './bytes.ts';
import type { DbContext, Prisma } from './context.ts';
import { DbError, prismaCode } from './errors.ts';
import type { Submission } from './generated/sqlite/client.ts';
import { GroupCommit } from './group-commit.ts';
import {
  insertBatchPrisma,
  insertBatchSqlite,
  MAX_BATCH,
  type PreparedSubmission,
} from './submission-batch.ts';

export type PayloadKind = 'predictions' | 'weights';

/**
 * An accepted contribution with the exact payload bytes received. On restart the
 * coordinator rebuilds its running sums from them: listForRecovery() returns the versions
 * the round policy still accepts (>= current - keepVersions) and those the latest
 * consensus covers; each payload is decoded with the core prediction codec (encoding,
 * rows, classes, k) and added with its stored weight (or a weight recomputed for the
 * current version). prunePayloads() drops the bytes of rounds no longer needed and keeps
 * the metadata (engine/payload-retention.ts decides which).
 */
export interface SubmissionInput {
  federationId: string;
  roundNumber: number;
  participantId: string;
  kind?: PayloadKind;
  /** "float32" | "float16" | "uint8" | "topk" */
  encoding: string;
  rows: number;
  classes: number;
  k?: number;
  numSamples?: number;
  staleness?: number;
  weight?: number;
  /** Size of the frame that carried it. */
  bytes: number;
  payload: Uint8Array;
  metrics?: Record<string, number> | null;
  receivedAt?: Date;
}

export interface SubmissionRow {
  id: string;
  federationId: string;
  roundNumber: number;
  participantId: string;
  kind: PayloadKind;
  encoding: string;
  rows: number;
  classes: number;
  k: number;
  numSamples: number;
  staleness: number;
  weight: number;
  bytes: number;
  /** Null when not asked for (withPayload) or pruned. */
  payload: Uint8Array | null;
  metrics: Record<string, number> | null;
  receivedAt: Date;
  /** The consensus version that first aggregated it; null until one did. */
  consensusVersion: number | null;
}

/** One stored prediction upload as uploadHistory() returns it. */
export interface UploadHistoryRow {
  version: number;
  /** The round's whole batch; the upload answers its first `rows` (active rows: fewer). */
  indices: Uint32Array;
  encoding: string;
  rows: number;
  classes: number;
  k: number;
  payload: Uint8Array | null;
}

export interface RecordResult {
  submission: SubmissionRow;
  /** True when (participant, round) was already recorded: nothing was written, the first one is returned. */
  duplicate: boolean;
}

type Prepared = PreparedSubmission;

type Stored = Omit<Submission, 'payload'> & { payload?: Uint8Array | null };

function toRow(s: Stored): SubmissionRow {
  return {
    ...s,
    payload: s.payload ? asUint8Array(s.payload) : null,
    metrics: (s.metrics ?? null) as Record<string, number> | null,
  };
}

const WITHOUT_PAYLOAD = { payload: true } as const;

function isForeignKeyViolation(e: unknown): boolean {
  if (prismaCode(e) === 'P2003') return true;
  // Raw queries report driver errors as P2010 with the adapter's error kind in meta.
  const text =
    e instanceof Error ? `${e.message} ${JSON.stringify((e as { meta?: unknown }).meta ?? {})}` : '';
  return /ForeignKeyConstraint|FOREIGN KEY constraint|foreign key constraint/i.test(text);
}

const key = (participantId: string, roundNumber: number) => `${participantId}\u0000${roundNumber}`;

export class SubmissionsRepository {
  readonly #writer: GroupCommit<Prepared, RecordResult>;

  constructor(private readonly ctx: DbContext) {
    this.#writer = new GroupCommit((items) => this.#insert(items), MAX_BATCH);
  }

  /**
   * Records an accepted submission and counts it on its round, in a transaction that is
   * committed (durable) when this resolves: acknowledge the participant after it.
   * Idempotent: a second record for the same (participant, round) writes nothing and
   * returns the first with duplicate=true, whatever its payload. Concurrent calls are
   * group-committed (one INSERT ... ON CONFLICT DO NOTHING per batch): see group-commit.ts.
   */
  record(input: SubmissionInput): Promise<RecordResult> {
    for (const [name, v] of Object.entries({
      roundNumber: input.roundNumber,
      rows: input.rows,
      classes: input.classes,
      k: input.k ?? 0,
      numSamples: input.numSamples ?? 0,
      staleness: input.staleness ?? 0,
      bytes: input.bytes,
    })) {
      if (!Number.isSafeInteger(v) || v < 0 || v > 0x7fffffff) {
        throw new DbError('MUTUA_ERR_DB_INVALID', `${name} must be a non-negative 32-bit integer, not ${v}`);
      }
    }
    const weight = input.weight ?? 1;
    if (!Number.isFinite(weight))
      throw new DbError('MUTUA_ERR_DB_INVALID', `weight must be finite, not ${weight}`);
    const receivedAt = input.receivedAt ?? new Date();
    return this.ctx.track(
      this.#writer.submit({
        id: uuidv7(receivedAt.getTime()),
        federationId: input.federationId,
        roundNumber: input.roundNumber,
        participantId: input.participantId,
        kind: input.kind ?? 'predictions',
        encoding: input.encoding,
        rows: input.rows,
        classes: input.classes,
        k: input.k ?? 0,
        numSamples: input.numSamples ?? 0,
        staleness: input.staleness ?? 0,
        weight,
        bytes: input.bytes,
        payload: toBytesInput(input.payload),
        metrics: input.metrics ?? null,
        receivedAt,
      }),
    );
  }

  /** One batch, all or nothing (submission-batch.ts); duplicates get the first row back. */
  #insert(items: Prepared[]): Promise<RecordResult[]> {
    return this.ctx.unit(async (db) => {
      let inserted: Set<string>;
      const sqlite = this.ctx.sqlite;
      try {
        inserted = sqlite ? insertBatchSqlite(sqlite, items) : await insertBatchPrisma(db, items);
      } catch (e) {
        if (items.length === 1 && isForeignKeyViolation(e)) {
          const s = items[0]!;
          throw new DbError(
            'MUTUA_ERR_DB_NOT_FOUND',
            `round ${s.roundNumber} of federation ${s.federationId} or participant ${s.participantId} does not exist`,
            { cause: e },
          );
        }
        throw e;
      }
      const duplicates = items.filter((s) => !inserted.has(s.id));
      const firsts = duplicates.length
        ? await db.submission.findMany({
            where: {
              OR: duplicates.map((s) => ({ participantId: s.participantId, roundNumber: s.roundNumber })),
            },
            omit: WITHOUT_PAYLOAD,
          })
        : [];
      const byKey = new Map(firsts.map((f) => [key(f.participantId, f.roundNumber), toRow(f)]));
      return items.map((s): RecordResult => {
        if (inserted.has(s.id)) {
          const { payload: _payload, ...meta } = s;
          return { submission: { ...meta, payload: null, consensusVersion: null }, duplicate: false };
        }
        const first = byKey.get(key(s.participantId, s.roundNumber));
        if (!first)
          throw new Error(`submission (${s.participantId}, ${s.roundNumber}) was neither inserted nor found`);
        return { submission: first, duplicate: true };
      });
    });
  }

  get(
    participantId: string,
    roundNumber: number,
    options: { withPayload?: boolean } = {},
  ): Promise<SubmissionRow | null> {
    return this.ctx.unit(async (db) => {
      const s = await db.submission.findUnique({
        where: { participantId_roundNumber: { participantId, roundNumber } },
        omit: options.withPayload ? {} : WITHOUT_PAYLOAD,
      });
      return s ? toRow(s) : null;
    });
  }

  /**
   * Bytes received per round or version (the frames of its accepted submissions), for
   * rounds fromRound..toRound: the traffic history kept after payloads are pruned.
   */
  bytesPerRound(federationId: string, fromRound: number, toRound: number): Promise<Map<number, number>> {
    return this.ctx.unit(async (db) => {
      const groups = await db.submission.groupBy({
        by: ['roundNumber'],
        where: { federationId, roundNumber: { gte: fromRound, lte: toRound } },
        _sum: { bytes: true },
      });
      return new Map(groups.map((g) => [g.roundNumber, g._sum.bytes ?? 0]));
    });
  }

  /**
   * Submissions of rounds >= fromRound plus those of `rounds` (e.g. the sources of the
   * latest consensus), in round then arrival order: what a restart needs.
   */
  listForRecovery(
    federationId: string,
    selection: { fromRound: number; rounds?: readonly number[] },
    options: { withPayload?: boolean } = {},
  ): Promise<SubmissionRow[]> {
    const or: Prisma.SubmissionWhereInput[] = [{ roundNumber: { gte: selection.fromRound } }];
    if (selection.rounds?.length) or.push({ roundNumber: { in: [...selection.rounds] } });
    return this.list({ federationId, OR: or }, options.withPayload);
  }

  /**
   * A participant's newest `limit` prediction uploads to a federation, newest first, with
   * their rounds' batch indices (payload null once pruned): what a delta participant's
   * held upload rows are rebuilt from (ws/delta-payloads.ts).
   */
  uploadHistory(federationId: string, participantId: string, limit: number): Promise<UploadHistoryRow[]> {
    return this.ctx.unit(async (db) => {
      const rows = await db.submission.findMany({
        where: { federationId, participantId, kind: 'predictions' },
        orderBy: [{ roundNumber: 'desc' }],
        take: limit,
        select: {
          roundNumber: true,
          encoding: true,
          rows: true,
          classes: true,
          k: true,
          payload: true,
          round: { select: { batchIndices: true } },
        },
      });
      return rows.map((r) => ({
        version: r.roundNumber,
        indices: decodeIndices(asUint8Array(r.round.batchIndices)),
        encoding: r.encoding,
        rows: r.rows,
        classes: r.classes,
        k: r.k,
        payload: r.payload ? asUint8Array(r.payload) : null,
      }));
    });
  }

  /**
   * Drops payload bytes of rounds < beforeRound except those in `keep` (metadata stays).
   * Returns how many were dropped.
   */
  prunePayloads(federationId: string, beforeRound: number, keep: readonly number[] = []): Promise<number> {
    return this.ctx.unit(async (db) => {
      const { count } = await db.submission.updateMany({
        where: {
          federationId,
          roundNumber: { lt: beforeRound, notIn: [...keep] },
          payload: { not: null },
        },
        data: { payload: null },
      });
      return count;
    });
  }

  private list(
    where: Prisma.SubmissionWhereInput,
    withPayload = false,
    orderBy: Prisma.SubmissionOrderByWithRelationInput[] = [
      { roundNumber: 'asc' },
      { receivedAt: 'asc' },
      { id: 'asc' },
    ],
  ): Promise<SubmissionRow[]> {
    return this.ctx.unit(async (db) => {
      const rows = await db.submission.findMany({ where, orderBy, omit: withPayload ? {} : WITHOUT_PAYLOAD });
      return rows.map(toRow);
    });
  }
}
