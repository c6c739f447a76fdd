import { asUint8Array, toBytesInput } from './bytes.ts';
import type { DbContext } from './context.ts';
import { DbError, prismaCode } from './errors.ts';
import { sha256Hex } from './token-hash.ts';

/**
 * Public sets live in the database as Bytes (not in the data directory): a PostgreSQL
 * deployment then has a single thing to back up and no shared volume, and the server
 * caches the bytes in memory anyway. Metadata reads never load them.
 */
export interface PublicSetRow {
  /** Lowercase hex SHA-256 of the bytes. */
  id: string;
  byteLength: number;
  sampleCount: number;
  shape: number[];
  format: string;
  source: string;
  createdAt: Date;
}

export interface PutPublicSetInput {
  data: Uint8Array;
  sampleCount: number;
  shape: readonly number[];
  format: string;
  source: string;
}

const META = {
  id: true,
  byteLength: true,
  sampleCount: true,
  shape: true,
  format: true,
  source: true,
  createdAt: true,
} as const;

type MetaRecord = { [K in keyof PublicSetRow]: K extends 'shape' ? unknown : PublicSetRow[K] };

function toRow(r: MetaRecord): PublicSetRow {
  return { ...r, shape: r.shape as number[] };
}

export class PublicSetsRepository {
  constructor(private readonly ctx: DbContext) {}

  /** Content-addressed and idempotent: the same bytes again return the existing row (created=false). */
  put(input: PutPublicSetInput): Promise<{ publicSet: PublicSetRow; created: boolean }> {
    const id = sha256Hex(input.data);
    if (!input.shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new DbError(
        'MUTUA_ERR_DB_INVALID',
        `public set shape ${JSON.stringify(input.shape)} is not positive integers`,
      );
    }
    return this.ctx.unit(async (db) => {
      const existing = await db.publicSet.findUnique({ where: { id }, select: META });
      if (existing) return { publicSet: toRow(existing), created: false };
      try {
        const created = await db.publicSet.create({
          data: {
            id,
            byteLength: input.data.byteLength,
            sampleCount: input.sampleCount,
            shape: [...input.shape],
            format: input.format,
            source: input.source,
            data: toBytesInput(input.data),
          },
          select: META,
        });
        return { publicSet: toRow(created), created: true };
      } catch (e) {
        // Another coordinator stored the same bytes meanwhile.
        if (prismaCode(e) !== 'P2002') throw e;
        const row = await db.publicSet.findUniqueOrThrow({ where: { id }, select: META });
        return { publicSet: toRow(row), created: false };
      }
    });
  }

  get(id: string): Promise<PublicSetRow | null> {
    return this.ctx.unit(async (db) => {
      const r = await db.publicSet.findUnique({ where: { id }, select: META });
      return r ? toRow(r) : null;
    });
  }

  /** Metadata of the sets with these ids, in one query (missing ids are left out). */
  getMany(ids: readonly string[]): Promise<PublicSetRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.ctx.unit(async (db) => {
      const rows = await db.publicSet.findMany({ where: { id: { in: [...new Set(ids)] } }, select: META });
      return rows.map(toRow);
    });
  }

  getData(id: string): Promise<Uint8Array | null> {
    return this.ctx.unit(async (db) => {
      const r = await db.publicSet.findUnique({ where: { id }, select: { data: true } });
      return r ? asUint8Array(r.data) : null;
    });
  }

  list(): Promise<PublicSetRow[]> {
    return this.ctx.unit(async (db) => {
      const rows = await db.publicSet.findMany({ select: META, orderBy: { createdAt: 'asc' } });
      return rows.map(toRow);
    });
  }
}
