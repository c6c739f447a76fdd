import { asUint8Array, toBytesInput } from './bytes.ts';
import type { DbContext, Prisma } from './context.ts';
import { DbError, prismaCode } from './errors.ts';
import type { Submission } from './generated/sqlite/client.ts';

export type PayloadKind = 'predictions' | 'weights';

/**
 * An accepted contribution with the exact payload bytes received. On restart the
 * coordinator rebuilds its running sums from them: sync mode, listForRound(open round);
 * async mode, latestPerParticipant(fromRound = current - maxStaleness); each payload is
 * decoded with the core prediction codec (encoding, rows, classes, k) and added with its
 * stored weight (or a weight recomputed for the current version). prunePayloads() drops
 * the bytes of rounds no longer needed and keeps the metadata.
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
}

export interface RecordResult {
  submission: SubmissionRow;
  /** True when (participant, round) was already recorded: nothing was written, the first one is returned. */
  duplicate: boolean;
}

type Stored = Omit<Submission, 'payload'> & { payload?: Uint8Array | null };

function toRow(s: Stored): SubmissionRow {
  return {
    ...s,
    payload: s.payload ? asUint8Array(s.payload) : null,
    metrics: (s.metrics ?? null) as Record<string, number> | null,
  };
}

const WITHOUT_PAYLOAD = { payload: true } as const;

export class SubmissionsRepository {
  constructor(private readonly ctx: DbContext) {}

  /**
   * Records an accepted submission and counts it on its round, in one transaction that
   * is committed (durable) when this resolves: acknowledge the participant after it.
   * Idempotent: a second record for the same (participant, round) writes nothing and
   * returns the first with duplicate=true, whatever its payload.
   */
  record(input: SubmissionInput): Promise<RecordResult> {
    const { federationId, roundNumber, participantId } = input;
    for (const [k, v] of Object.entries({ rows: input.rows, classes: input.classes, bytes: input.bytes })) {
      if (!Number.isSafeInteger(v) || v < 0)
        throw new DbError('MUTUA_ERR_DB_INVALID', `${k} must be a count, not ${v}`);
    }
    const data: Prisma.SubmissionUncheckedCreateInput = {
      federationId,
      roundNumber,
      participantId,
      kind: input.kind ?? 'predictions',
      encoding: input.encoding,
      rows: input.rows,
      classes: input.classes,
      k: input.k ?? 0,
      numSamples: input.numSamples ?? 0,
      staleness: input.staleness ?? 0,
      weight: input.weight ?? 1,
      bytes: input.bytes,
      payload: toBytesInput(input.payload),
      metrics: input.metrics ? (input.metrics as Prisma.InputJsonObject) : undefined,
      receivedAt: input.receivedAt ?? new Date(),
    };
    return this.ctx.unit(async (db) => {
      try {
        const [created] = await db.$transaction([
          db.submission.create({ data, omit: WITHOUT_PAYLOAD }),
          db.round.update({
            where: { federationId_number: { federationId, number: roundNumber } },
            data: { submissionCount: { increment: 1 } },
            select: { number: true },
          }),
        ]);
        return { submission: toRow(created), duplicate: false };
      } catch (e) {
        const code = prismaCode(e);
        if (code === 'P2002') {
          const first = await db.submission.findUnique({
            where: { participantId_roundNumber: { participantId, roundNumber } },
            omit: WITHOUT_PAYLOAD,
          });
          if (first) return { submission: toRow(first), duplicate: true };
        }
        if (code === 'P2003' || code === 'P2025') {
          throw new DbError(
            'MUTUA_ERR_DB_NOT_FOUND',
            `round ${roundNumber} of federation ${federationId} or participant ${participantId} does not exist`,
          );
        }
        throw e;
      }
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

  /** In arrival order. */
  listForRound(
    federationId: string,
    roundNumber: number,
    options: { withPayload?: boolean } = {},
  ): Promise<SubmissionRow[]> {
    return this.list({ federationId, roundNumber }, options.withPayload);
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

  /** Each participant's most recent submission at or after fromRound (async recovery). */
  async latestPerParticipant(
    federationId: string,
    options: { fromRound?: number; withPayload?: boolean } = {},
  ): Promise<SubmissionRow[]> {
    const rows = await this.list(
      { federationId, roundNumber: { gte: options.fromRound ?? 0 } },
      options.withPayload,
      [{ roundNumber: 'desc' }, { receivedAt: 'desc' }],
    );
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.participantId) && seen.add(r.participantId)).reverse();
  }

  /** Newest first: a participant's history for the admin API. */
  listForParticipant(participantId: string, options: { limit?: number } = {}): Promise<SubmissionRow[]> {
    return this.ctx.unit(async (db) => {
      const rows = await db.submission.findMany({
        where: { participantId },
        orderBy: [{ roundNumber: 'desc' }],
        take: options.limit,
        omit: WITHOUT_PAYLOAD,
      });
      return rows.map(toRow);
    });
  }

  /** Drops payload bytes of rounds < beforeRound (metadata stays). Returns how many were dropped. */
  prunePayloads(federationId: string, beforeRound: number): Promise<number> {
    return this.ctx.unit(async (db) => {
      const { count } = await db.submission.updateMany({
        where: { federationId, roundNumber: { lt: beforeRound }, payload: { not: null } },
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
