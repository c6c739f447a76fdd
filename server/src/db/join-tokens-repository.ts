import type { DbContext } from './context.ts';
import { DbError, prismaCode } from './errors.ts';
import type { JoinToken } from './generated/sqlite/client.ts';

/** Tokens are looked up by their SHA-256 (token-hash.ts); the token itself is never stored. */
export interface JoinTokenRow {
  id: string;
  federationId: string;
  tokenHash: string;
  label: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  /** Participants this token may register; null = no limit. */
  maxUses: number | null;
}

export interface CreateJoinTokenInput {
  federationId: string;
  tokenHash: string;
  label?: string;
  expiresAt?: Date | null;
  maxUses?: number | null;
}

function toRow(t: JoinToken): JoinTokenRow {
  return { ...t };
}

/** Whether the token admits someone at `now`. */
export function isUsable(t: JoinTokenRow, now: Date = new Date()): boolean {
  return t.revokedAt === null && (t.expiresAt === null || t.expiresAt.getTime() > now.getTime());
}

export class JoinTokensRepository {
  constructor(private readonly ctx: DbContext) {}

  create(input: CreateJoinTokenInput): Promise<JoinTokenRow> {
    if (!/^[0-9a-f]{64}$/.test(input.tokenHash)) {
      throw new DbError(
        'MUTUA_ERR_DB_INVALID',
        'tokenHash must be a lowercase hex SHA-256 (use hashToken())',
      );
    }
    return this.ctx.unit(async (db) => {
      try {
        const t = await db.joinToken.create({
          data: {
            federationId: input.federationId,
            tokenHash: input.tokenHash,
            label: input.label ?? '',
            expiresAt: input.expiresAt ?? null,
            maxUses: input.maxUses ?? null,
          },
        });
        return toRow(t);
      } catch (e) {
        if (prismaCode(e) === 'P2003') {
          throw new DbError('MUTUA_ERR_DB_NOT_FOUND', `federation ${input.federationId} does not exist`);
        }
        if (prismaCode(e) === 'P2002')
          throw new DbError('MUTUA_ERR_DB_CONFLICT', 'a token with that hash exists');
        throw e;
      }
    });
  }

  /** The token with this hash whatever its state (check isUsable()), or null. */
  findByHash(tokenHash: string): Promise<JoinTokenRow | null> {
    return this.ctx.unit(async (db) => {
      const t = await db.joinToken.findUnique({ where: { tokenHash } });
      return t ? toRow(t) : null;
    });
  }

  /** findByHash() for many hashes in one query; unknown hashes are absent. */
  findManyByHashes(tokenHashes: readonly string[]): Promise<JoinTokenRow[]> {
    if (tokenHashes.length === 0) return Promise.resolve([]);
    return this.ctx.unit(async (db) => {
      const rows = await db.joinToken.findMany({ where: { tokenHash: { in: [...tokenHashes] } } });
      return rows.map(toRow);
    });
  }

  /** get() for many ids in one query; unknown ids are absent. */
  getMany(ids: readonly string[]): Promise<JoinTokenRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.ctx.unit(async (db) => {
      const rows = await db.joinToken.findMany({ where: { id: { in: [...ids] } } });
      return rows.map(toRow);
    });
  }

  get(id: string): Promise<JoinTokenRow | null> {
    return this.ctx.unit(async (db) => {
      const t = await db.joinToken.findUnique({ where: { id } });
      return t ? toRow(t) : null;
    });
  }

  /** Newest first. */
  listForFederation(federationId: string): Promise<JoinTokenRow[]> {
    return this.ctx.unit(async (db) => {
      const rows = await db.joinToken.findMany({
        where: { federationId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      });
      return rows.map(toRow);
    });
  }

  /** Idempotent: revoking twice keeps the first revokedAt. Null when there is no such token. */
  revoke(id: string, at: Date = new Date()): Promise<JoinTokenRow | null> {
    return this.ctx.unit(async (db) => {
      await db.joinToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
      const t = await db.joinToken.findUnique({ where: { id } });
      return t ? toRow(t) : null;
    });
  }

  markUsed(id: string | readonly string[], at: Date = new Date()): Promise<void> {
    const ids = typeof id === 'string' ? [id] : [...id];
    return this.ctx.unit(async (db) => {
      await db.joinToken.updateMany({ where: { id: { in: ids } }, data: { lastUsedAt: at } });
    });
  }
}
