/** Stable codes for persistence failures (in the spirit of fastify's FST_ERR_*). */
export type DbErrorCode =
  | 'MUTUA_ERR_DB_CONFIG'
  | 'MUTUA_ERR_DB_MIGRATION'
  | 'MUTUA_ERR_DB_NOT_FOUND'
  | 'MUTUA_ERR_DB_CONFLICT'
  | 'MUTUA_ERR_DB_INVALID';

export class DbError extends Error {
  override readonly name = 'DbError';
  constructor(
    readonly code: DbErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Prisma's error code (P2002 unique violation, P2003 foreign key, P2025 not found), if any. */
export function prismaCode(e: unknown): string | undefined {
  if (
    typeof e === 'object' &&
    e !== null &&
    'code' in e &&
    typeof e.code === 'string' &&
    /^P\d{4}$/.test(e.code)
  ) {
    return e.code;
  }
  return undefined;
}
