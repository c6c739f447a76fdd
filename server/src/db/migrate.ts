/**
 * Applies prisma/<provider>/migrations at start, with no Prisma CLI and no engine.
 *
 * Bookkeeping is Prisma's own `_prisma_migrations` table (same columns, same sha256
 * checksum of migration.sql), so `prisma migrate status` / `migrate deploy` and this
 * runner agree about what is applied. Unlike `migrate deploy`, all pending migrations run
 * in ONE transaction: a failure leaves the database exactly as it was (PostgreSQL and
 * SQLite both have transactional DDL). Concurrent starts are serialized: PostgreSQL by
 * Prisma Migrate's advisory lock key, SQLite by BEGIN IMMEDIATE (the write lock).
 *
 * Refuses to start when the database holds a failed migration (fix it, then
 * `prisma migrate resolve`) or migrations this build does not know (a newer coordinator
 * migrated it: running older code against it is unsafe).
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ensureDirectory } from '../ensure-directory.ts';
import type { DbProvider } from './context.ts';
import { DbError } from './errors.ts';
import { sqliteDateTime } from './sqlite-format.ts';

export interface MigrationFile {
  /** Directory name, e.g. 20261127210336_init (they sort by time). */
  readonly name: string;
  readonly sql: string;
  /** Lowercase hex sha256 of migration.sql, as Prisma computes it. */
  readonly checksum: string;
}

export interface MigrationResult {
  /** Applied by this call, in order. */
  readonly applied: string[];
  /** Already applied before this call. */
  readonly alreadyApplied: string[];
  /** Applied earlier but migration.sql changed since (not re-run; worth a warning). */
  readonly modified: string[];
}

/** prisma/<provider>/migrations in this checkout (or the image, which keeps its layout). */
export function defaultMigrationsDir(provider: DbProvider): string {
  return fileURLToPath(new URL(`../../../prisma/${provider}/migrations/`, import.meta.url));
}

export function readMigrations(dir: string): MigrationFile[] {
  if (!existsSync(dir)) {
    throw new DbError('MUTUA_ERR_DB_MIGRATION', `migrations directory ${dir} does not exist`);
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const file = path.join(dir, name, 'migration.sql');
      if (!existsSync(file)) throw new DbError('MUTUA_ERR_DB_MIGRATION', `${file} is missing`);
      const bytes = readFileSync(file);
      return {
        name,
        sql: bytes.toString('utf8'),
        checksum: createHash('sha256').update(bytes).digest('hex'),
      };
    });
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

/** Which migrations to run, after refusing the states Prisma Migrate refuses too. */
function plan(migrations: MigrationFile[], rows: AppliedRow[]) {
  const failed = rows.filter((r) => r.finished_at == null && r.rolled_back_at == null);
  if (failed.length > 0) {
    throw new DbError(
      'MUTUA_ERR_DB_MIGRATION',
      `migration ${failed.map((r) => r.migration_name).join(', ')} failed earlier and is not resolved; ` +
        'repair the database, then run `npx prisma migrate resolve --applied|--rolled-back <name>`',
    );
  }
  const applied = new Map(
    rows.filter((r) => r.finished_at != null).map((r) => [r.migration_name, r.checksum]),
  );
  const known = new Set(migrations.map((m) => m.name));
  const unknown = [...applied.keys()].filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new DbError(
      'MUTUA_ERR_DB_MIGRATION',
      `the database has migrations this build does not know (${unknown.join(', ')}): it was migrated by a newer version`,
    );
  }
  return {
    pending: migrations.filter((m) => !applied.has(m.name)),
    alreadyApplied: migrations.filter((m) => applied.has(m.name)).map((m) => m.name),
    modified: migrations
      .filter((m) => applied.has(m.name) && applied.get(m.name) !== m.checksum)
      .map((m) => m.name),
  };
}

// Prisma Migrate's tables, byte for byte, so its CLI reads what this runner writes.
const SQLITE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

const POSTGRES_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Prisma Migrate's advisory lock key, so this runner and `prisma migrate deploy` exclude each other. */
const PRISMA_ADVISORY_LOCK = 72707369;

/** Now, as Prisma writes timestamps into SQLite (sqlite-format.ts). */
function sqliteNow(): string {
  return sqliteDateTime(new Date());
}

/**
 * Migrates the SQLite file (creating it and its directory), switching it to WAL mode,
 * which is persistent in the file.
 */
export function migrateSqlite(file: string, migrations: MigrationFile[]): MigrationResult {
  ensureDirectory(path.dirname(path.resolve(file)));
  const db = new Database(file, { timeout: 15_000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // Prisma's table-redefinition migrations drop and recreate tables: with enforcement on,
    // that would cascade. Integrity is checked with foreign_key_check before COMMIT instead.
    db.pragma('foreign_keys = OFF');
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(SQLITE_TABLE);
      const rows = db
        .prepare('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"')
        .all() as AppliedRow[];
      const { pending, alreadyApplied, modified } = plan(migrations, rows);
      const record = db.prepare(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
      );
      for (const m of pending) {
        const startedAt = sqliteNow();
        try {
          db.exec(m.sql);
        } catch (e) {
          throw new DbError('MUTUA_ERR_DB_MIGRATION', `migration ${m.name} failed: ${(e as Error).message}`, {
            cause: e,
          });
        }
        record.run(randomUUID(), m.checksum, sqliteNow(), m.name, startedAt);
      }
      const broken = db.prepare('PRAGMA foreign_key_check').all();
      if (broken.length > 0) {
        throw new DbError(
          'MUTUA_ERR_DB_MIGRATION',
          `migrations left ${broken.length} rows violating foreign keys`,
        );
      }
      db.exec('COMMIT');
      return { applied: pending.map((m) => m.name), alreadyApplied, modified };
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
  } finally {
    db.close();
  }
}

export async function migratePostgres(url: string, migrations: MigrationFile[]): Promise<MigrationResult> {
  // Loaded here: `pg` takes a tenth of a start, and the embedded default never needs it.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    try {
      // Held until COMMIT/ROLLBACK; a second coordinator starting now waits here.
      await client.query('SELECT pg_advisory_xact_lock($1)', [PRISMA_ADVISORY_LOCK]);
      await client.query(POSTGRES_TABLE);
      const { rows } = await client.query<AppliedRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
      );
      const { pending, alreadyApplied, modified } = plan(migrations, rows);
      for (const m of pending) {
        const startedAt = new Date();
        try {
          await client.query(m.sql);
        } catch (e) {
          throw new DbError('MUTUA_ERR_DB_MIGRATION', `migration ${m.name} failed: ${(e as Error).message}`, {
            cause: e,
          });
        }
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
           VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, $4, 1)`,
          [randomUUID(), m.checksum, m.name, startedAt],
        );
      }
      await client.query('COMMIT');
      return { applied: pending.map((m) => m.name), alreadyApplied, modified };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  } finally {
    await client.end();
  }
}
