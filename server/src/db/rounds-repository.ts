import { decodeIndices, encodeIndices } from './bytes.ts';
import type { DbContext, Prisma } from './context.ts';
import { DbError, prismaCode } from './errors.ts';
import type { Round } from './generated/sqlite/client.ts';

export type RoundStatus = 'open' | 'closed' | 'cancelled';

/** A synchronous round, or the task version a batch was handed out at in asynchronous mode. */
export interface RoundRow {
  federationId: string;
  number: number;
  /** Public-set sample indices (stored as uint32 little-endian bytes). */
  batchIndices: Uint32Array;
  status: RoundStatus;
  closeReason: string | null;
  openedAt: Date;
  deadlineAt: Date | null;
  closedAt: Date | null;
  /** Accepted submissions (counted as they are recorded; close() may set the final figure). */
  submissionCount: number;
  aggregationMs: number | null;
}

export interface OpenRoundInput {
  federationId: string;
  /**
   * The round number. Omitted: the next one (federation.currentRound + 1), allocated
   * atomically. Given: must not exist yet; currentRound becomes max(currentRound, number).
   */
  number?: number;
  batchIndices: ArrayLike<number>;
  openedAt?: Date;
  deadlineAt?: Date | null;
}

export interface CloseRoundInput {
  status?: Exclude<RoundStatus, 'open'>;
  /** "quorum" | "deadline" | "buffer" | "all-waiting" | "shutdown" ... */
  reason: string;
  closedAt?: Date;
  aggregationMs?: number | null;
  submissionCount?: number;
}

function toRow(r: Round): RoundRow {
  return { ...r, batchIndices: decodeIndices(r.batchIndices) };
}

export class RoundsRepository {
  constructor(private readonly ctx: DbContext) {}

  open(input: OpenRoundInput): Promise<RoundRow> {
    const batchIndices = encodeIndices(input.batchIndices);
    const { federationId } = input;
    const base = {
      federationId,
      batchIndices,
      openedAt: input.openedAt ?? new Date(),
      deadlineAt: input.deadlineAt ?? null,
    };
    if (input.number !== undefined && (!Number.isSafeInteger(input.number) || input.number < 1)) {
      throw new DbError(
        'MUTUA_ERR_DB_INVALID',
        `round number must be a positive integer, not ${input.number}`,
      );
    }
    return this.ctx.unit(async (db) => {
      try {
        if (input.number === undefined) {
          // The UPDATE locks the federation row (PostgreSQL), so concurrent opens get distinct numbers.
          const r = await db.$transaction(async (tx) => {
            const f = await tx.federation.update({
              where: { id: federationId },
              data: { currentRound: { increment: 1 } },
            });
            return tx.round.create({ data: { ...base, number: f.currentRound } });
          });
          return toRow(r);
        }
        const number = input.number;
        const [r] = await db.$transaction([
          db.round.create({ data: { ...base, number } }),
          db.federation.updateMany({
            where: { id: federationId, currentRound: { lt: number } },
            data: { currentRound: number },
          }),
        ]);
        return toRow(r);
      } catch (e) {
        const code = prismaCode(e);
        if (code === 'P2025' || code === 'P2003') {
          throw new DbError('MUTUA_ERR_DB_NOT_FOUND', `federation ${federationId} does not exist`);
        }
        if (code === 'P2002') {
          throw new DbError(
            'MUTUA_ERR_DB_CONFLICT',
            `round ${input.number} of federation ${federationId} exists`,
          );
        }
        throw e;
      }
    });
  }

  get(federationId: string, number: number): Promise<RoundRow | null> {
    return this.ctx.unit(async (db) => {
      const r = await db.round.findUnique({ where: { federationId_number: { federationId, number } } });
      return r ? toRow(r) : null;
    });
  }

  /** The highest-numbered round, or null. */
  latest(federationId: string): Promise<RoundRow | null> {
    return this.ctx.unit(async (db) => {
      const r = await db.round.findFirst({ where: { federationId }, orderBy: { number: 'desc' } });
      return r ? toRow(r) : null;
    });
  }

  /** Ascending by number, from `fromNumber` (inclusive); `limit` newest-last rows. */
  list(
    federationId: string,
    options: { fromNumber?: number; status?: RoundStatus; limit?: number } = {},
  ): Promise<RoundRow[]> {
    return this.ctx.unit(async (db) => {
      const where: Prisma.RoundWhereInput = { federationId };
      if (options.fromNumber !== undefined) where.number = { gte: options.fromNumber };
      if (options.status) where.status = options.status;
      const rows = await db.round.findMany({ where, orderBy: { number: 'asc' }, take: options.limit });
      return rows.map(toRow);
    });
  }

  /** Closes (or cancels) an open round. Closing a closed round again changes nothing. */
  close(federationId: string, number: number, input: CloseRoundInput): Promise<RoundRow> {
    return this.ctx.unit(async (db) => {
      const where = { federationId_number: { federationId, number } };
      const data: Prisma.RoundUpdateInput = {
        status: input.status ?? 'closed',
        closeReason: input.reason,
        closedAt: input.closedAt ?? new Date(),
        aggregationMs: input.aggregationMs ?? null,
      };
      if (input.submissionCount !== undefined) data.submissionCount = input.submissionCount;
      await db.round.updateMany({ where: { federationId, number, status: 'open' }, data });
      const r = await db.round.findUnique({ where });
      if (!r)
        throw new DbError(
          'MUTUA_ERR_DB_NOT_FOUND',
          `round ${number} of federation ${federationId} does not exist`,
        );
      return toRow(r);
    });
  }
}
