import { asUint8Array, toBytesInput } from './bytes.ts';
import type { DbContext } from './context.ts';
import { DbError, prismaCode } from './errors.ts';
import type { Consensus } from './generated/sqlite/client.ts';
import type { PayloadKind } from './submissions-repository.ts';

/**
 * A published consensus: the encoded aggregate of predictions (mutual) or the global
 * weights (fedavg). Stored so that a restarted coordinator serves targets at once.
 */
export interface ConsensusInput {
  federationId: string;
  version: number;
  kind?: PayloadKind;
  /** Round numbers whose submissions went into it. */
  sourceVersions: readonly number[];
  encoding?: string;
  rows?: number;
  classes?: number;
  contributors?: number;
  payload: Uint8Array;
  createdAt?: Date;
  /**
   * The submissions it aggregated, by participant and round: the ones not yet marked get
   * this version as their consensusVersion, in the same transaction (what recovery reads).
   */
  included?: readonly { participantId: string; version: number }[];
}

export interface ConsensusMeta {
  federationId: string;
  version: number;
  kind: PayloadKind;
  sourceVersions: number[];
  encoding: string;
  rows: number;
  classes: number;
  contributors: number;
  createdAt: Date;
}

export interface ConsensusRow extends ConsensusMeta {
  payload: Uint8Array;
}

function meta(c: Omit<Consensus, 'payload'>): ConsensusMeta {
  return { ...c, sourceVersions: c.sourceVersions as number[] };
}

function toRow(c: Consensus): ConsensusRow {
  return { ...meta(c), payload: asUint8Array(c.payload) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

export class ConsensusRepository {
  constructor(private readonly ctx: DbContext) {}

  /**
   * Stores a version and raises federation.consensusVersion to it, in one committed
   * transaction. Saving the same version again with the same bytes is a no-op (a replay
   * after restart); with different bytes it is a conflict.
   */
  save(input: ConsensusInput): Promise<ConsensusRow> {
    const { federationId, version } = input;
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new DbError(
        'MUTUA_ERR_DB_INVALID',
        `consensus version must be a positive integer, not ${version}`,
      );
    }
    return this.ctx.unit(async (db) => {
      try {
        const [c] = await db.$transaction([
          // Not read back: the bytes were just written (about 40 KB a version at 1,000 rows).
          db.consensus.create({
            omit: { payload: true },
            data: {
              federationId,
              version,
              kind: input.kind ?? 'predictions',
              sourceVersions: [...input.sourceVersions],
              encoding: input.encoding ?? 'float32',
              rows: input.rows ?? 0,
              classes: input.classes ?? 0,
              contributors: input.contributors ?? 0,
              payload: toBytesInput(input.payload),
              createdAt: input.createdAt ?? new Date(),
            },
          }),
          db.federation.updateMany({
            where: { id: federationId, consensusVersion: { lt: version } },
            data: { consensusVersion: version },
          }),
          ...byRound(input.included ?? []).map(([roundNumber, participantIds]) =>
            db.submission.updateMany({
              where: {
                federationId,
                roundNumber,
                participantId: { in: participantIds },
                consensusVersion: null,
              },
              data: { consensusVersion: version },
            }),
          ),
        ]);
        return { ...meta(c), payload: input.payload };
      } catch (e) {
        const code = prismaCode(e);
        if (code === 'P2003')
          throw new DbError('MUTUA_ERR_DB_NOT_FOUND', `federation ${federationId} does not exist`);
        if (code === 'P2002') {
          const existing = await db.consensus.findUnique({
            where: { federationId_version: { federationId, version } },
          });
          if (existing && sameBytes(existing.payload, input.payload)) return toRow(existing);
          throw new DbError(
            'MUTUA_ERR_DB_CONFLICT',
            `consensus version ${version} of ${federationId} exists with other bytes`,
          );
        }
        throw e;
      }
    });
  }

  /** The highest version, with its bytes, or null before the first consensus. */
  latest(federationId: string): Promise<ConsensusRow | null> {
    return this.ctx.unit(async (db) => {
      const c = await db.consensus.findFirst({ where: { federationId }, orderBy: { version: 'desc' } });
      return c ? toRow(c) : null;
    });
  }

  /** The highest version without its bytes (what recovery and retention need after every publish). */
  latestMeta(federationId: string): Promise<ConsensusMeta | null> {
    return this.ctx.unit(async (db) => {
      const c = await db.consensus.findFirst({
        where: { federationId },
        orderBy: { version: 'desc' },
        omit: { payload: true },
      });
      return c ? meta(c) : null;
    });
  }

  get(federationId: string, version: number): Promise<ConsensusRow | null> {
    return this.ctx.unit(async (db) => {
      const c = await db.consensus.findUnique({ where: { federationId_version: { federationId, version } } });
      return c ? toRow(c) : null;
    });
  }

  /** The newest `limit` versions with their bytes, newest first (the global student's targets). */
  recent(federationId: string, limit: number): Promise<ConsensusRow[]> {
    return this.ctx.unit(async (db) => {
      const rows = await db.consensus.findMany({
        where: { federationId },
        orderBy: { version: 'desc' },
        take: limit,
      });
      return rows.map(toRow);
    });
  }
}

/** The included submissions' participants per round: one UPDATE each. */
function byRound(included: readonly { participantId: string; version: number }[]): [number, string[]][] {
  const rounds = new Map<number, string[]>();
  for (const c of included) {
    const ids = rounds.get(c.version) ?? [];
    ids.push(c.participantId);
    rounds.set(c.version, ids);
  }
  return [...rounds];
}
