import type { DbContext, Prisma } from './context.ts';
import { DbError, prismaCode } from './errors.ts';
import type { Federation } from './generated/sqlite/client.ts';

export type FederationStatus = 'active' | 'paused' | 'deleted';

export interface FederationRow {
  id: string;
  name: string;
  /** As stored; the server validates it (settings may predate the running version). */
  settings: Record<string, unknown>;
  status: FederationStatus;
  publicSetId: string | null;
  /** Highest round number opened (0 = none). */
  currentRound: number;
  /** Highest consensus version stored (0 = none). */
  consensusVersion: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export interface CreateFederationInput {
  name: string;
  /** Any JSON-serializable object (the coordinator's FederationSettings). */
  settings: object;
  publicSetId?: string | null;
}

function toRow(f: Federation): FederationRow {
  return {
    id: f.id,
    name: f.name,
    settings: f.settings as Record<string, unknown>,
    status: f.status,
    publicSetId: f.publicSetId,
    currentRound: f.currentRound,
    consensusVersion: f.consensusVersion,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    deletedAt: f.deletedAt,
  };
}

function json(value: object): Prisma.InputJsonValue {
  // A JSON round trip drops undefined and rejects what JSON cannot hold, as the column will.
  return JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
}

function notFound(e: unknown, id: string): never {
  if (prismaCode(e) === 'P2025')
    throw new DbError('MUTUA_ERR_DB_NOT_FOUND', `federation ${id} does not exist`);
  if (prismaCode(e) === 'P2003')
    throw new DbError('MUTUA_ERR_DB_NOT_FOUND', 'that public set does not exist');
  throw e;
}

export class FederationsRepository {
  constructor(private readonly ctx: DbContext) {}

  create(input: CreateFederationInput): Promise<FederationRow> {
    return this.ctx.unit(async (db) => {
      try {
        const f = await db.federation.create({
          data: { name: input.name, settings: json(input.settings), publicSetId: input.publicSetId ?? null },
        });
        return toRow(f);
      } catch (e) {
        return notFound(e, '(new)');
      }
    });
  }

  get(id: string): Promise<FederationRow | null> {
    return this.ctx.unit(async (db) => {
      const f = await db.federation.findUnique({ where: { id } });
      return f ? toRow(f) : null;
    });
  }

  /** Oldest first. Deleted federations only when asked. */
  list(options: { status?: FederationStatus; includeDeleted?: boolean } = {}): Promise<FederationRow[]> {
    return this.ctx.unit(async (db) => {
      const where: Prisma.FederationWhereInput = options.status
        ? { status: options.status }
        : options.includeDeleted
          ? {}
          : { status: { not: 'deleted' } };
      const rows = await db.federation.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      return rows.map(toRow);
    });
  }

  /**
   * Pause, resume or delete. Deleting is soft (history stays) and final: the change is
   * conditional on the row not being deleted, so a pause that races a delete cannot bring
   * the federation back. MUTUA_ERR_DB_NOT_FOUND when it is deleted or does not exist.
   */
  setStatus(id: string, status: FederationStatus, at: Date = new Date()): Promise<FederationRow> {
    return this.ctx.unit(async (db) => {
      const { count } = await db.federation.updateMany({
        where: { id, status: { not: 'deleted' } },
        data: { status, deletedAt: status === 'deleted' ? at : null },
      });
      if (count === 0) {
        const exists = await db.federation.findUnique({ where: { id }, select: { id: true } });
        throw new DbError(
          'MUTUA_ERR_DB_NOT_FOUND',
          exists ? `federation ${id} was deleted` : `federation ${id} does not exist`,
        );
      }
      return toRow(await db.federation.findUniqueOrThrow({ where: { id } }));
    });
  }
}
